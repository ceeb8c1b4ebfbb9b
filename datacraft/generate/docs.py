"""Documents for `generate --from-docs`: read with `ingest`'s readers, cut with its chunker."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datacraft.errors import InputError
from datacraft.io.readers import iter_records


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
    """(doc_id, text, meta) per document.

    Text, Markdown, HTML, PDF and DOCX files are one document each (read by `ingest`, encoding
    detected); JSON/JSONL rows need `text` (as `datacraft ingest` writes them).
    """
    from datacraft.ingest.documents import extract_file
    from datacraft.ingest.sources import DOCUMENT_SUFFIXES
    from datacraft.stages import Reject

    kind = DOCUMENT_SUFFIXES.get(Path(path).suffix.lower())
    if kind:
        if not Path(path).is_file():
            raise InputError(path, "file not found")
        try:
            title, text, extra = extract_file(path, kind)
        except Reject as exc:
            raise InputError(path, f"cannot read: {exc.detail or exc.reason}") from None
        if text.strip():
            yield Path(path).stem, text, {"path": str(path), "title": title, **extra}
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


def iter_chunks(paths: list[str], max_chars: int = 1500) -> Iterator[Chunk]:
    """Every chunk of every document, in order (the order decides which request asks about which chunk).

    Cut by the ingest chunker: at headings, paragraphs, sentences (CJK punctuation included), words.
    """
    from datacraft.ingest.chunking import chunk_text

    for path in paths:
        for doc_id, text, meta in load_documents(path):
            for piece in chunk_text(text, max_chars=max_chars):
                if piece.text.strip():
                    yield Chunk(doc_id, piece.index, piece.start, piece.end, piece.text, meta)
