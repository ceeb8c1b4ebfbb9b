"""Protected spans: found, masked with sentinels, restored exactly, and losses detected."""

from __future__ import annotations

import pytest

from datacraft.augment.protect import SpanLost, find_spans, mask, segments, unmask

TEXT = ("Run `pip install x` then open https://example.com/a?b=1, call {name} or {{author}}, "
        "and compute $x^2 + y$ for 3.14 items (50%) on 2024-01-01:\n```python\nprint('hi')\n```\nDone.")


def spans(text: str, quotes: bool = False) -> list[str]:
    return [text[a:b] for a, b in find_spans(text, quotes)]


def test_every_kind_of_span_is_found():
    assert spans(TEXT) == ["`pip install x`", "https://example.com/a?b=1", "{name}", "{{author}}", "$x^2 + y$",
                           "3.14", "50%", "2024-01-01", "```python\nprint('hi')\n```"]


def test_money_is_not_a_formula_and_quotes_only_when_asked():
    assert spans("Pay $5 and $10 now") == ["5", "10"]
    text = '他说“你好”，读了《红楼梦》和 "Dune"'
    assert spans(text) == []
    assert spans(text, quotes=True) == ["“你好”", "《红楼梦》", '"Dune"']


def test_mask_and_unmask_round_trip_exactly():
    masked = mask(TEXT)
    assert "`" not in masked.text and "https" not in masked.text and "{name}" not in masked.text
    assert masked.text.count("⟦") == len(masked.spans) == 9
    assert unmask(masked.text, masked.spans) == TEXT


def test_unmask_tolerates_spacing_and_reordering_but_not_loss_or_duplication():
    masked = mask("A {a} and {b}")
    assert unmask("⟦ 2 ⟧ then ⟦1⟧", masked.spans) == "{b} then {a}"
    with pytest.raises(SpanLost, match="lost 1 of 2 protected spans, e.g. '{b}'"):
        unmask("only ⟦1⟧", masked.spans)
    with pytest.raises(SpanLost, match="expected"):
        unmask("⟦1⟧ ⟦1⟧ ⟦2⟧", masked.spans)


def test_segments_join_back_to_the_text():
    pieces = segments(TEXT)
    assert "".join(piece for piece, _ in pieces) == TEXT
    assert [piece for piece, protected in pieces if protected] == spans(TEXT, quotes=True)
