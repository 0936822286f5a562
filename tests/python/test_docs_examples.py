#!/usr/bin/python3
# test_docs_examples.py: runs every Python example of MPIRE's documentation
# against mpire_glib, with only the import changed, and checks the output
# the documentation shows.
#
# Usage: test_docs_examples.py DOCS-TEXT [NAME-OR-FINGERPRINT ...]
#
# The examples are read from the documentation text at run time (see
# docs_extract.py); docs_examples_table.py holds what the documentation
# leaves out (definitions the fragments use) and the examples that cannot
# run as they stand, each with its reason.
#
# SPDX-License-Identifier: MIT

import ast
import io
import os
import re
import subprocess
import sys
import tempfile
import tokenize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import docs_extract  # noqa: E402
from docs_examples_table import EXAMPLES, NOT_RUNNABLE  # noqa: E402

MARK = '@@docs-example@@'
EXPECTS_ERROR = re.compile(r'\b(will|would) (raise|fail)\b(?:\s+an?\s+(\w+))?', re.I)
WARNS = re.compile(r'\bwill issue a warning\b', re.I)
SHOULD_BE = re.compile(r'results should be:?\s*(\[.*\])')
DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)

HARNESS = '''\
def _docs_outcome(n, error=None):
    import sys
    sys.stdout.flush()
    print(%r, n, 'no-error' if error is None else type(error).__name__, flush=True)
''' % MARK


def change_import(source):
    """mpire becomes mpire_glib in the imports, and only there."""
    source = re.sub(r'^(\s*)from mpire(?=[.\s])', r'\1from mpire_glib', source, flags=re.M)
    # 'import mpire.x' binds the name mpire: keep that name bound.
    return re.sub(r'^(\s*)import mpire((?:\.\w+)*)\s*$',
                  lambda m: '%simport mpire_glib%s, mpire_glib as mpire' % (m.group(1), m.group(2))
                  if m.group(2) else '%simport mpire_glib as mpire' % m.group(1),
                  source, flags=re.M)


def _comments(source):
    """(comment, line, column, line of the code after it) for each comment."""
    found = []
    pending = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            pending.append(tok)
        elif tok.type in (tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING):
            found += [(c.string, c.start[0], c.start[1], tok.start[0]) for c in pending]
            pending = []
    return found + [(c.string, c.start[0], c.start[1], None) for c in pending]


def build_script(example, entry):
    """The program run for one example: the harness, the table's prelude,
    the example (import changed) and the table's epilogue.  Statements
    that are not definitions run under `if __name__ == '__main__':` (as a
    spawn start method needs; the documentation leaves it out), and those
    the documentation says raise run in a try that reports what they did."""
    source = change_import(example.source(entry.get('hints')))
    tree = ast.parse(source)
    lines = source.splitlines()
    expected = {}
    for text, _line, _col, code_line in _comments(source):
        m = EXPECTS_ERROR.search(text)
        if m and code_line is not None and not entry.get('no_error_expected'):
            expected[code_line] = m.group(3) if m.group(3) and m.group(3)[0].isupper() else ''
    guarded = any(isinstance(s, ast.If) and '__name__' in ast.unparse(s.test) for s in tree.body)
    out = [HARNESS, entry.get('prelude', ''), '# --- the example ---']
    checks = []
    done = 0
    for statement in tree.body:
        first = statement.lineno if not getattr(statement, 'decorator_list', None) \
            else statement.decorator_list[0].lineno
        out += lines[done:first - 1]
        body = lines[first - 1:statement.end_lineno]
        done = statement.end_lineno
        raises = [name for line, name in expected.items() if first <= line <= done]
        if raises:
            n = len(checks)
            checks.append(raises[0])
            body = (['try:'] + ['    ' + b for b in body] +
                    ['except BaseException as _docs_error:',
                     '    _docs_outcome(%d, _docs_error)' % n,
                     'else:', '    _docs_outcome(%d)' % n])
        if not isinstance(statement, DEFINITIONS) and not guarded:
            body = ["if __name__ == '__main__':"] + ['    ' + b for b in body]
        out += body
    out += lines[done:]
    epilogue = entry.get('epilogue', '')
    if epilogue:
        out += ["if __name__ == '__main__':"] + ['    ' + b for b in epilogue.splitlines()]
    return '\n'.join(out) + '\n', checks


def _literal(text):
    """The value a shown output spells, read leniently (the documentation
    drops a comma now and then); None when it is not a literal."""
    for attempt in (text, re.sub(r"([\]')\"])\s+(['\"\[(])", r'\1, \2', text)):
        try:
            return ast.literal_eval(attempt.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return None


def _signature(text):
    """A shown output with its numbers and strings blurred (their values
    vary from run to run: timings, random data, ports)."""
    text = re.sub(r"'[^']*'(?!\s*:)", 'S', text)
    text = re.sub(r'-?\d+(\.\d*)?(e-?\d+)?', 'N', text)
    return re.sub(r'[\s,]', '', text)


def _same_shape(shown, actual):
    """Whether actual has the shape of shown: the same keys (more allowed),
    the same lengths, and numbers, strings, lists where shown has them."""
    if isinstance(shown, dict):
        return isinstance(actual, dict) and all(
            k in actual and _same_shape(v, actual[k]) for k, v in shown.items())
    if isinstance(shown, (list, tuple)):
        return isinstance(actual, (list, tuple)) and len(shown) == len(actual) and all(
            _same_shape(a, b) for a, b in zip(shown, actual))
    if isinstance(shown, bool) or shown is None:
        return shown == actual
    if isinstance(shown, (int, float)):
        return isinstance(actual, (int, float)) and not isinstance(actual, bool)
    return type(shown) is type(actual)


def matches(shown, actual, exact):
    """Whether an output the documentation shows matches what ran."""
    if exact:
        a, b = _literal(shown), _literal(actual)
        if a is not None and b is not None:
            return a == b
        return ' '.join(shown.split()) == ' '.join(actual.split())
    a, b = _literal(shown), _literal(actual)
    if a is not None and b is not None:
        return _same_shape(a, b)
    return _signature(shown) == _signature(actual)


def check(example, entry, checks, proc):
    """The problems found in one run; empty when it did what the
    documentation says."""
    problems = []
    stdout_lines = proc.stdout.splitlines()
    outcomes = {}
    printed = []
    for line in stdout_lines:
        if line.startswith(MARK):
            _, n, what = line.split()
            outcomes[int(n)] = what
        else:
            printed.append(line)
    raises = entry.get('raises')
    if raises:
        # The exception's line is the first one of the last traceback
        # that is not indented (notes may follow it).
        tail = proc.stderr.strip().rpartition('Traceback (most recent call last):')[2]
        raised = next((line for line in tail.splitlines() if line and not line[0].isspace()),
                      '')
        if proc.returncode == 0 or not raised.startswith(raises):
            problems.append('the documentation says it raises %s; it ended with %r' % (
                raises, raised))
    elif proc.returncode != 0:
        problems.append('exit status %d' % proc.returncode)
    for n, name in enumerate(checks):
        what = outcomes.get(n)
        if what is None or what == 'no-error':
            problems.append('statement %d: the documentation says it raises%s; %s' % (
                n + 1, ' ' + name if name else '', 'it did not' if what else 'it never ran'))
        elif name and what != name:
            problems.append('statement %d raised %s, the documentation says %s'
                            % (n + 1, what, name))
    mode = entry.get('compare', 'exact')
    documented = [(exact and mode == 'exact', text) for exact, text in example.documented_outputs()]
    documented += [(None, m.group(1)) for text, *_ in _comments(example.source(entry.get('hints')))
                   for m in [SHOULD_BE.search(text)] if m and 'results_printed' in entry]
    cursor = 0
    for exact, text in documented:
        for k in range(cursor, len(printed) + 1):
            if k == len(printed):
                problems.append('output %r not printed (printed: %r)'
                                % (text[:80], printed[cursor:]))
                break
            line = printed[k]
            if exact is None:
                ok = line.replace(' ', '').startswith(text.replace(' ', '').split('...')[0])
            else:
                ok = matches(text, line, exact)
            if ok:
                cursor = k + 1
                break
    if example.output_after is not None and mode != 'none':
        if not matches(example.output_after, '\n'.join(printed), mode == 'exact'):
            problems.append('printed %r, the documentation shows %r' % (
                '\n'.join(printed)[:300], example.output_after[:300]))
    warns = sum(1 for text, *_ in _comments(example.source(entry.get('hints')))
                if WARNS.search(text))
    if warns > len(re.findall(r'\w*Warning: ', proc.stderr)):
        problems.append('the documentation says %d statements warn; stderr has fewer warnings: %r'
                        % (warns, proc.stderr[-300:]))
    return problems


def run(example, entry, workdir):
    script, checks = build_script(example, entry)
    path = os.path.join(workdir, 'example_%s.py' % example.fingerprint)
    with open(path, 'w') as f:
        f.write(script)
    try:
        proc = subprocess.run([sys.executable, path], cwd=workdir, capture_output=True,
                              text=True, timeout=entry.get('timeout', 120))
    except subprocess.TimeoutExpired as e:
        return ['no end after %ss' % e.timeout], script, None
    return check(example, entry, checks, proc), script, proc


def main(argv):
    if len(argv) < 2 or not os.path.exists(argv[1]):
        print('SKIP: MPIRE documentation text not found (%s); it is ../shared/reference/'
              'mpire-docs.txt beside the source tree' % (argv[1] if len(argv) > 1 else '?'))
        return 77
    with open(argv[1], encoding='utf-8') as f:
        examples = docs_extract.find_examples(f.read())
    wanted = argv[2:]
    known = {e.fingerprint for e in examples}
    stale = sorted((set(EXAMPLES) | set(NOT_RUNNABLE)) - known)
    failures = ['table: %s is no example of this documentation (changed?)' % fp for fp in stale]
    counts = {'passed': 0, 'failed': 0, 'known failures': 0, 'not runnable': 0}
    print('%d examples in %s' % (len(examples), argv[1]))
    with tempfile.TemporaryDirectory(prefix='mpire-docs-') as workdir:
        for n, example in enumerate(examples, 1):
            label = '%s (%s, line %d)' % (example.name, example.fingerprint, example.first_line)
            if wanted and example.fingerprint not in wanted and example.name not in wanted:
                continue
            reason = NOT_RUNNABLE.get(example.fingerprint)
            entry = EXAMPLES.get(example.fingerprint, {})
            if reason is None and entry.get('needs_cpus', 0) > (os.cpu_count() or 1):
                reason = 'needs %d CPUs' % entry['needs_cpus']
            if reason is not None:
                counts['not runnable'] += 1
                print('ok %d - %s # SKIP not runnable: %s' % (n, label, reason))
                continue
            if not example.valid:
                problems, script, proc = ['not Python as it stands, and not listed as such'], \
                    example.source(), None
            else:
                problems, script, proc = run(example, entry, workdir)
            known = entry.get('known_failure')
            if known and problems:
                counts['known failures'] += 1
                print('not ok %d - %s # TODO known difference: %s' % (n, label, known))
                for problem in problems:
                    print('#   ' + problem[:400])
                continue
            if known:
                problems = ['passes, but the table lists it as a known failure: remove that']
            if problems:
                counts['failed'] += 1
                failures.append(label)
                print('not ok %d - %s' % (n, label))
                for problem in problems:
                    print('#   ' + problem)
                print('#   --- program:\n' + '\n'.join('#   | ' + s for s in script.splitlines()))
                if proc is not None:
                    for name, text in (('stdout', proc.stdout), ('stderr', proc.stderr)):
                        print('#   --- %s:\n' % name +
                              '\n'.join('#   | ' + s for s in text.splitlines()[-30:]))
            else:
                counts['passed'] += 1
                print('ok %d - %s' % (n, label))
            sys.stdout.flush()
    print('%d examples: %d passed, %d failed, %d known failures, %d not runnable as they stand'
          % (len(examples), counts['passed'], counts['failed'], counts['known failures'],
             counts['not runnable']))
    for failure in failures:
        print('FAILED: ' + failure)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
