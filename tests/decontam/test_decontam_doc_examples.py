"""The worked examples in the docstrings of issue 15's modules are true."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("name", ["datacraft.decontam.overlap", "datacraft.decontam.text", "datacraft.decontam.judge",
                                  "datacraft.mix.sample", "datacraft.clean.system_prompt",
                                  "datacraft.validate.language"])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0


def test_ngram_index_finds_hits_and_short_views() -> None:
    from datacraft.decontam.overlap import NgramIndex, View, tokens

    index = NgramIndex(ngram_word=4, ngram_cjk=3)
    long_view = View("b", "1", "en", tokens("one two three four five six"))
    short_view = View("b", "2", "zh", tokens("机器学"))
    index.add(long_view)
    index.add(short_view)
    hits = index.hits(tokens("zero one two three four five six seven 我爱机器学习"))
    assert hits[0] == [1, 2, 3] and hits[1] == [10]
    assert index.best(tokens("nothing in common here")) is None
    assert index.best(tokens("x one two three four five six")).fraction == 1.0
