from pathlib import Path

import pytest

from datacraft.stats import compute_stats, format_summary, opening, summarize

FIXTURE = str(Path(__file__).parents[1] / "fixtures" / "stats_records.jsonl")


def first_three_chars(texts):
    """Test clusterer: texts that start with the same three characters (case-blind) are near-duplicates."""
    keys = [t[:3].casefold() for t in texts]
    return [keys.index(k) for k in keys]


@pytest.fixture(scope="module")
def stats():
    return compute_stats([FIXTURE], cluster=first_three_chars, tokenizer=str.split)


def test_counts_formats_languages_and_fields(stats):
    assert stats["records"] == 8 and stats["unreadable"] == 1
    assert stats["formats"] == {"alpaca": 7, "sharegpt": 1}
    assert stats["languages"] == {"en": 5, "zh": 3}
    assert stats["fields_present"] == {"input": 1, "system": 1, "history": 1, "id": 1, "meta": 1}


def test_character_lengths(stats):
    chars = stats["lengths"]["chars"]
    assert chars["instruction"] == {"count": 8, "min": 6, "p50": 9, "p90": 29, "p99": 29, "max": 29, "mean": 12.8}
    assert chars["output"] == {"count": 8, "min": 2, "p50": 9, "p90": 18, "p99": 18, "max": 18, "mean": 9.0}
    # Sparse fields are measured over the records that have them.
    assert chars["input"] == {"count": 1, "min": 7, "p50": 7, "p90": 7, "p99": 7, "max": 7, "mean": 7.0}
    assert chars["system"]["count"] == 1 and chars["system"]["max"] == 4
    assert chars["history"]["max"] == len("Hi\nHello")
    assert chars["total"] == {"count": 8, "min": 9, "p50": 26, "p90": 48, "p99": 48, "max": 48, "mean": 25.5}


def test_token_lengths_with_a_given_tokenizer(stats):
    assert stats["tokenizer"] == "split"
    assert stats["lengths"]["tokens"]["instruction"] == {
        "count": 8, "min": 1, "p50": 1, "p90": 5, "p99": 5, "max": 5, "mean": 2.2}


def test_duplicates(stats):
    assert stats["duplicates"] == {"exact": 1, "exact_rate": 0.125, "near": 3, "near_rate": 0.375}


def test_openings(stats):
    assert stats["openings"] == [
        {"opening": "give three", "count": 3, "share": 0.375},
        {"opening": "请解释", "count": 2, "share": 0.25},
        {"opening": "translate", "count": 1, "share": 0.125},
        {"opening": "write a", "count": 1, "share": 0.125},
        {"opening": "创建一个", "count": 1, "share": 0.125},
    ]


def test_histograms_cover_every_value(stats):
    for unit, table in stats["histograms"].items():
        for field, h in table.items():
            assert sum(h["counts"]) + h["above"] == stats["lengths"][unit][field]["count"]
            assert len(h["edges"]) == len(h["counts"]) + 1


def test_unloadable_tokenizer_is_skipped_with_a_note():
    result = compute_stats([FIXTURE], tokenizer="no/such-tokenizer", near_duplicates=False)
    assert "tokens" not in result["lengths"] and result["tokenizer"] is None
    assert result["notes"][0].startswith("token lengths skipped:")
    assert result["duplicates"]["near"] is None


def test_summarize_and_opening():
    assert summarize([]) == {"count": 0}
    assert summarize([5]) == {"count": 1, "min": 5, "p50": 5, "p90": 5, "p99": 5, "max": 5, "mean": 5.0}
    assert summarize(list(range(1, 101)))["p90"] == 90
    assert opening("  What's the capital of France?") == "what's the"
    assert opening("") == ""


def test_text_summary(stats):
    text = format_summary(stats)
    assert text.splitlines()[0] == "records 8  (unreadable rows 1)"
    assert "duplicates exact 1 (12.5%), near incl. exact 3 (37.5%)" in text
    assert "  instruction         8       6       9      29      29      29    12.8" in text
    assert "       2   25.0%  请解释" in text


def test_transformers_tokenizer_from_a_local_folder(tmp_path):
    pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    from transformers import PreTrainedTokenizerFast

    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel({"[UNK]": 0, "give": 1, "three": 2}, unk_token="[UNK]"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]").save_pretrained(tmp_path)
    result = compute_stats([FIXTURE], tokenizer=str(tmp_path), near_duplicates=False)
    assert result["tokenizer"] == str(tmp_path) and result["notes"] == []
    # Whitespace pre-tokenizer: words and punctuation marks are tokens ("Give three tips." -> 4).
    assert result["lengths"]["tokens"]["instruction"]["max"] == 6  # "Give three examples of fruit."
