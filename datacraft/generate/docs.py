"""Documents for `generate --from-docs`: read with `ingest`'s readers, cut with its chunker."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
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
    """Every chunk of every document, in order (`chunk_order` decides which request asks about which).

    Cut by the ingest chunker: at headings, paragraphs, sentences (CJK punctuation included), words.
    """
    from datacraft.ingest.chunking import chunk_text

    for path in paths:
        for doc_id, text, meta in load_documents(path):
            for piece in chunk_text(text, max_chars=max_chars):
                if piece.text.strip():
                    yield Chunk(doc_id, piece.index, piece.start, piece.end, piece.text, meta)


def chunk_order(chunks: Sequence[Chunk], seed: int = 0) -> list[int]:
    """The order requests visit chunks in: round-robin over the documents, each one's chunks spread out.

    Stratified: the first requests cover every document, and within a document they land far
    apart (a golden-ratio sequence from a seeded start), so `-n 60` over 752 chunks does not use
    chunks 0-12 only. Deterministic for a seed, so a resumed run asks about the same chunks.

    >>> parts = [Chunk(d, i, 0, 1, "x", {}) for d, n in (("a", 8), ("b", 2)) for i in range(n)]
    >>> [(parts[i].doc_id, parts[i].index) for i in chunk_order(parts)][:6]
    [('a', 6), ('b', 1), ('a', 3), ('b', 0), ('a', 0), ('a', 5)]
    """
    return list(_order(tuple((c.doc_id, c.index) for c in chunks), seed))


@lru_cache(maxsize=8)
def _order(keys: tuple[tuple[str, int], ...], seed: int) -> tuple[int, ...]:
    by_doc: dict[str, list[int]] = {}
    for position, (doc_id, _) in enumerate(keys):
        by_doc.setdefault(doc_id, []).append(position)
    rng = random.Random(seed)
    spread = []
    for positions in by_doc.values():
        start = rng.random()
        # visit i goes to the chunk whose place in the document is the rank of frac(start + i * phi):
        # consecutive visits land far apart, and every chunk is visited once
        values = [(start + 0.6180339887 * i) % 1 for i in range(len(positions))]
        rank = {i: r for r, i in enumerate(sorted(range(len(values)), key=values.__getitem__))}
        spread.append([positions[rank[i]] for i in range(len(positions))])
    order = []
    for rank in range(max(map(len, spread), default=0)):
        order.extend(doc[rank] for doc in spread if rank < len(doc))
    return tuple(order)
