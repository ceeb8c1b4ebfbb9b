"""The worked examples in the ingest docstrings are true."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["chunking", "crawler", "documents", "fetch", "html", "presets", "robots", "sources"])
def test_docstring_examples(name):
    module = importlib.import_module(f"datacraft.ingest.{name}")
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("name", ["encoding", "ids", "jsonscan", "readers", "writers"])
def test_io_examples(name):
    result = doctest.testmod(importlib.import_module(f"datacraft.io.{name}"))
    assert result.attempted > 0 and result.failed == 0
