"""Local files and folders: structured rows into records, documents from text, Markdown, HTML, PDF, DOCX."""

from __future__ import annotations

import json
import shutil

import pytest

from datacraft.errors import ConfigError, InputError
from datacraft.ingest import ChunkConfig, IngestConfig, ingest
from datacraft.io import write_records
from tests.ingest.helpers import FIXTURES, make_docx, make_pdf


def _run(sources, tmp_path, read_options=None, **options):
    out, rejects = tmp_path / "out.jsonl", tmp_path / "rejects.jsonl"
    summary = ingest([str(s) for s in sources], str(out), rejects=str(rejects), config=IngestConfig(**options),
                     read_options=read_options)
    assert summary["read"] == summary["kept"] + summary["rejected"]  # every unit is accounted for
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    rejected = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert summary["written"] == len(items) and summary["rejected"] == len(rejected)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    return summary, items, rejected


def test_gbk_csv_question_answer_columns_become_records(tmp_path):
    path = FIXTURES / "faq_gbk.csv"
    summary, records, rejected = _run([path], tmp_path)
    assert records[:2] == [
        {"instruction": "怎么退货？", "input": "", "output": "在订单页面点击“申请退货”，七天内有效。", "id": "faq_gbk:2",
         "meta": {"source": f"{path}:2", "extra": {"category": "售后"}}},
        {"instruction": "发票怎么开？\n可以开专票吗？", "input": "", "output": "下单时填写发票信息；专票请联系客服。",
         "id": "faq_gbk:3", "meta": {"source": f"{path}:3", "extra": {"category": "发票"}}},
    ]
    assert [r["meta"]["source"].rsplit(":", 1)[1] for r in records] == ["2", "3", "5", "7"]
    assert [(r["reason"], r["source"]) for r in rejected] == [("empty_field", f"{path}:6")]
    assert rejected[0]["record"] == {"question": "多久发货？", "answer": "", "category": "物流"}
    assert summary["output"] == "records" and summary["sources"] == {"structured": 1}


def test_map_options_rename_columns_before_the_preset(tmp_path):
    _, records, _ = _run([FIXTURES / "faq_gbk.csv"], tmp_path,
                         read_options={"mapping": {"instruction": "question", "output": "answer", "system": "category"}})
    assert records[0]["instruction"] == "怎么退货？" and records[0]["system"] == "售后"
    assert "extra" not in records[0]["meta"]


def test_utf8_bom_json_keeps_ids_and_earlier_provenance(tmp_path):
    path = FIXTURES / "records_bom.json"
    summary, records, rejected = _run([path], tmp_path)
    assert [r["id"] for r in records] == ["records_bom:2", "records_bom:7", "kb-42", "records_bom:26"]
    assert records[2]["meta"] == {"source": f"{path}:17", "topic": "math", "origin": "kb.csv:7"}
    assert records[3]["system"] == "你是一位诗人。"
    assert [r["reason"] for r in rejected] == ["empty_field"]


def test_sharegpt_rows_bad_lines_and_tool_calls_are_counted(tmp_path):
    path = FIXTURES / "chats.jsonl"
    summary, records, rejected = _run([path], tmp_path)
    assert [r["instruction"] for r in records] == ["推荐一本书", "Capital of France?"]
    assert records[0]["history"] == [["你好", "你好！有什么可以帮你？"]]
    assert records[1]["system"] == "You are terse." and records[1]["meta"]["extra"] == {"lang": "en"}
    assert [(r["reason"], r["source"]) for r in rejected] == [
        ("unconvertible", f"{path}:3"), ("invalid_json", f"{path}:4"), ("turn_order", f"{path}:5")]
    assert rejected[1]["raw"].startswith('{"conversations"')
    assert summary["reasons"] == {"ingest/unconvertible": 1, "ingest/invalid_json": 1, "ingest/turn_order": 1}


def test_strict_makes_the_first_bad_row_fatal(tmp_path):
    with pytest.raises(InputError, match=r"chats.jsonl:4: invalid JSON"):
        _run([FIXTURES / "chats.jsonl"], tmp_path, strict=True)
    assert not (tmp_path / "out.jsonl").exists()  # nothing half-written


def test_openai_messages_and_stanford_seed_tasks(tmp_path):
    _, records, rejected = _run([FIXTURES / "messages.jsonl"], tmp_path / "m")
    assert [(r["instruction"], r.get("system")) for r in records] == [("Colour of the sky?", "Answer in one word."),
                                                                      ("Say hi", None)]
    assert [r["reason"] for r in rejected] == ["non_text_content"]

    summary, records, rejected = _run([FIXTURES / "seed_tasks.jsonl"], tmp_path / "s", preset="stanford-alpaca")
    assert [r["id"] for r in records] == ["seed_task_0", "seed_task_1-1", "seed_task_1-2"]
    assert records[1]["input"] == "Loved it." and records[1]["meta"]["extra"]["name"] == "sentiment"
    assert (summary["read"], summary["kept"], summary["written"]) == (3, 2, 3)
    assert rejected[0]["reason"] == "empty_field"


def test_a_folder_of_documents(tmp_path):
    docs = FIXTURES / "docs"
    summary, items, rejected = _run([docs], tmp_path, exclude=["drafts/*"])
    by_name = {item["id"].rsplit("/", 1)[1]: item for item in items}
    assert sorted(by_name) == ["guide.md", "note_utf16.txt", "notice_big5.txt", "page.html"]
    guide = by_name["guide.md"]
    assert guide["meta"] == {"source": str(docs / "guide.md"), "title": "Returns guide", "format": "markdown"}
    assert guide["text"].startswith("# Returns\n") and "author:" not in guide["text"]
    assert by_name["note_utf16.txt"]["text"].startswith("Shipping note\n\nOrders placed before 3 pm")
    assert "下午三点前的订单当天发货" in by_name["note_utf16.txt"]["text"]
    assert by_name["notice_big5.txt"]["text"].startswith("營業時間公告")
    page = by_name["page.html"]
    assert page["meta"]["title"] == "Warranty"
    assert page["text"].startswith("# Warranty") and "Cart" not in page["text"] and "Copyright" not in page["text"]
    assert sorted((r["reason"], r["source"].rsplit("/", 1)[1]) for r in rejected) == [
        ("empty_text", "empty.txt"), ("unsupported_type", "data.xyz")]
    assert summary["skipped"] == {"hidden": 1, "excluded": 1}
    assert summary["output"] == "documents"


def test_include_globs_and_one_document_per_line(tmp_path):
    summary, items, _ = _run([FIXTURES / "docs"], tmp_path, include=["*.md"])
    assert sorted(i["meta"]["title"] for i in items) == ["Draft", "Returns guide"]
    assert summary["skipped"]["not_included"] == 5

    lines = tmp_path / "articles.txt"
    lines.write_text("First article.\n\n  Second article.  \nThird.\n", encoding="utf-8")
    _, items, _ = _run([lines], tmp_path / "lines", doc_per="line")
    assert [(i["id"], i["text"]) for i in items] == [
        (f"{lines}:1", "First article."), (f"{lines}:3", "Second article."), (f"{lines}:4", "Third.")]


def test_pdf_and_docx_text_extraction(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    make_pdf(folder / "policy.pdf", [["Returns policy (2024)", "Items can be returned within 30 days."],
                                     ["Refunds take one week."]], title="Returns policy")
    make_pdf(folder / "scan.pdf", [[]])
    make_docx(folder / "handbook.docx")
    (folder / "broken.pdf").write_bytes(b"this is not a PDF")
    (folder / "broken.docx").write_bytes(b"nor is this a DOCX")
    _, items, rejected = _run([folder], tmp_path)
    by_name = {i["id"].rsplit("/", 1)[1]: i for i in items}
    assert sorted(by_name) == ["handbook.docx", "policy.pdf"]
    pdf, docx = by_name["policy.pdf"], by_name["handbook.docx"]
    assert pdf["text"] == "Returns policy (2024)\nItems can be returned within 30 days.\n\nRefunds take one week."
    assert pdf["meta"] == {"source": str(folder / "policy.pdf"), "title": "Returns policy", "format": "pdf", "pages": 2}
    assert docx["meta"]["title"] == "Onboarding handbook"
    assert docx["text"] == ("# Onboarding handbook\n\nWelcome to the team. This handbook explains your first week.\n\n"
                            "## First day\n\n- Collect your badge at the front desk.\n\n- Set up your laptop with the "
                            "IT desk.\n\nDay | Task\nMonday | Security training\n\n## 第二天\n\n与导师见面，了解团队的工作流程。")
    assert sorted((r["source"].rsplit("/", 1)[1], r["reason"]) for r in rejected) == [
        ("broken.docx", "unreadable"), ("broken.pdf", "unreadable"), ("scan.pdf", "empty_text")]


def test_documents_can_be_chunked(tmp_path):
    _, chunks, _ = _run([FIXTURES / "docs" / "guide.md"], tmp_path, chunk=ChunkConfig(max_chars=130))
    assert [c["meta"]["section"] for c in chunks] == ["Returns", "How to return", "退款"]
    assert {c["meta"]["doc_id"] for c in chunks} == {str(FIXTURES / "docs" / "guide.md")}
    with pytest.raises(ConfigError, match="--chunk cuts documents"):
        _run([FIXTURES / "chats.jsonl"], tmp_path, chunk=ChunkConfig())


def test_rows_as_documents_use_the_text_field(tmp_path):
    path = tmp_path / "articles.jsonl"
    write_records(path, [{"id": "a1", "title": "Tea", "body": "Green tea is unoxidised.", "lang": "en"},
                         {"id": "a2", "title": "Empty", "body": ""}])
    _, docs, rejected = _run([path], tmp_path / "out", output="documents", text_field="body")
    assert docs == [{"id": "a1", "text": "Green tea is unoxidised.",
                     "meta": {"source": f"{path}:1", "title": "Tea", "extra": {"lang": "en"}}}]
    assert rejected[0]["reason"] == "empty_text"


def test_mixed_sources_need_a_choice(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(FIXTURES / "chats.jsonl", folder)
    shutil.copy(FIXTURES / "docs" / "guide.md", folder)
    with pytest.raises(ConfigError, match="mix record files .* and documents"):
        _run([folder], tmp_path)
    summary, records, rejected = _run([folder], tmp_path, output="records")
    assert len(records) == 2 and {r["reason"] for r in rejected} >= {"not_records"}
    with pytest.raises(ConfigError, match="give documents, not records"):
        _run([folder / "guide.md"], tmp_path, output="records")


def test_excel_parquet_limit_and_unreadable_files_in_a_folder(tmp_path):
    import pandas as pd

    folder = tmp_path / "in"
    folder.mkdir()
    rows = [{"prompt": f"p{i}", "response": f"r{i}"} for i in range(5)]
    pd.DataFrame(rows).to_excel(folder / "a.xlsx", index=False)
    write_records(folder / "b.parquet", rows)
    (folder / "c.json").write_text("this is not JSON", encoding="utf-8")
    summary, records, rejected = _run([folder], tmp_path, limit=3)
    assert [r["meta"]["source"].rsplit("/", 1)[1] for r in records] == [
        "a.xlsx:2", "a.xlsx:3", "a.xlsx:4", "b.parquet:1", "b.parquet:2", "b.parquet:3"]
    assert [(r["reason"], r["source"].rsplit("/", 1)[1]) for r in rejected] == [("unreadable", "c.json:1")]


def test_outputs_are_never_read_or_overwritten(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(FIXTURES / "chats.jsonl", folder)
    out = folder / "out.jsonl"
    for _ in range(2):  # the second run must not read the first run's output
        summary = ingest([str(folder)], str(out))
        assert summary["written"] == 2
    assert summary["skipped"] == {"output_file": 1}
    with pytest.raises(ConfigError, match="is also an input"):
        ingest([str(folder / "chats.jsonl")], str(folder / "chats.jsonl"))
    with pytest.raises(InputError, match="missing.jsonl: file not found"):
        ingest([str(folder / "missing.jsonl")], str(out))


def test_an_empty_folder_or_file_named_on_the_command_line_is_an_error(tmp_path):
    from datacraft.errors import InputError

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".hidden.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"empty: no files to read in this folder \(left out: 1 hidden\)"):
        _run([empty], tmp_path)
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"blank.jsonl: no records: the input is empty"):
        _run([blank], tmp_path)
