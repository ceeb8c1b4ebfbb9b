"""`datacraft ingest` end to end: summary lines, exit codes, exact error text."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from tests.ingest.helpers import FIXTURES


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, ["ingest", *args], input=input)


@pytest.fixture
def here(monkeypatch, tmp_path):
    """Run from a copy-free spot: inputs by absolute path, outputs in tmp_path, short printed names."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_summary_counts_what_was_read_kept_and_rejected(here):
    result = run(str(FIXTURES / "chats.jsonl"), "-o", "out.jsonl", "--rejects", "rejects.jsonl")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "read 5, kept 2, rejected 3 -> out.jsonl (2 records)",
        "  rejected unconvertible                 1",
        "  rejected invalid_json                  1",
        "  rejected turn_order                    1",
    ]
    assert len((here / "rejects.jsonl").read_text().splitlines()) == 3


def test_quiet_prints_only_the_totals_and_stdout_output_moves_the_summary_to_stderr(here):
    result = run(str(FIXTURES / "chats.jsonl"), "-o", "out.jsonl", "-q")
    assert result.output == "read 5, kept 2, rejected 3 -> out.jsonl (2 records)\n"
    result = run("-", "-o", "-", "--preset", "qa", input='{"q": "Hi?", "a": "Hello."}\n')
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"instruction": "Hi?", "input": "", "output": "Hello.", "id": "stdin:1",
                                         "meta": {"source": "stdin:1"}}
    assert result.stderr == "read 1, kept 1, rejected 0 -> - (1 record)\n"


def test_documents_with_chunks(here):
    result = run(str(FIXTURES / "docs" / "guide.md"), "--chunk", "--max-chars", "130", "-o", "chunks.jsonl")
    assert result.exit_code == 0
    assert result.output == "read 1, kept 1, rejected 0 -> chunks.jsonl (3 chunks)\n"


@pytest.mark.parametrize(("args", "message"), [
    (["--depth", "2"], "Error: --depth needs --crawl (without it only the given URLs are fetched)"),
    (["--crawl"], "Error: --crawl needs at least one http(s) URL among the sources"),
    (["--max-chars", "500"], "Error: --max-chars needs --chunk"),
    (["--chunk", "--max-tokens", "100"],
     "Error: bad option: max_tokens needs a tokenizer (a Hugging Face tokenizer name or folder)"),
    (["--chunk", "--max-chars", "100", "--overlap", "60"],
     "Error: bad option: overlap (60) must be less than half the chunk size (100)"),
    (["--as", "records"], None),
])
def test_conflicting_options_are_refused_before_any_work(here, args, message):
    result = run(str(FIXTURES / "docs" / "guide.md"), "-o", "out.jsonl", *args)
    assert result.exit_code == 2
    if message is None:  # a named document file cannot become records
        message = (f"Error: {FIXTURES / 'docs' / 'guide.md'}: text, Markdown, HTML, PDF, DOCX and web pages give "
                   "documents, not records; drop --as records (`datacraft generate --from-docs` makes records from them)")
    assert result.output.strip() == message
    assert not (here / "out.jsonl").exists()


def test_missing_input_and_nothing_ingested(here):
    result = run("missing.jsonl", "-o", "out.jsonl")
    assert (result.exit_code, result.output) == (2, "Error: missing.jsonl: file not found\n")

    (here / "bad.jsonl").write_text('{"title": "no instruction here"}\n', encoding="utf-8")
    result = run("bad.jsonl", "-o", "out.jsonl", "--rejects", "rejects.jsonl")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == ["read 1, kept 0, rejected 1 -> out.jsonl (0 records)",
                                          "  rejected unknown_layout                1"]
    assert result.stderr == "Error: nothing was ingested (see rejects.jsonl)\n"


def test_crawl_from_the_command_line(here, site):
    result = run(site.url("/index.html"), "--crawl", "--depth", "1", "--max-pages", "3", "--delay", "0",
                 "--user-agent", "TestBot/1.0 (+https://example.invalid)", "-o", "pages.jsonl")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "read 3, kept 3, rejected 0 -> pages.jsonl (3 documents)"
    assert "  skipped  over_max_pages                7" in result.output.splitlines()
    assert {agent for _, agent in site.log} == {"TestBot/1.0 (+https://example.invalid)"}
    assert (here / "pages.jsonl.crawl-state.jsonl").is_file()


def test_token_sized_chunks_with_a_hugging_face_tokenizer_folder(here):
    pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    # A word-level tokenizer built here and saved as any Hugging Face tokenizer folder is.
    inner = Tokenizer(models.WordLevel(vocab={"[UNK]": 0}, unk_token="[UNK]"))
    inner.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=inner, unk_token="[UNK]").save_pretrained(str(here / "tok"))
    result = run(str(FIXTURES / "docs" / "guide.md"), "--chunk", "--max-tokens", "16", "--tokenizer",
                 str(here / "tok"), "-o", "chunks.jsonl")
    assert result.exit_code == 0, result.output
    chunks = [json.loads(line) for line in (here / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(here / "tok"))
    sizes = [len(tokenizer.encode(c["text"], add_special_tokens=False)) for c in chunks]
    assert len(chunks) > 3 and max(sizes) <= 16
    result = run(str(FIXTURES / "docs" / "guide.md"), "--chunk", "--max-tokens", "16", "--tokenizer",
                 str(here / "no-such-tokenizer"), "-o", "chunks.jsonl")
    assert result.exit_code == 2 and result.output.startswith("Error: cannot load tokenizer")
