"""Every docstring example in datacraft runs as a test (what `--doctest-modules` would collect)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import datacraft

MODULES = sorted(m.name for m in pkgutil.walk_packages(datacraft.__path__, "datacraft."))


def _examples(name: str) -> list[doctest.DocTest]:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # an optional extra (torch, ...) that this environment lacks
        pytest.skip(f"{name}: {exc}")
    return [t for t in doctest.DocTestFinder().find(module) if t.examples]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in _examples(name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (output above)"
