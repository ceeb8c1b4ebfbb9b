"""The worked examples in the train modules' docstrings are true."""

import doctest
import importlib

import pytest

MODULES = ["data", "diagnose", "fit", "guidance", "loss", "metrics", "packing", "plot", "trainer", "tune"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"datacraft.train.{name}")
    result = doctest.testmod(module)
    assert result.failed == 0


def test_every_module_with_examples_is_listed():
    import pkgutil

    import datacraft.train

    with_examples = []
    for info in pkgutil.iter_modules(datacraft.train.__path__):
        module = importlib.import_module(f"datacraft.train.{info.name}")
        if any(test.examples for test in doctest.DocTestFinder().find(module)):
            with_examples.append(info.name)
    assert sorted(with_examples) == sorted(MODULES)
