"""Chunking: exact slices, size limits, whole coverage, boundaries in the right places, overlap."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from datacraft.errors import ConfigError
from datacraft.ingest.chunking import chunk_documents, chunk_text, token_counter

GUIDE = """# Returns

You can return any unused item within 30 days. Refunds go back to the original payment method.

## How to return

Open the order page and press Return. Print the label and drop the parcel at any post office.

## 退款

退款会在七个工作日内退回原支付账户。如有疑问，请联系客服。“请保留单据。”我们会尽快处理！
"""

EN = ["The parcel left the depot.", "It will arrive on Monday?", "Yes!", "Call us (if needed).",
      "Prices are 3.50 each.", "See e.g. the FAQ."]
ZH = ["今天天气很好。", "我们去公园吧！", "你确定吗？", "“当然。”他说。", "分号也算句末；", "省略号……"]


def _random_text(seed: int) -> str:
    rng = random.Random(seed)
    blocks = []
    for _ in range(rng.randint(1, 12)):
        kind = rng.random()
        if kind < 0.15:
            blocks.append("#" * rng.randint(1, 3) + " Heading " + str(rng.randint(1, 99)))
        elif kind < 0.25:
            blocks.append("x" * rng.randint(50, 400))  # a "word" longer than a chunk: must be cut anyway
        else:
            pool = EN if rng.random() < 0.5 else ZH
            sep = " " if pool is EN else ""
            blocks.append(sep.join(rng.choice(pool) for _ in range(rng.randint(1, 25))))
    return "\n\n".join(blocks)


def _covers(text: str, chunks) -> bool:
    covered = [False] * len(text)
    for chunk in chunks:
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    return all(covered[i] or text[i].isspace() for i in range(len(text)))


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize(("max_chars", "overlap"), [(60, 0), (200, 40), (1000, 100)])
def test_chunks_are_exact_slices_within_the_limit_covering_everything(seed, max_chars, overlap):
    text = _random_text(seed)
    chunks = chunk_text(text, max_chars=max_chars, overlap=overlap)
    assert all(c.text == text[c.start:c.end] and c.text == c.text.strip() and c.text for c in chunks)
    assert all(len(c.text) <= max_chars for c in chunks)
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert all(a.start < b.start and a.end < b.end for a, b in pairwise(chunks))  # always progress
    assert _covers(text, chunks)
    if overlap == 0:
        assert all(a.end <= b.start for a, b in pairwise(chunks))


def test_headings_start_chunks_and_name_their_section():
    chunks = chunk_text(GUIDE, max_chars=130)
    assert [c.text.splitlines()[0] for c in chunks] == ["# Returns", "## How to return", "## 退款"]
    assert [c.section for c in chunks] == ["Returns", "How to return", "退款"]
    # A document that fits is one chunk.
    assert [c.text for c in chunk_text(GUIDE, max_chars=2000)] == [GUIDE.strip()]


def test_chinese_sentences_end_at_their_punctuation_with_closing_quotes():
    text = "今天天气很好。我们去公园吧！“当然。”他说。你确定吗？"
    assert [c.text for c in chunk_text(text, max_chars=8)] == ["今天天气很好。", "我们去公园吧！", "“当然。”他说。", "你确定吗？"]


def test_english_sentences_do_not_end_inside_numbers():
    text = "Prices went from 3.50 to 4.25 today. They rose again."
    assert [c.text for c in chunk_text(text, max_chars=40)] == ["Prices went from 3.50 to 4.25 today.", "They rose again."]


def test_overlap_repeats_whole_sentences_but_never_crosses_a_heading():
    text = "One is first. Two is second. Three is third. Four is fourth.\n\n# Next\n\nFive is fifth."
    chunks = chunk_text(text, max_chars=32, overlap=16)
    assert [c.text for c in chunks] == [
        "One is first. Two is second.", "Two is second. Three is third.",
        "Three is third. Four is fourth.", "# Next\n\nFive is fifth."]


def test_unspaced_text_longer_than_the_limit_is_cut_hard():
    chunks = chunk_text("字" * 250, max_chars=100)
    assert [len(c.text) for c in chunks] == [100, 100, 50]


def test_token_limits_use_the_tokenizer():
    words = " ".join(f"w{i}." for i in range(60))
    count = token_counter(str.split)
    chunks = chunk_text(words, max_tokens=10, tokenizer=str.split, overlap=2)
    assert all(count(c.text) <= 10 for c in chunks)
    assert chunks[1].text.split()[:2] == chunks[0].text.split()[-2:]
    assert _covers(words, chunks)

    class Encoder:  # the shape of a Hugging Face tokenizer
        def encode(self, text, add_special_tokens=True):
            return list(text.encode("utf-8"))

    zh = "今天天气很好。" * 20
    assert all(len(c.text.encode()) <= 64 for c in chunk_text(zh, max_tokens=64, tokenizer=Encoder()))


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="needs a tokenizer"):
        chunk_text("x", max_tokens=10)
    with pytest.raises(ConfigError, match="overlap"):
        chunk_text("x", max_chars=50, overlap=50)
    assert chunk_text("") == [] and chunk_text(" \n\n \n") == []


def test_chunk_documents_keeps_document_meta_and_numbers_chunks():
    docs = [{"id": "guide.md", "text": GUIDE, "meta": {"source": "docs/guide.md", "title": "Returns guide"}},
            {"id": "empty", "text": "   ", "meta": {}}]
    chunks = list(chunk_documents(docs, max_chars=130))
    assert [c["id"] for c in chunks] == ["guide.md#0", "guide.md#1", "guide.md#2"]
    assert chunks[1]["meta"] == {"source": "docs/guide.md", "title": "Returns guide", "doc_id": "guide.md",
                                 "chunk": 1, "chunks": 3, "start": chunks[1]["meta"]["start"],
                                 "end": chunks[1]["meta"]["end"], "section": "How to return"}
    assert GUIDE[chunks[1]["meta"]["start"]:chunks[1]["meta"]["end"]] == chunks[1]["text"]


def test_a_fenced_block_that_fits_is_never_split():
    from datacraft.ingest.chunking import chunk_text

    code = "```python\n# not a heading\ndef f():\n\n    return 1.  # a sentence end? no\n```"
    text = "Intro sentence here. " * 4 + "\n\n" + code + "\n\nAfter the code. " * 3
    for limit in range(len(code), len(text) + 1, 7):
        chunks = chunk_text(text, max_chars=limit)
        assert any(code in c.text for c in chunks), limit
        assert all(c.section == "" for c in chunks)


def test_a_fenced_block_too_long_for_a_chunk_is_cut_at_line_ends():
    from datacraft.ingest.chunking import chunk_text

    code = "```\n" + "".join(f"line_{i} = {i}\n" for i in range(40)) + "```"
    chunks = chunk_text(code, max_chars=120)
    assert all(len(c.text) <= 120 for c in chunks) and len(chunks) > 1
    lines = set(code.splitlines())
    assert all(c.text.splitlines()[0] in lines and c.text.splitlines()[-1] in lines for c in chunks)
