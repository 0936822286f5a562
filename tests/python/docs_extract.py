# docs_extract.py: finds the Python examples in MPIRE's documentation, as
# rendered to plain text (a man page flattened to text), and rebuilds them.
#
# SPDX-License-Identifier: MIT

"""Rebuilds runnable Python from MPIRE's documentation text.

The text keeps each code line but not its indentation: a line that was
indented starts a new text line, and every line that was not indented
(blank lines included) is joined to the text line before it with a
space.  So a text line is one indented line followed by any number of
top-level lines, and this module

* finds the text lines that are Python (a run of them is one example),
* cuts each text line back into its lines, choosing the cuts that make
  every piece a Python statement (a comment ends where code starts again),
* gives each line its indentation back: one level deeper after a line
  ending with ``:``, the level of the matching header for ``else``,
  ``except`` and a method's ``def``, the function's level for a ``return``
  that ends a function, the previous level otherwise; ``hints`` override
  it where the text cannot tell.

Nothing of the documentation is stored here: it is read at run time.
"""

import ast
import hashlib
import re

__all__ = ['Example', 'find_examples']

# Words after which an English comment goes on, even when what follows
# would be Python ("an alias of stop_and_join()").
_GLUE = frozenset('''a an the of to is are be use uses using and or by for with in on at from as
than that which this will when if not no see like e.g. i.e. via into onto its your their'''.split())
_CONTINUES = re.compile(r'(else|elif|except|finally)\b')
_COMPOUND = re.compile(r'(if|elif|else|for|while|try|except|finally|with|def|class|async)\b')
_ENDS_BLOCK = re.compile(r'(return|raise|continue|break)\b')
_PAIRS = {'(': ')', '[': ']', '{': '}'}
_OUTPUT_COMMENT = re.compile(r'#\s*Output(,\s*e\.g\.)?:\s*(.*)$', re.S)


def _compiles(source):
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True


def _plausible(code):
    """Whether one complete logical line is a Python statement, and one
    that is not a lone word or number (which English also gives)."""
    code = code.strip()
    if not code or '\u00b6' in code:
        return False
    if code.endswith(':') and _COMPOUND.match(code):
        body = code + '\n    pass\n'
        if _CONTINUES.match(code):
            return (_compiles('if 1:\n    pass\n' + body)
                    or _compiles('try:\n    pass\n' + body)
                    or _compiles('for _ in ():\n    pass\n' + body))
        return _compiles(body)
    if not _compiles(code):
        return False
    for statement in ast.parse(code).body:
        if isinstance(statement, ast.Expr) and not _does_something(statement.value):
            return False
        if isinstance(statement, ast.AnnAssign) and statement.value is None:
            return False        # 'should be: [0, 1, 4, ...]'
    return True


def _does_something(value):
    """Whether an expression statement is one a program would hold: a
    call, a yield or '...' (English gives 'Square and sum', '2 and 3')."""
    if isinstance(value, ast.Constant):
        return value.value is Ellipsis
    return any(isinstance(node, (ast.Call, ast.Yield, ast.YieldFrom, ast.Await))
               for node in ast.walk(value))


def _plausible_prefix(code, stack):
    """Whether an unfinished logical line (brackets still open) can be
    the start of a statement."""
    closers = ''.join(_PAIRS[c] for c in reversed(stack))
    candidate = code.rstrip()
    for tail in (closers, closers + ':'):
        if _plausible(candidate + tail):
            return True
    if candidate.endswith(','):
        return _plausible_prefix(candidate[:-1], stack)
    return False


class _Scan:
    """Brackets and strings of one piece of code, read left to right."""

    def __init__(self, stack):
        self.stack = list(stack)

    def feed(self, text, start):
        """Yields (index, kind) for the places a line may end: 'space'
        (a space outside brackets and strings), 'comment' (a '#' outside
        strings) and 'end'; None as kind when the text is not Python."""
        i = start
        while i < len(text):
            c = text[i]
            if c in '\'"':
                quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else c
                j = i + len(quote)
                while j < len(text) and not text.startswith(quote, j):
                    j += 2 if text[j] == '\\' else 1
                if j >= len(text):
                    yield i, None
                    return
                i = j + len(quote)
                continue
            if c == '#':
                yield i, 'comment'
                return
            if c in _PAIRS:
                self.stack.append(c)
            elif c in ')]}':
                if not self.stack or _PAIRS[self.stack.pop()] != c:
                    yield i, None
                    return
            elif c == ' ' and not self.stack:
                yield i, 'space'
            i += 1
        yield len(text), 'end'


class _Piece:
    """One line of the original code: code and its trailing comment."""

    def __init__(self, code, comment, top, cont, own=None):
        self.code = code          # the logical line so far ('' for a comment)
        self.own = code if own is None else own   # its part on this text line
        self.comment = comment    # '' when there is none
        self.top = top            # known to be at indentation 0
        self.cont = cont          # continues the previous line's brackets


def _split_comment(text, pos):
    """Possible ends of the comment starting at text[pos], earliest
    first: the comment ends before a space not preceded by a glue word."""
    if _OUTPUT_COMMENT.match(text, pos):
        yield len(text)
        return
    words = [m for m in re.finditer(r' ', text[pos:])]
    for m in words:
        end = pos + m.start()
        previous = text[pos:end].split()[-1].lower() if text[pos:end].split() else ''
        if text.startswith('...', end + 1):
            continue            # 'it will take a long time ...'
        if text.startswith('#', end + 1) or previous not in _GLUE:
            yield end
    yield len(text)


def _split(text, pos, carry, stack, first):
    """Cuts text[pos:] into pieces; returns (pieces, open stack, carry)
    or None.  carry is the unfinished code of a line whose brackets are
    still open from the text line before (first piece only)."""
    if pos >= len(text):
        return [], stack, carry
    if text[pos] == '#' and not carry:
        for end in _split_comment(text, pos):
            rest = _split(text, end + 1, '', [], False)
            if rest is not None:
                piece = _Piece('', text[pos:end], not first, False)
                return [piece] + rest[0], rest[1], rest[2]
        return None
    scan = _Scan(stack)
    spaces = []
    for end, kind in scan.feed(text, pos):
        if kind is None:
            return None
        if kind == 'space':
            spaces.append(end)
            continue
        code = (carry + ' ' if carry else '') + text[pos:end]
        open_stack = list(scan.stack)
        own = text[pos:end]
        if open_stack:
            # Brackets stay open to the next text line (a comment inside
            # them runs to the end of this one).
            if kind == 'end' and not _plausible_prefix(code, open_stack):
                return None
            piece = _Piece(code, text[end:], not first, bool(carry), own)
            return [piece], open_stack, code
        if _plausible(code):
            if kind == 'end':
                return [_Piece(code, '', not first, bool(carry), own)], [], ''
            for cend in _split_comment(text, end):
                rest = _split(text, cend + 1, '', [], False)
                if rest is not None:
                    piece = _Piece(code, text[end:cend], not first, bool(carry), own)
                    return [piece] + rest[0], rest[1], rest[2]
        return _split_at_spaces(text, pos, carry, first, spaces)
    return None


def _split_at_spaces(text, pos, carry, first, spaces):
    """Cuts the code at text[pos:] at one of the spaces, the latest
    first, where the code before it is a whole statement and the rest
    cuts too; a header's body is indented, so it never shares its line."""
    for end in reversed(spaces):
        code = (carry + ' ' if carry else '') + text[pos:end]
        if code.endswith(':') or not _plausible(code):
            continue
        rest = _split(text, end + 1, '', [], False)
        if rest is not None:
            piece = _Piece(code, '', not first, bool(carry), text[pos:end])
            return [piece] + rest[0], rest[1], rest[2]
    return None


class Example:
    """One code block of the documentation, rebuilt."""

    def __init__(self, section, number, first_line, text_lines):
        self.section = section          # the heading it is under
        self.number = number            # its position in that section, from 1
        self.first_line = first_line    # its first line in the text, from 1
        self.text_lines = text_lines
        self.fingerprint = None         # set when the example is complete
        self.pieces = []                # list of lists of _Piece, per text line
        self.valid = True               # every text line cut into Python
        self.output_after = None        # the text block shown as its output
        self.output_intro = ''          # the sentence before that block

    @property
    def name(self):
        return '%s #%d' % (self.section, self.number)

    def documented_outputs(self):
        """The '# Output: ...' comments, in order: (exact, text)."""
        outputs = []
        for line in self.logical():
            for comment in line.comments:
                m = _OUTPUT_COMMENT.match(comment)
                if m:
                    outputs.append((m.group(1) is None, m.group(2)))
        return outputs

    def logical(self):
        """The logical lines (open brackets joined), with their comments."""
        lines = []
        for row in self.pieces:
            for piece in row:
                if piece.cont and lines:
                    lines[-1].add(piece)
                else:
                    lines.append(_Logical(piece))
        return lines

    def source(self, hints=None):
        """The example as Python source, its indentation given back."""
        lines = self.logical()
        out = []
        for line, level in zip(lines, _indent(lines, hints or {})):
            for k, piece in enumerate(line.pieces):
                pad = '    ' * level + ('        ' if k else '')
                text = piece.own.strip() if piece.code else ''
                comment = piece.comment.replace('\n', ' ')
                out.append((pad + text + ('  ' if text and comment else '') + comment).rstrip())
        return '\n'.join(out) + '\n'


class _Logical:
    """A logical line: its code, comments and the pieces it came from."""

    def __init__(self, piece):
        self.code = piece.code
        self.comments = [piece.comment] if piece.comment else []
        self.pieces = [piece]
        self.top = piece.top

    def add(self, piece):
        self.code = piece.code
        if piece.comment:
            self.comments.append(piece.comment)
        self.pieces.append(piece)

    @property
    def keyword(self):
        m = re.match(r'@|[A-Za-z_]\w*', self.code)
        return m.group(0) if m else ''


def _indent(lines, hints):
    """Indentation levels for the logical lines of one example."""
    levels = []
    headers = []        # (level, keyword) of the open compound statements
    previous = None     # last line with code
    for index, line in enumerate(lines):
        if not line.code:
            levels.append(None)
            continue
        kw = line.keyword
        if previous is None or line.top:
            level = 0
        elif previous.code.endswith(':'):
            level = previous.level_guess + 1
        else:
            level = previous.level_guess
            if _CONTINUES.match(line.code):
                want = ('if', 'elif', 'for', 'while', 'try', 'except') if kw in ('else', 'elif') \
                    else ('try', 'except')
                level = next((lv for lv, k in reversed(headers) if k in want and lv < level),
                             level)
            elif kw in ('def', 'class', '@'):
                # A method beside the one before; with no class or def
                # around, a new code block that followed this one.
                level = next((lv for lv, k in reversed(headers) if k in ('def', 'class')
                              and lv >= 1), 0)
            elif kw == 'return' and _ends_function(lines, index):
                level = next((lv + 1 for lv, k in reversed(headers) if k == 'def'), level)
            elif _ENDS_BLOCK.match(previous.code) and level > 1:
                level -= 1
        level = hints.get(index, level)
        headers = [(lv, k) for lv, k in headers if lv < level]
        if line.code.endswith(':'):
            headers.append((level, kw))
        line.level_guess = level
        levels.append(level)
        previous = line
    # A comment line sits at the level of the code after it.
    following = 0
    for k in range(len(levels) - 1, -1, -1):
        if levels[k] is None:
            levels[k] = following
        else:
            following = levels[k]
    return levels


def _ends_function(lines, index):
    """Whether nothing but comments follows lines[index] before a line at
    indentation 0 or the end of the example."""
    for line in lines[index + 1:]:
        if line.code:
            return line.top
    return True


def _pseudo_code(line):
    """Whether a line is Python once its '...' holes are filled."""
    if '...' not in line:
        return False
    filled = line.replace('...', 'x')
    return _plausible(filled) or _plausible(filled + ':')


def _heading(line):
    return line.endswith('\u00b6') and len(line) < 120


def _depth(text):
    """Open brackets left by text (quotes not counted: output text)."""
    return sum(text.count(c) for c in '([{') - sum(text.count(c) for c in ')]}')


def find_examples(text):
    """The Python code blocks of the documentation text, in order."""
    examples = []
    section = ''
    numbers = {}
    current = None
    stack, carry = [], ''
    after_header = False
    output_depth = 0        # brackets an '# Output:' comment left open
    showing = None          # the example whose shown output is being read
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if showing is not None and line:
            # 'will output:' and the like: the output of the example
            # before, up to where its brackets close.
            showing.output_after = (showing.output_after + ' ' + line).strip()
            output_depth += _depth(line)
            if output_depth <= 0:
                showing, output_depth = None, 0
            continue
        if _heading(line) and line != 'Contents\u00b6':
            section = line.rstrip('\u00b6')
        if current is not None and output_depth > 0:
            # The rest of a documented output that spans lines.
            last = current.pieces[-1][-1]
            last.comment += '\n' + line
            current.text_lines.append(line)
            output_depth += _depth(line)
            continue
        result = None
        if line and not line.startswith('- ') and not _heading(line):
            result = _split(line, 0, carry, stack, True)
        if result is None and line and not stack and _pseudo_code(line):
            # 'def job(...)', '... = pool.map(...)': Python with holes.
            if current is None:
                numbers[section] = numbers.get(section, 0) + 1
                current = Example(section, numbers[section], lineno, [])
            current.valid = False
            current.text_lines.append(line)
            current.pieces.append([_Piece(line, '', False, False)])
            after_header = line.endswith(':')
            continue
        if result is None:
            if current is not None and (stack or after_header):
                # A header without its body, or brackets never closed:
                # the example goes on, but is not Python as it stands.
                current.valid = False
                current.text_lines.append(line)
                current.pieces.append([_Piece(line, '', False, bool(stack))])
                stack, carry, after_header = [], '', False
                continue
            if current is not None:
                _close(current, examples)
                current = None
            if line:
                if examples and examples[-1].output_after is None and _SHOWS_OUTPUT.search(line):
                    showing = examples[-1]
                    showing.output_after, showing.output_intro = '', line
            stack, carry, after_header = [], '', False
            continue
        pieces, stack, carry = result
        if current is None:
            numbers[section] = numbers.get(section, 0) + 1
            current = Example(section, numbers[section], lineno, [])
        current.text_lines.append(line)
        current.pieces.append(pieces)
        last = pieces[-1]
        after_header = not stack and last.code.rstrip().endswith(':')
        if _OUTPUT_COMMENT.match(last.comment):
            output_depth = _depth(last.comment)
    if current is not None:
        _close(current, examples)
    return _number(examples)


def _close(example, examples):
    normal = ' '.join(' '.join(example.text_lines).split())
    example.fingerprint = hashlib.sha1(normal.encode()).hexdigest()[:10]
    examples.append(example)


# 'will output:', 'Output:', 'would yield:', 'will return individual arrays:'
_SHOWS_OUTPUT = re.compile(r'^(\w+ ){0,3}(output|yield|print|return)\b[\w ]*:$', re.I)


def _number(examples):
    """Numbers the examples within their sections, from 1."""
    numbers = {}
    for example in examples:
        numbers[example.section] = example.number = numbers.get(example.section, 0) + 1
    return examples
