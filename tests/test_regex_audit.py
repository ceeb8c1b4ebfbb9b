"""Regex audit: every regex in the package does linear work on adversarial input.

Work is counted, not timed: `tests/regex_steps.py` replays each pattern's backtracking step by
step. Each pattern runs (as `finditer`, i.e. searched from every position, as `sub` and `findall`
use it) on strings built from its own literals and from separators: a unit repeated, with and
without a tail that makes the match fail at the end. Doubling the length must at most about
double the steps (quadratic backtracking quadruples them; the 60-dash Markdown rule that hung
`clean` grew exponentially).
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import sys
from pathlib import Path

import pytest

import datacraft
from tests.regex_steps import C, Matcher, P

ROOT = Path(datacraft.__file__).parent
SIZES = (120, 240)  # characters; the growth ratio is steps(240) / steps(120)
MAX_GROWTH = 2.6  # linear work gives <= ~2.1 here, quadratic ~4
BASE_UNITS = (" ", "\t", "\n", "-", "|", "a", "A", "1", "中", ".", "*", "<", "=", "\\", "$", "`", "#", ":",
              "'", '"', "_", "/", "x ", "a=", "- ", "--- ", "| ", "\n\n", " \n", "<a ", "&#1", "ä½")
TAILS = ("", "\x00分割线!")
MAX_RUNS = 12  # literal runs of a pattern made into adversarial units
sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))  # the walk recurses once per character


def _modules() -> list[str]:
    names = [ROOT.name]
    for info in pkgutil.walk_packages([str(ROOT)], prefix=f"{ROOT.name}."):
        names.append(info.name)
    return names


def _module_patterns() -> dict[str, re.Pattern]:
    """Every compiled pattern held by a module: attributes, and patterns inside lists, tuples, dicts."""
    found: dict[str, re.Pattern] = {}
    for name in _modules():
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else [value]
            for n, item in enumerate(items):
                if isinstance(item, re.Pattern):
                    found.setdefault(f"{name}.{attr}[{n}]", item)
    return found


_CALLS = {"compile", "search", "match", "fullmatch", "sub", "subn", "findall", "finditer", "split"}


def _inline_patterns() -> tuple[dict[str, re.Pattern], list[str]]:
    """Patterns written inline in function bodies (`re.sub(r"...", ...)`), and calls built at run time."""
    found: dict[str, re.Pattern] = {}
    dynamic: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                        and node.func.attr in _CALLS and node.args):
                    continue
                where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
                source = node.args[0]
                if not (isinstance(source, ast.Constant) and isinstance(source.value, (str, bytes))):
                    dynamic.append(f"{where} {func.name}")
                    continue
                flags = next((k.value for k in node.keywords if k.arg == "flags"), None)
                if flags is None and node.func.attr == "compile" and len(node.args) > 1:
                    flags = node.args[1]
                value = eval(compile(ast.Expression(flags), where, "eval"), {"re": re}) if flags is not None else 0
                found[where] = re.compile(source.value, value)
    return found, dynamic


def _factory_patterns() -> dict[str, re.Pattern]:
    """Patterns that functions build from settings, at typical and extreme settings."""
    from datacraft.clean.filters import _char_run
    from datacraft.dedupe.normalize import _non_word

    patterns = {f"clean.filters._char_run({n})": _char_run(n) for n in (3, 20)}
    patterns["dedupe.normalize._non_word()"] = _non_word()
    return patterns


# Functions that build a pattern at run time; each is covered by _factory_patterns, is a class
# or an alternation of escaped literals (linear by construction), or is a user-supplied pattern.
FACTORIES = {
    "_char_run", "_non_word",  # in _factory_patterns
    "_tables",  # dedupe.normalize: a character class built from a table
    "_phrases", "_is_protected",  # augment.curated: re.escape'd word lists between lookarounds
    "user_pattern",  # clean's blacklist_patterns: run with the regex module's timeout (pattern_timeout)
    "parse_pairs",  # augment.lexicon: next=/prev= rules from a lexicon file; NOT time-limited (see issue 16 report)
    "_compile",  # ingest.robots: escaped literals joined by `.*`, matched against one URL path (bounded)
    "_indented_run",  # io.jsonscan: `,[ \t\r]*\n` + an escaped run of spaces + `\{`: linear
    "_unwrap",  # io.jsonscan: `"<escaped key>"\s*:\s*\[`: linear
    "class_table",  # clean.blockstats: `(?:<one character class>)+`, run once on the string of all code points
}
# Searched only in bounded text, so their quadratic worst case is a constant: name -> where bounded.
BOUNDED = {
    "datacraft.augment.curated._SENTENCE_START[0]": "searched in _head(), at most _CONTEXT = 200 characters",
}


def _literals(tree) -> list[str]:
    """Characters and literal runs of a parsed pattern (what adversarial input is made of)."""
    chars: set[str] = set()
    runs: set[str] = set()

    def walk(items):
        run = ""
        for op, av in items:
            if op is C.LITERAL:
                chars.add(chr(av))
                run += chr(av)
                continue
            if len(run) > 1:
                runs.add(run)
            run = ""
            if op is C.IN:
                for sop, sav in av:
                    if sop is C.LITERAL:
                        chars.add(chr(sav))
                    elif sop is C.RANGE:
                        chars.update((chr(sav[0]), chr(sav[1])))
            elif op is C.BRANCH:
                for alt in av[1]:
                    walk(alt)
            elif op is C.SUBPATTERN:
                walk(av[-1])
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT) or op is getattr(C, "POSSESSIVE_REPEAT", None):
                walk(av[2])
            elif op in (C.ASSERT, C.ASSERT_NOT):
                walk(av[1])
            elif op is getattr(C, "ATOMIC_GROUP", None):
                walk(av)
        if len(run) > 1:
            runs.add(run)

    walk(tree)
    printable = sorted(c for c in chars if c.isprintable() or c in "\n\t")
    # The shortest runs (openers like `<!--`, `\(`, `<li`): long word lists add time, not cases.
    short = sorted(runs, key=lambda r: (len(r), r))[:MAX_RUNS]
    return printable + short + [r + " " for r in short] + [r + "a" for r in short]


def _inputs(pattern: re.Pattern):
    source = pattern.pattern.decode("latin-1") if isinstance(pattern.pattern, bytes) else pattern.pattern
    units = list(dict.fromkeys([*BASE_UNITS, *_literals(P.parse(source, pattern.flags & ~re.LOCALE))]))
    for unit in units:
        for tail in TAILS:
            yield unit, tail, [unit * (size // len(unit)) + tail for size in SIZES]


def all_patterns() -> dict[str, re.Pattern]:
    inline, _ = _inline_patterns()
    return {**_module_patterns(), **inline, **_factory_patterns()}


PATTERNS = all_patterns()


def test_the_audit_sees_the_package():
    # Dozens of patterns live in clean, augment, ingest, generate; a broken walk would find none.
    assert len(PATTERNS) > 60
    assert any(p is datacraft.clean.filters._MARKDOWN for p in PATTERNS.values())


def test_every_runtime_pattern_is_covered():
    _, dynamic = _inline_patterns()
    uncovered = [d for d in dynamic if d.rsplit(" ", 1)[1] not in FACTORIES]
    assert uncovered == []


def test_the_step_counter_agrees_with_re():
    samples = ["", "a  b\n--- | --- \n", "**x** `y` $z$ \\(w\\) ~~~q~~~", "作为一个AI语言模型，我无法", "<p a=1>hi</p>"]
    for name, pattern in PATTERNS.items():
        for text in samples:
            text = text.encode() if isinstance(pattern.pattern, bytes) else text
            want = [m.span() for m in pattern.finditer(text)]
            got = Matcher(pattern).finditer(text.decode("latin-1") if isinstance(text, bytes) else text)
            assert got == want, (name, text)


def test_the_step_counter_sees_catastrophic_backtracking():
    # The pre-fix Markdown rule: exponential in the dash run, so it must fail the growth bound.
    old = re.compile(r"^\s*\|?(?:\s*:?-{3,}:?\s*\|?)+\s*$", re.M)
    short, long = (Matcher(old) for _ in range(2))
    short.finditer("-" * 12 + "x")
    long.finditer("-" * 24 + "x")
    assert long.steps > 50 * short.steps
    quadratic = re.compile(r"\\\(.*?\\\)", re.S)
    a, b = Matcher(quadratic), Matcher(quadratic)
    a.finditer("\\(" * 100)
    b.finditer("\\(" * 200)
    assert b.steps > 3.5 * a.steps


@pytest.mark.parametrize("name", sorted(set(PATTERNS) - set(BOUNDED)))
def test_linear_work(name):
    pattern = PATTERNS[name]
    worst = (0.0, "", "")
    for unit, tail, texts in _inputs(pattern):
        counts = []
        for text in texts:
            matcher = Matcher(pattern)
            matcher.finditer(text.encode("utf-8").decode("latin-1") if isinstance(pattern.pattern, bytes) else text)
            counts.append(matcher.steps)
        growth = counts[1] / max(counts[0], 1)
        if growth > worst[0]:
            worst = (growth, unit, tail)
    assert worst[0] <= MAX_GROWTH, f"{name}: steps grow {worst[0]:.1f}x when {worst[1]!r}*n+{worst[2]!r} doubles"
