#!/usr/bin/python3
# test_docs_extract.py: docs_extract.py rebuilds code from text laid out
# as MPIRE's flattened documentation is (indentation lost, top-level lines
# joined to the line before).  The inputs here are our own.
#
# SPDX-License-Identifier: MIT

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from docs_extract import find_examples  # noqa: E402

failures = []


def check(name, text, want, **more):
    examples = find_examples(text)
    got = [e.source(more.get('hints')) for e in examples]
    ok = got == want
    for key, value in more.items():
        if key == 'outputs':
            ok = ok and [e.documented_outputs() for e in examples] == value
        elif key == 'shown':
            ok = ok and [e.output_after for e in examples] == value
        elif key == 'valid':
            ok = ok and [e.valid for e in examples] == value
        elif key == 'names':
            ok = ok and [e.name for e in examples] == value
    print('%s - %s' % ('ok' if ok else 'not ok', name))
    if not ok:
        failures.append(name)
        for source in got:
            print('#   ' + source.replace('\n', '\n#   '))


check('top-level lines joined after a function; return ends it',
      'Some prose comes first.\n'
      "import os def join(x):\n"
      "return os.sep + x y = join('a') # The joined path print(y)\n"
      'More prose follows.\n',
      ["import os\ndef join(x):\n    return os.sep + x\ny = join('a')  # The joined path\n"
       "print(y)\n"])

check('a comment goes on after a glue word, ends before code',
      'Prose.\n'
      'pool.close() # or call stop() which is short for close() # Then free it del pool\n',
      ['pool.close()  # or call stop() which is short for close()\n# Then free it\ndel pool\n'])

check('else matches its if; a lone word is no statement',
      'Prose.\n'
      'for i in range(3):\n'
      '# Count them up\n'
      'if i:\n'
      'print(i)\n'
      'else:\n'
      "print('zero') done = True\n",
      ["for i in range(3):\n    # Count them up\n    if i:\n        print(i)\n    else:\n"
       "        print('zero')\ndone = True\n"])

check('a method beside the one before; open brackets go on',
      'Prose.\n'
      'class Box:\n'
      'def get(self):\n'
      'return 1\n'
      'def put(self, a,\n'
      'b):\n'
      'return a x = Box()\n',
      ['class Box:\n    def get(self):\n        return 1\n    def put(self, a,\n'
       '            b):\n        return a\nx = Box()\n'])

check('hints set a level the text cannot tell',
      'Prose.\n'
      'def add(state, x):\n'
      "if 'n' not in state:\n"
      "state['n'] = 0\n"
      "state['n'] += x\n",
      ["def add(state, x):\n    if 'n' not in state:\n        state['n'] = 0\n"
       "    state['n'] += x\n"], hints={3: 1})

check("'# Output:' comments, also over several lines; a shown block",
      'Prose.\n'
      "print(n) # Output, e.g.: [1, 2]\n"
      "print(d) # Output: {'a': 1,\n"
      "'b': 2}\n"
      'which will output:\n'
      '[1, 2] [3]\n'
      'Prose again.\n',
      ['print(n)  # Output, e.g.: [1, 2]\nprint(d)  # Output: {\'a\': 1, \'b\': 2}\n'],
      outputs=[[(False, '[1, 2]'), (True, "{'a': 1,\n'b': 2}")]], shown=['[1, 2] [3]'])

check("pseudo-code with '...' holes is not valid",
      'Prose.\n'
      'with open_it() as thing:\n'
      '... = thing.read()\n'
      'Prose.\n',
      ['with open_it() as thing:\n    ... = thing.read()\n'], valid=[False])

check('sections name and number the examples',
      'Boxes\u00b6\n'
      'Prose.\n'
      'box = make()\n'
      'More prose.\n'
      'box.close()\n'
      'Contents\u00b6\n'
      'Prose.\n'
      'box.open()\n',
      ['box = make()\n', 'box.close()\n', 'box.open()\n'],
      names=['Boxes #1', 'Boxes #2', 'Boxes #3'])

examples = find_examples('Prose.\nx = make()\n')
again = find_examples('Other prose.\nx  =  make()\n')
same = examples[0].fingerprint == again[0].fingerprint
print('%s - a fingerprint ignores spacing and the prose around' % ('ok' if same else 'not ok'))
if not same:
    failures.append('fingerprint')

print('%d failed' % len(failures))
sys.exit(1 if failures else 0)
