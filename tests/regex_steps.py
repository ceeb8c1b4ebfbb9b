"""A step-counting backtracking matcher for Python regexes: the regex audit's deterministic clock.

`re` runs in C and exposes no step counter, and wall time is noise on a shared machine. This module
walks the same parse tree `re` compiles (`re._parser`, `sre_parse` before 3.11) with the same
leftmost-first backtracking, and counts one step per character test, per branch or repeat attempt
and per continuation. The count grows like the work `re` does: a pattern whose count quadruples
when the input doubles backtracks quadratically in `re` too. `Matcher.finditer` also returns the
matches, so a test can check the walk against `re` itself.
"""

from __future__ import annotations

import re
import sys
import unicodedata

try:
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser as P  # type: ignore[attr-defined]
except ImportError:  # Python 3.10
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as P  # type: ignore[no-redef]

MAXREPEAT = C.MAXREPEAT


def _word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _digit(ch: str) -> bool:
    return unicodedata.category(ch) == "Nd" if ord(ch) > 127 else "0" <= ch <= "9"


_CATEGORIES = {
    C.CATEGORY_DIGIT: _digit, C.CATEGORY_NOT_DIGIT: lambda c: not _digit(c),
    C.CATEGORY_SPACE: str.isspace, C.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    C.CATEGORY_WORD: _word, C.CATEGORY_NOT_WORD: lambda c: not _word(c),
}


def _equals(ch: str):
    return lambda c: c == ch


class Matcher:
    """One pattern compiled into closures over a shared step counter."""

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern
        self.flags = pattern.flags
        self.steps = 0
        self.text = ""
        self.groups: dict[int, tuple[int, int]] = {}
        source = pattern.pattern
        if isinstance(source, bytes):
            source = source.decode("latin-1")
        self.root = self._seq(P.parse(source, self.flags & ~re.LOCALE), self.flags)

    # ---- public ---------------------------------------------------------------------------------
    def finditer(self, text) -> list[tuple[int, int]]:
        """Every non-overlapping match as (start, end), as `re.finditer` returns them; counts steps."""
        if isinstance(text, bytes):
            text = text.decode("latin-1")
        self.text = text
        found: list[tuple[int, int]] = []
        pos, n = 0, len(text)
        while pos <= n:
            end: list[int] = []
            self.groups = {}
            start = pos

            def done(j: int, end: list[int] = end) -> bool:
                end.append(j)
                return True

            while start <= n:
                self.steps += 1
                if self.root(start, done):
                    break
                start += 1
            if not end:
                break
            found.append((start, end[0]))
            pos = end[0] if end[0] > start else end[0] + 1
        return found

    # ---- compilation ----------------------------------------------------------------------------
    def _seq(self, items, flags):
        nodes = [self._node(op, av, flags) for op, av in items]

        def run(i, k, idx=0):
            if idx == len(nodes):
                return k(i)
            return nodes[idx](i, lambda j: run(j, k, idx + 1))

        return run

    def _char(self, op, av, flags):
        """A one-character predicate, or None when the node is not a single character."""
        fold = bool(flags & re.IGNORECASE)
        if op is C.LITERAL:
            ch = chr(av)
            return (lambda c: c == ch or c.lower() == ch.lower()) if fold else (lambda c: c == ch)
        if op is C.NOT_LITERAL:
            ch = chr(av)
            return (lambda c: c.lower() != ch.lower()) if fold else (lambda c: c != ch)
        if op is C.ANY:
            return (lambda c: True) if flags & re.DOTALL else (lambda c: c != "\n")
        if op is C.IN:
            return self._set(av, fold)
        return None

    def _set(self, items, fold):
        negate = bool(items) and items[0][0] is C.NEGATE
        tests = []
        for op, av in items[1:] if negate else items:
            if op is C.LITERAL:
                tests.append(_equals(chr(av)))
            elif op is C.RANGE:
                tests.append(lambda c, lo=av[0], hi=av[1]: lo <= ord(c) <= hi)
            elif op is C.CATEGORY:
                tests.append(_CATEGORIES[av])
            else:
                raise NotImplementedError(f"set item {op}")

        def member(c):
            hit = any(t(c) for t in tests) or (fold and any(t(v) for t in tests for v in (c.lower(), c.upper())))
            return hit != negate

        return member

    def _node(self, op, av, flags):
        char = self._char(op, av, flags)
        if char is not None:
            def one(i, k):
                self.steps += 1
                t = self.text
                return i < len(t) and char(t[i]) and k(i + 1)
            return one
        if op is C.AT:
            return self._at(av, flags)
        if op is C.BRANCH:
            alts = [self._seq(p, flags) for p in av[1]]

            def branch(i, k):
                for alt in alts:
                    self.steps += 1
                    if alt(i, k):
                        return True
                return False
            return branch
        if op is C.SUBPATTERN:
            group, add, remove, sub = av
            body = self._seq(sub, (flags | add) & ~remove)
            if group is None:
                return body

            def capture(i, k):
                def close(j):
                    old = self.groups.get(group)
                    self.groups[group] = (i, j)
                    if k(j):
                        return True
                    if old is None:
                        self.groups.pop(group, None)
                    else:
                        self.groups[group] = old
                    return False
                return body(i, close)
            return capture
        if op in (C.MAX_REPEAT, C.MIN_REPEAT) or op is getattr(C, "POSSESSIVE_REPEAT", None):
            return self._repeat(op, av, flags)
        if op is getattr(C, "ATOMIC_GROUP", None):
            body = self._seq(av, flags)

            def atomic(i, k):
                end: list[int] = []
                return body(i, lambda j: end.append(j) or True) and k(end[0])
            return atomic
        if op is C.GROUPREF:
            def ref(i, k):
                span = self.groups.get(av)
                if span is None:
                    return False
                piece = self.text[span[0]:span[1]]
                self.steps += len(piece) or 1
                return self.text.startswith(piece, i) and k(i + len(piece))
            return ref
        if op in (C.ASSERT, C.ASSERT_NOT):
            direction, sub = av
            body = self._seq(sub, flags)
            width = P.SubPattern(P.State(), sub).getwidth()[0] if direction < 0 else 0
            positive = op is C.ASSERT

            def look(i, k):
                start = i - width
                ok = start >= 0 and body(start, (lambda j: j == i) if direction < 0 else (lambda j: True))
                return k(i) if ok == positive else False
            return look
        raise NotImplementedError(f"regex node {op}")

    def _at(self, where, flags):
        multiline = bool(flags & re.MULTILINE)

        def boundary(i):
            t = self.text
            before = i > 0 and _word(t[i - 1])
            after = i < len(t) and _word(t[i])
            return before != after

        def test(i):
            t = self.text
            if where is C.AT_BEGINNING:
                return i == 0 or (multiline and t[i - 1] == "\n")
            if where is C.AT_BEGINNING_STRING:
                return i == 0
            if where is C.AT_END:
                return i == len(t) or (i == len(t) - 1 and t[i] == "\n") or (multiline and t[i] == "\n")
            if where is C.AT_END_STRING:
                return i == len(t)
            if where is C.AT_BOUNDARY:
                return boundary(i)
            if where is C.AT_NON_BOUNDARY:
                return not boundary(i)
            raise NotImplementedError(f"anchor {where}")

        def at(i, k):
            self.steps += 1
            return test(i) and k(i)
        return at

    def _repeat(self, op, av, flags):
        low, high, sub = av
        high = sys.maxsize if high is MAXREPEAT else high
        lazy = op is C.MIN_REPEAT
        possessive = op is getattr(C, "POSSESSIVE_REPEAT", None)
        single = self._char(*sub[0], flags) if len(sub) == 1 else None
        if single is not None:
            # One character per iteration: scan, then back off one position at a time (sre's REPEAT_ONE).
            def simple(i, k):
                t, j, limit = self.text, i, min(len(self.text), i + high) if high != sys.maxsize else len(self.text)
                if lazy:
                    count = 0
                    while True:
                        if count >= low:
                            self.steps += 1
                            if k(j):
                                return True
                        self.steps += 1
                        if j >= limit or not single(t[j]):
                            return False
                        j += 1
                        count += 1
                while j < limit:
                    self.steps += 1
                    if not single(t[j]):
                        break
                    j += 1
                if possessive:
                    return j - i >= low and k(j)
                while j - i >= low:
                    self.steps += 1
                    if k(j):
                        return True
                    j -= 1
                return False
            return simple
        body = self._seq(sub, flags)

        def rep(i, k, count=0):
            self.steps += 1
            if lazy:
                if count >= low and k(i):
                    return True
                return count < high and body(i, lambda j: (j != i or count < low) and rep(j, k, count + 1))
            if count < high and body(i, lambda j: (j != i or count < low) and rep(j, k, count + 1)):
                return True
            return count >= low and k(i)

        if possessive:
            def owned(i, k):
                end: list[int] = []
                rep(i, lambda j: end.append(j) or True)
                return bool(end) and k(end[0])
            return owned
        return rep


def count_steps(pattern: re.Pattern, text) -> int:
    """Steps the backtracking walk takes to find every match of `pattern` in `text`."""
    matcher = Matcher(pattern)
    matcher.finditer(text)
    return matcher.steps
