"""Encrypted PDFs, one unreadable file among good ones, and the text damage page layout does."""

import os

import pytest
from pypdf import PdfReader, PdfWriter

from datacraft.ingest.config import IngestConfig
from datacraft.ingest.documents import tidy_extracted
from datacraft.ingest.runner import ingest
from datacraft.io import read_records
from tests.ingest.helpers import make_pdf


def _encrypt(source, target, user="", owner="owner-secret", algorithm="AES-256"):
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user, owner_password=owner, algorithm=algorithm)
    with open(target, "wb") as handle:
        writer.write(handle)


def _ingest(folder, tmp_path):
    out, rej = tmp_path / "docs.jsonl", tmp_path / "rej.jsonl"
    summary = ingest([str(folder)], str(out), rejects=str(rej), config=IngestConfig())
    return summary, list(read_records(out)), list(read_records(rej))


@pytest.mark.parametrize("algorithm", ["AES-128", "AES-256", "RC4-128"])
def test_owner_password_only_pdfs_are_read_and_user_password_ones_rejected(tmp_path, algorithm):
    folder = tmp_path / "in"
    folder.mkdir()
    plain = make_pdf(tmp_path / "plain.pdf", [["Refunds take one week."]])
    _encrypt(plain, folder / "owner_only.pdf", algorithm=algorithm)
    _encrypt(plain, folder / "locked.pdf", user="user-secret", algorithm=algorithm)
    make_pdf(folder / "good.pdf", [["Items can be returned within 30 days."]])
    summary, docs, rejected = _ingest(folder, tmp_path)
    assert sorted((os.path.basename(d["id"]), d["text"]) for d in docs) == [
        ("good.pdf", "Items can be returned within 30 days."), ("owner_only.pdf", "Refunds take one week.")]
    assert [(os.path.basename(r["source"]), r["reason"]) for r in rejected] == [("locked.pdf", "encrypted")]
    assert summary["read"] == summary["kept"] + summary["rejected"] == 3


def test_one_unreadable_file_among_good_ones(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    make_pdf(folder / "a.pdf", [["First good file."]])
    (folder / "b.md").write_text("# B\n\nSecond good file.\n", encoding="utf-8")
    (folder / "c.pdf").write_bytes(b"%PDF-1.4\n" + os.urandom(300))
    (folder / "d.txt").write_bytes(b"\xff\xfe\x00\xd8 broken utf-16 \x00")
    (folder / "e.txt").symlink_to(tmp_path / "gone.txt")  # unreadable even for root, unlike chmod 0
    summary, docs, rejected = _ingest(folder, tmp_path)
    assert sorted(os.path.basename(d["id"]) for d in docs) == ["a.pdf", "b.md"]
    reasons = {os.path.basename(r["source"]).split(":")[0]: r["reason"] for r in rejected}
    assert reasons["c.pdf"] == "unreadable" and "d.txt" in reasons
    assert all(r.get("detail") for r in rejected)
    assert summary["read"] == summary["kept"] + summary["rejected"]


def test_cjk_hard_line_breaks_are_joined_and_toc_leaders_removed():
    text = "目录\n第一章 总则……………… 1\n1.1 Scope ............ 3\n机器学习是一种让计算机从\n数据中学习规律的方法。\nEnglish lines\nkeep their breaks."
    assert tidy_extracted(text) == "目录\n机器学习是一种让计算机从数据中学习规律的方法。\nEnglish lines\nkeep their breaks."
    assert tidy_extracted("Version 1.2.3.4 is out.\nSee page . 5") == "Version 1.2.3.4 is out.\nSee page . 5"
