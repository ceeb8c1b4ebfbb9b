"""Ingest: local files and folders, dataset hubs and web pages into Alpaca records or documents."""

from __future__ import annotations

import importlib
from typing import Any

# Names are loaded on first use: the crawler's HTTP and HTML stack should not slow every CLI start.
_EXPORTS = {
    "Chunk": "chunking", "chunk_documents": "chunking", "chunk_text": "chunking", "load_tokenizer": "chunking",
    "token_counter": "chunking",
    "ChunkConfig": "config", "CrawlConfig": "config", "IngestConfig": "config", "default_user_agent": "config",
    "crawl": "crawler",
    "extract_file": "documents", "make_document": "documents",
    "normalize_url": "fetch",
    "extract_html": "html", "extract_links": "html",
    "PRESETS": "presets", "conversation": "presets", "detect_preset": "presets", "make_converter": "presets",
    "ingest": "runner",
    "plan_sources": "sources",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'datacraft.ingest' has no attribute {name!r}")
    return getattr(importlib.import_module(f"datacraft.ingest.{_EXPORTS[name]}"), name)
