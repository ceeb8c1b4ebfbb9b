"""Seeds, documents, feedback files and prompt templates: the inputs of a generation run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datacraft.errors import ConfigError, InputError
from datacraft.generate import (
    append_feedback,
    iter_chunks,
    load_feedback,
    load_seeds,
    render,
    seed_warnings,
    seeds_language,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "generate"


def test_alpaca_jsonl_and_json_array_seeds():
    english = load_seeds(str(FIXTURES / "seeds_en.jsonl"))
    chinese = load_seeds(str(FIXTURES / "seeds_zh.json"))
    assert len(english) == 12 and len(chinese) == 10
    assert english[1] == {"instruction": "Rewrite the sentence in the passive voice.",
                          "input": "The committee approved the new budget on Friday.",
                          "output": "The new budget was approved by the committee on Friday.", "id": "seeds_en:2"}
    assert seeds_language(english) == "en" and seeds_language(chinese) == "zh"
    assert seed_warnings(english) == [] and seed_warnings(chinese) == []


def test_stanford_seed_tasks_use_their_first_instance():
    seeds = load_seeds(str(FIXTURES / "stanford_seed_tasks.jsonl"))
    assert [s["id"] for s in seeds] == ["task_a", "task_b", "task_c", "task_d", "task_e"]
    assert seeds[1] == {"instruction": "What is the capital city of the given country?", "input": "Kenya",
                        "output": "Nairobi", "id": "task_b"}
    warnings = seed_warnings(seeds)
    assert len(warnings) == 1 and warnings[0].startswith("only 5 seed examples")


def test_bad_seeds_are_errors_naming_the_line(tmp_path):
    with pytest.raises(InputError, match=r"bad_seeds.jsonl:2: bad seed: output: .*string"):
        load_seeds(str(FIXTURES / "bad_seeds.jsonl"))
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"instruction": "a", "output": "b"}\n{"instruction": \n', encoding="utf-8")
    with pytest.raises(InputError, match=r"broken.jsonl:2: invalid JSON"):
        load_seeds(str(broken))
    stanford = tmp_path / "tasks.jsonl"
    stanford.write_text('{"instruction": "a", "instances": []}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"tasks.jsonl:1: bad seed: `instances` must be a non-empty list"):
        load_seeds(str(stanford))
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="no seed examples found"):
        load_seeds(str(empty))


@pytest.mark.parametrize("max_chars", [40, 80, 200])
def test_chunks_are_bounded_ordered_and_cover_the_text(max_chars):
    # The chunker itself is tested in tests/ingest; this checks generate's use of it.
    chunks = list(iter_chunks([str(FIXTURES / "docs.jsonl")], max_chars=max_chars))
    source = {json.loads(line)["id"]: json.loads(line)["text"]
              for line in (FIXTURES / "docs.jsonl").read_text(encoding="utf-8").splitlines()}
    for doc_id, doc in source.items():
        spans = [(c.start, c.end) for c in chunks if c.doc_id == doc_id]
        assert [c.index for c in chunks if c.doc_id == doc_id] == list(range(len(spans)))
        assert all(end - start <= max_chars for start, end in spans)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
        covered = "".join(doc[s:e] for s, e in spans)
        assert "".join(covered.split()) == "".join(doc.split())  # only whitespace between chunks is dropped


def test_chunk_provenance_points_back_into_the_document():
    chunks = list(iter_chunks([str(FIXTURES / "docs.jsonl")], max_chars=120))
    assert {c.doc_id for c in chunks} == {"tea", "bridge"}
    source = {json.loads(line)["id"]: json.loads(line)["text"]
              for line in (FIXTURES / "docs.jsonl").read_text(encoding="utf-8").splitlines()}
    for chunk in chunks:
        assert source[chunk.doc_id][chunk.start:chunk.end] == chunk.text
        meta = chunk.provenance()
        assert meta["doc_id"] == chunk.doc_id and meta["chunk_id"] == f"{chunk.doc_id}#{chunk.index}"
        assert meta["chunk"]["text"] == chunk.text and meta["document"]["source"] == "handwritten"


def test_plain_text_documents_and_bad_document_rows(tmp_path):
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nFirst paragraph.\n\nSecond paragraph.\n", encoding="utf-8")
    chunks = list(iter_chunks([str(notes)]))
    assert len(chunks) == 1 and chunks[0].doc_id == "notes" and chunks[0].text.startswith("# Notes")
    assert chunks[0].provenance()["document"]["title"] == "Notes"  # the Markdown title, read by ingest
    bad = tmp_path / "docs.jsonl"
    bad.write_text('{"id": "a", "text": "fine"}\n{"id": "b", "body": "no text"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r'docs.jsonl:2: document has no "text" string'):
        list(iter_chunks([str(bad)]))


def test_feedback_entries_rules_versions_and_prompt_selection(tmp_path):
    path = tmp_path / "feedback.jsonl"
    rows = [
        {"instruction": "Say hi", "output": "Sure! Hi", "reason": "starts with filler"},
        {"reason": "never answer with a single word"},
        {"record": {"instruction": "Add 1+1", "output": "3"}, "reason": "wrong answer",
         "better": {"instruction": "Add 1+1", "output": "2"}},
        {"instruction": "Say bye", "output": "Sure! Bye", "reason": "starts with filler"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    feedback = load_feedback(str(path))
    assert [e.reason for e in feedback.entries] == ["starts with filler", "never answer with a single word",
                                                    "wrong answer", "starts with filler"]
    assert feedback.entries[1].record is None
    assert feedback.entries[2].better == {"instruction": "Add 1+1", "output": "2"}
    assert feedback.reasons()[0] == "starts with filler"
    picked = feedback.for_prompt(3)  # one per reason, the newest "filler" example, file order kept
    assert [e.record and e.record["instruction"] for e in picked] == [None, "Add 1+1", "Say bye"]
    version = feedback.version
    append_feedback(str(path), [{"instruction": "x", "output": "y", "reason": "too vague"}])
    assert load_feedback(str(path)).version != version and len(version) == 12
    assert load_feedback(None).version is None


def test_feedback_file_errors_and_appending_to_a_hand_edited_file(tmp_path):
    path = tmp_path / "feedback.jsonl"
    with pytest.raises(InputError, match="feedback file not found"):
        load_feedback(str(path))
    path.write_text('{"instruction": "a", "output": "b"}', encoding="utf-8")  # no reason, no final newline
    with pytest.raises(InputError, match=r'feedback.jsonl:1: feedback entry has no "reason"'):
        load_feedback(str(path))
    path.write_text('{"instruction": "a", "output": "b", "reason": "r1"}', encoding="utf-8")
    append_feedback(str(path), [{"instruction": "c", "output": "d", "reason": "r2"}])
    assert [e.reason for e in load_feedback(str(path)).entries] == ["r1", "r2"]


def test_prompts_render_in_both_languages_with_counter_examples(tmp_path):
    path = tmp_path / "feedback.jsonl"
    path.write_text(json.dumps({"instruction": "Say hi", "output": "Sure! Hi", "reason": "starts with filler",
                                "better": {"instruction": "Say hi", "output": "Hi!"}}) + "\n"
                    + json.dumps({"reason": "no one-word answers"}) + "\n", encoding="utf-8")
    entries = load_feedback(str(path)).entries
    seeds = [{"instruction": "列出四大发明", "input": "", "output": "造纸术、印刷术、火药和指南针"}]
    english = render("generate_en", count=4, lang="en", seeds=seeds, earlier=[], feedback=entries)[0]["content"]
    assert "Write 4 new task examples" in english
    assert '{"instruction": "列出四大发明", "input": "", "output": "造纸术、印刷术、火药和指南针"}' in english
    assert 'Bad example: {"instruction": "Say hi", "output": "Sure! Hi"}' in english
    assert "Why it is bad: starts with filler" in english and 'Better: {"instruction": "Say hi", "output": "Hi!"}' in english
    assert "- Rule: no one-word answers" in english
    chinese = render("generate_zh", count=4, lang="zh", seeds=seeds, earlier=[], feedback=entries)[0]["content"]
    assert "请写出 4 条新的任务样例" in chinese and "问题所在：starts with filler" in chinese
    plain = render("generate_en", count=2, lang="en", seeds=seeds, earlier=[], feedback=[])[0]["content"]
    assert "Mistakes found" not in plain and "earlier that were accepted" not in plain
    docs = render("from_docs_zh", count=3, chunk="赵州桥建于隋代。", seeds=[], feedback=[], lang="zh")[0]["content"]
    assert "赵州桥建于隋代。" in docs and "3 组问答" in docs


def test_user_templates_and_their_errors(tmp_path):
    mine = tmp_path / "mine.j2"
    mine.write_text("Give me {{ count }} items like {{ seeds[0].instruction }}.", encoding="utf-8")
    messages = render("generate_en", str(mine), count=2, seeds=[{"instruction": "X"}], earlier=[], feedback=[], lang="en")
    assert messages == [{"role": "user", "content": "Give me 2 items like X.\n"}]
    mine.write_text("{{ count }} {{ colour }}", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown variable \('colour' is undefined\); available: count"):
        render("generate_en", str(mine), count=2)
    mine.write_text("{% for x in %}", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mine.j2:1: prompt template syntax error"):
        render("generate_en", str(mine), count=2)
    with pytest.raises(ConfigError, match="prompt template not found"):
        render("generate_en", str(tmp_path / "missing.j2"))
