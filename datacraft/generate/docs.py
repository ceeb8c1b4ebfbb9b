"""Documents for `generate --from-docs`: reading them, and a paragraph/sentence chunker aware of CJK punctuation."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datacraft.errors import InputError
from datacraft.io.readers import iter_records

TEXT_SUFFIXES = (".txt", ".md", ".markdown")
# A sentence ends at 。！？；… (CJK, no space needed) or at .!?; followed by a space; closing quotes stay attached.
_SENTENCE_END = re.compile(r"(?<=[。！？；…])[”’」』）)]*|(?<=[.!?;])[\"')\]]*(?=\s)")
_PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass(frozen=True)
class Chunk:
    """A piece of one document, with where it came from (kept in each generated record's `meta`)."""

    doc_id: str
    index: int  # chunk number within the document
    start: int  # character offsets in the document text
    end: int
    text: str
    source: dict[str, Any]  # the document's own meta (url, title, ...), kept as meta.document

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}#{self.index}"

    def provenance(self) -> dict[str, Any]:
        """What a record generated from this chunk carries in `meta`."""
        digest = hashlib.sha1(self.text.encode("utf-8")).hexdigest()[:12]
        return {"doc_id": self.doc_id, "chunk_id": self.chunk_id, "chunk": {
            "index": self.index, "start": self.start, "end": self.end, "sha1": digest, "text": self.text},
            **({"document": self.source} if self.source else {})}


def load_documents(path: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(doc_id, text, meta) per document: `.txt`/`.md` files are one document; JSON/JSONL rows need `text`."""
    if Path(path).suffix.lower() in TEXT_SUFFIXES:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError(path, "file not found") from None
        except UnicodeDecodeError as exc:
            raise InputError(path, f"cannot decode as UTF-8 ({exc.reason})") from None
        if text.strip():
            yield Path(path).stem, text, {"path": str(path)}
        return
    for row in iter_records(path, strict=True):
        value = row.value
        text = value.get("text", value.get("content"))
        if not isinstance(text, str):
            raise InputError(path, 'document has no "text" string (expected {"id", "text", "meta"})', row.line)
        if not text.strip():
            continue
        meta = value.get("meta") if isinstance(value.get("meta"), dict) else {}
        yield str(value.get("id") or f"{Path(path).stem}:{row.line}"), text, meta


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, keeping each sentence's punctuation.

    >>> sentences("第一句。第二句！Third one. Fourth?")
    ['第一句。', '第二句！', 'Third one.', ' Fourth?']
    """
    parts, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() > start:
            parts.append(text[start:match.end()])
            start = match.end()
    if start < len(text):
        parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _pieces(text: str, max_chars: int) -> Iterator[tuple[int, int]]:
    """(start, end) spans no longer than max_chars: paragraphs, else sentences, else hard cuts."""
    position = 0
    for paragraph in _PARAGRAPH.split(text):
        start = text.index(paragraph, position)
        position = start + len(paragraph)
        if not paragraph.strip():
            continue
        if len(paragraph) <= max_chars:
            yield start, start + len(paragraph)
            continue
        offset = start
        for sentence in sentences(paragraph):
            for cut in range(0, len(sentence), max_chars):
                yield offset + cut, offset + min(len(sentence), cut + max_chars)
            offset += len(sentence)


def chunk_text(text: str, max_chars: int = 1500, min_chars: int = 200) -> list[tuple[int, int]]:
    """Pack paragraphs/sentences into spans of at most max_chars; a short tail joins the previous span.

    >>> chunk_text("aaaa\\n\\nbbbb\\n\\ncccc", max_chars=10, min_chars=1)
    [(0, 10), (12, 16)]
    """
    spans: list[tuple[int, int]] = []
    for start, end in _pieces(text, max_chars):
        if spans and end - spans[-1][0] <= max_chars:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    if len(spans) > 1 and spans[-1][1] - spans[-1][0] < min_chars and spans[-1][1] - spans[-2][0] <= max_chars * 1.5:
        spans[-2:] = [(spans[-2][0], spans[-1][1])]
    return spans


def iter_chunks(paths: list[str], max_chars: int = 1500, min_chars: int = 200) -> Iterator[Chunk]:
    """Every chunk of every document, in order (the order decides which request asks about which chunk)."""
    for path in paths:
        for doc_id, text, meta in load_documents(path):
            for index, (start, end) in enumerate(chunk_text(text, max_chars, min_chars)):
                piece = text[start:end]
                lead = len(piece) - len(piece.lstrip())
                piece = piece.strip()
                if piece:
                    yield Chunk(doc_id, index, start + lead, start + lead + len(piece), piece, meta)
