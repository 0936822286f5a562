#!/usr/bin/env python3
"""Checks the library's layout: no include cycle between its files, and
no source file over MAX_LINES lines.

A source file and the headers it implements are one unit: mpire-foo.c
with mpire-foo.h and mpire-foo-private.h, and with any other header
whose functions mpire-foo.c defines (a header belongs to the file that
defines every function it declares that is defined at all; any other
header, to the file its name gives). A unit depends on another when one of its
files includes one of the other's headers. Dependencies must point one
way: a cycle between units is reported with the includes that make it.

Usage: check-layout.py [LIBRARY_DIR]   (default: mpire-glib beside this
script's folder). Exits 1 on any finding.
"""

import os
import re
import sys

MAX_LINES = 1500
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)


def unit_of(name):
    stem = re.sub(r'\.(c|h|h\.in)$', '', name)
    return re.sub(r'-private$', '', stem)


DEFINITION = re.compile(r'^([a-z_][a-z0-9_]*) \(', re.MULTILINE)
DECLARATION = re.compile(r'\b(mpire_[a-z0-9_]+)\s*\(')


def owners(directory, files, texts):
    """The unit each file belongs to."""
    defined_in = {}
    for name in files:
        if name.endswith('.c'):
            for function in DEFINITION.findall(texts[name]):
                defined_in[function] = unit_of(name)
    owner = {}
    for name in files:
        owner[name] = unit_of(name)
        if name.endswith('.c'):
            continue
        votes = {}
        for function in set(DECLARATION.findall(texts[name])):
            if function in defined_in:
                votes[defined_in[function]] = votes.get(defined_in[function], 0) + 1
        if len(votes) == 1:
            owner[name] = next(iter(votes))
    return owner


def read_graph(directory):
    files = sorted(f for f in os.listdir(directory) if re.search(r'\.(c|h|h\.in)$', f))
    texts = {}
    for name in files:
        with open(os.path.join(directory, name), encoding='utf-8') as f:
            texts[name] = f.read()
    owner = owners(directory, files, texts)
    known = set(files)
    edges = {}  # unit -> {unit: [(file, header)]}
    for name in files:
        text = texts[name]
        source = owner[name]
        edges.setdefault(source, {})
        for header in INCLUDE.findall(text):
            if header not in known:
                continue  # generated (mpire-enum-types.h) or config.h
            target = owner[header]
            if target != source:
                edges[source].setdefault(target, []).append((name, header))
    return files, edges


def cycles(edges):
    """Strongly connected components of more than one unit (Tarjan)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for succ in edges.get(node, {}):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    directory = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, '..', 'mpire-glib')
    files, edges = read_graph(directory)
    problems = 0

    for component in cycles(edges):
        problems += 1
        members = set(component)
        print(f'include cycle between {len(component)} units: {", ".join(component)}')
        for source in component:
            for target, includes in sorted(edges[source].items()):
                if target in members:
                    for name, header in includes:
                        print(f'  {name} includes {header}')

    for name in files:
        if not name.endswith('.c'):
            continue
        with open(os.path.join(directory, name), encoding='utf-8') as f:
            n_lines = sum(1 for _ in f)
        if n_lines > MAX_LINES:
            problems += 1
            print(f'{name} has {n_lines} lines, more than {MAX_LINES}')

    units = len(edges)
    links = sum(len(targets) for targets in edges.values())
    if problems:
        print(f'{problems} problem(s) in {units} units')
        return 1
    print(f'{units} units, {links} dependencies between them, no cycle; '
          f'no source file over {MAX_LINES} lines')
    return 0


if __name__ == '__main__':
    sys.exit(main())
