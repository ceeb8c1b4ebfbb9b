"""Seeds, documents, feedback files and prompt templates: the inputs of a generation run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from datacraft.errors import InputError
from datacraft.generate import (
    append_feedback,
    iter_chunks,
    load_feedback,
    load_seeds,
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


def _prompt(lang: str, feedback: list, chunks=None, **settings) -> str:
    from datacraft.generate import GenerateConfig
    from datacraft.generate.requests import RoundContext, build_prompt

    seeds = [{"id": "s1", "instruction": "列出四大发明", "input": "", "output": "造纸术、印刷术、火药和指南针"}]
    ctx = RoundContext(1, seeds, [], feedback, None, lang, chunks)
    return build_prompt(GenerateConfig(batch_size=4, **settings), ctx, 0)[0][0]["content"]


def test_prompts_in_every_language_with_summarised_counter_examples(tmp_path):
    path = tmp_path / "feedback.jsonl"
    long_answer = "Sure! " + "This answer rambles on and on. " * 60
    path.write_text(json.dumps({"instruction": "Say hi", "output": long_answer, "reason": "starts with filler",
                                "better": {"instruction": "Say hi", "output": "Hi!"}}) + "\n"
                    + json.dumps({"reason": "no one-word answers"}) + "\n", encoding="utf-8")
    entries = load_feedback(str(path)).entries
    english = _prompt("en", entries)
    assert "Write 4 new task examples" in english and "Write the examples in English." in english
    assert '{"instruction": "列出四大发明", "input": "", "output": "造纸术、印刷术、火药和指南针"}' in english
    assert '- starts with filler. For example: "Say hi" answered "Sure! This answer rambles' in english
    assert '…"; better: "Hi!"' in english and "- Rule: no one-word answers" in english
    assert len(english) < len(_prompt("en", [])) + 400  # a 1,900-character bad answer costs a line, not a page
    assert "start each instruction with a different verb" in english and "under 100 words" in english
    assert "no actions in the world" in english  # text-only tasks
    phrases = {"zh-Hans": "请写出 4 条新的任务样例", "zh-Hant": "請寫出 4 則新的任務範例", "ja": "新しいタスク例を 4 件",
               "ko": "새로운 과제 예시를 4개", "other": "in the same language as the examples"}
    for lang, phrase in phrases.items():
        text = _prompt(lang, entries)
        assert phrase in text and "starts with filler" in text and "Hi!" in text, lang
    plain = _prompt("en", [])
    assert "Mistakes found" not in plain and "earlier that were accepted" not in plain
    assert "The dataset is for" not in plain
    told = _prompt("en", [], application="a support bot for a bicycle shop", criteria=["Use metric units."])
    assert "The dataset is for this application: a support bot for a bicycle shop" in told
    assert "6. Use metric units.\n7. Write the examples in English." in told


def test_from_docs_prompts_answer_in_each_passage_language():
    from datacraft.generate.docs import Chunk

    passages = {"赵州桥建于隋代，是现存最古老的石拱桥。": "3 组问答", "趙州橋建於隋代，這是現存最古老的石拱橋。": "使用繁體中文",
                "東京は日本の首都です。人口が多い都市です。": "日本語で書く", "서울은 한국의 수도입니다.": "한국어로 쓰세요",
                "The bridge was built in the Sui dynasty.": "in English, the language of the passage",
                "Le pont a été construit sous la dynastie Sui et il est très ancien.": "the language of the passage (not in English"}
    for text, phrase in passages.items():
        prompt = _prompt("auto", [], chunks=[Chunk("d", 0, 0, len(text), text, {})])
        assert text in prompt and phrase in prompt, text


