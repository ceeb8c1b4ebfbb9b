"""`ingest`: read files, folders, hub datasets and web pages into Alpaca records or documents."""

from __future__ import annotations

import itertools
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from datacraft.errors import ConfigError, InputError
from datacraft.ingest.chunking import chunk_documents, load_tokenizer
from datacraft.ingest.config import IngestConfig
from datacraft.ingest.documents import extract_file, iter_text_lines, make_document
from datacraft.ingest.hub import iter_hub_rows, iter_modelscope_rows
from datacraft.ingest.presets import make_converter
from datacraft.ingest.sources import (
    DATASET,
    DOCUMENT,
    HUB,
    MODELSCOPE,
    RECORD_KINDS,
    STRUCTURED,
    UNSUPPORTED,
    URL,
    Plan,
    Source,
    is_url,
    plan_sources,
)
from datacraft.io.readers import Row, apply_mapping, iter_records, record_id, source_labels
from datacraft.io.writers import JsonlWriter, check_not_input
from datacraft.records import Record
from datacraft.stages import Ledger, Reject, RejectSink

STAGE = "ingest"


def ingest(sources: list[str], output: str, *, rejects: str | None = None, config: IngestConfig | None = None,
           read_options: dict[str, Any] | None = None, progress: bool = False) -> dict[str, Any]:
    """Read every source into `output` (JSONL, written atomically); return the counts.

    Each unit read (a row, a file, a line in line mode, a page) is kept or rejected with a reason.
    """
    config = config or IngestConfig()
    options = {"fmt": None, "encoding": None, "mapping": {}, "split": None, **(read_options or {})}
    if not sources:
        raise ConfigError("give at least one source: a file, a folder, a dataset id or a URL")
    local = [s for s in sources if not is_url(s)]
    check_not_input(output, local)
    if rejects:
        check_not_input(rejects, local)
        if rejects == output or (rejects != "-" and output != "-" and Path(rejects).resolve() == Path(output).resolve()):
            raise ConfigError("--rejects must be a different file from the output")
    state = _state_path(output, config) if len(local) < len(sources) else None
    plan = plan_sources(sources, include=config.include, exclude=config.exclude, fmt=options["fmt"],
                        leave_out=[output, rejects or "", state or ""])
    kind = output_kind(plan, config)
    chunk = config.chunk
    if chunk and kind != "documents":
        raise ConfigError("--chunk cuts documents, and these sources give records; "
                          "pass --as documents (with --text-field) to read their text as documents")
    tokenizer = load_tokenizer(chunk.tokenizer) if chunk and chunk.max_tokens else None
    with RejectSink(rejects) as sink, JsonlWriter(output) as writer:
        ledger = Ledger(sink)
        ledger.stage(STAGE)
        items = _items(plan, kind, config, options, ledger, state, progress)
        if chunk:
            items = chunk_documents(items, max_chars=chunk.max_chars, max_tokens=chunk.max_tokens,
                                    tokenizer=tokenizer, overlap=chunk.overlap)
        # The crawler shows its own bar (pages); updates come in batches so the bar costs nothing per record.
        bar = tqdm(unit=" items", desc="ingest", file=sys.stderr, disable=not progress or URL in plan.kinds)
        for count, item in enumerate(items, start=1):
            writer.write(item)
            if count % 1000 == 0:
                bar.update(1000)
        bar.update(writer.count % 1000)
        bar.close()
    summary = ledger.to_dict(ledger.stage(STAGE).kept)
    summary.update(output=("chunks" if chunk else kind), written=writer.count, skipped=dict(plan.skipped),
                   sources=dict(Counter(s.kind for s in plan.sources)))
    return summary


def output_kind(plan: Plan, config: IngestConfig) -> str:
    """records or documents: as asked, else from the kinds of the sources (a mix must be settled by hand)."""
    records = [s for s in plan.sources if s.kind in RECORD_KINDS]
    documents = [s for s in plan.sources if s.kind in (DOCUMENT, URL)]
    named = [s for s in documents if not s.walked]
    if config.output == "records" and named:
        raise ConfigError(f"{named[0].path}: text, Markdown, HTML, PDF, DOCX and web pages give documents, "
                          "not records; drop --as records (`datacraft generate --from-docs` makes records from them)")
    if config.output != "auto":
        return config.output
    if records and documents:
        raise ConfigError(f"the sources mix record files ({records[0].path}) and documents ({documents[0].path}); "
                          "pass --as records or --as documents, or ingest them separately")
    return "documents" if documents else "records"


def _items(plan: Plan, kind: str, config: IngestConfig, options: dict[str, Any], ledger: Ledger,
           state: str | None, progress: bool) -> Iterator[Record]:
    stats = ledger.stage(STAGE)
    convert = make_converter(config.preset, config.tool_turns)
    labels = source_labels(s.path for s in plan.sources if s.kind in (STRUCTURED, DATASET))
    for source in plan.sources:
        if source.kind == UNSUPPORTED:
            stats.read += 1
            suffix = Path(source.path).suffix or "files without an extension"
            ledger.reject(STAGE, "unsupported_type", detail=f"no reader for {suffix}", source=source.path)
        elif source.kind == DOCUMENT and kind == "records":  # found in a folder read --as records
            stats.read += 1
            ledger.reject(STAGE, "not_records", detail=f"a {source.fmt} file gives a document; use --as documents",
                          source=source.path)
        elif source.kind == DOCUMENT:
            yield from _file_documents(source, config, options, ledger)
        elif source.kind != URL:
            rows = _rows(source, config, options, ledger)
            if kind == "records":
                yield from _records(rows, source, convert, ledger, labels.get(source.path))
            else:
                yield from _row_documents(rows, source, config.text_field, ledger)
    urls = [s.path for s in plan.sources if s.kind == URL]
    if urls:
        from datacraft.ingest.crawler import crawl

        yield from crawl(urls, config.crawl, ledger, state_path=state, skipped=plan.skipped, progress=progress)


def _state_path(output: str, config: IngestConfig) -> str | None:
    from datacraft.ingest.crawler import state_path_for

    return state_path_for(output, config.crawl)


def _label(source: Source) -> str:
    if source.kind == HUB:
        return f"hf:{source.path}"
    if source.kind == MODELSCOPE:
        return f"ms:{source.path}"
    return "stdin" if source.path == "-" else source.path


def _rows(source: Source, config: IngestConfig, options: dict[str, Any], ledger: Ledger) -> Iterator[Row]:
    """The rows of a structured source; bad rows and unreadable files are rejected, not fatal."""
    stats = ledger.stage(STAGE)

    def on_bad(row: Row) -> None:
        stats.read += 1
        ledger.reject(STAGE, row.reason or "unreadable", detail=row.error or "", raw=row.raw, source=row.where)

    if source.kind in (HUB, MODELSCOPE):
        reader = iter_hub_rows if source.kind == HUB else iter_modelscope_rows
        values = reader(source.path, subset=config.subset, split=options["split"], streaming=config.streaming)
        rows: Iterable[Row] = (Row(_label(source), n, apply_mapping(dict(v), options["mapping"]))
                               for n, v in enumerate(values, start=1))
    else:
        rows = iter_records(source.path, fmt="hf" if source.kind == DATASET else source.fmt,
                            encoding=options["encoding"], mapping=options["mapping"], strict=config.strict,
                            on_bad=on_bad, split=options["split"])
    try:
        count = 0
        for row in itertools.islice(rows, config.limit):
            count += 1
            yield row
        if not count and not stats.read and source.kind == STRUCTURED and not source.walked:
            # A file named on the command line that holds nothing: a batch job must not pass as done.
            raise InputError(source.path, "no records: the input is empty; check the path (or --format)")
    except InputError as exc:
        # A file named on the command line must be readable; one found in a folder is counted and skipped.
        if config.strict or not source.walked:
            raise
        stats.read += 1
        where = f"{exc.path}:{exc.line}" if exc.line else exc.path
        ledger.reject(STAGE, "unreadable", detail=exc.message, source=where)


def _records(rows: Iterable[Row], source: Source, convert: Any, ledger: Ledger, stem: str | None) -> Iterator[Record]:
    stats = ledger.stage(STAGE)
    label = _label(source)
    stem = stem or label
    read = kept = 0  # counted locally and added at the end: this loop must stream fast
    try:
        for row in rows:
            read += 1
            value = row.value
            where = f"{label if row.path == source.path else row.path}:{row.line}"
            try:
                records = convert(value)
            except Reject as rej:
                ledger.reject(STAGE, rej.reason, detail=rej.detail, record=value, source=where)
                continue
            kept += 1
            row_meta = value.get("meta")
            if type(row_meta) is not dict:
                row_meta = None
            elif "source" in row_meta:  # provenance from an earlier tool is kept, ours goes first
                row_meta = {k: v for k, v in row_meta.items() if k != "source"} | {"origin": row_meta["source"]}
            for number, record in enumerate(records, start=1):
                rid = record.get("id", value.get("id"))
                if type(rid) is not str or not rid:
                    rid = str(rid) if type(rid) is int else record_id(stem, row) + (
                        f"-{number}" if len(records) > 1 else "")
                extra_meta = record.pop("meta", None)
                record["id"] = rid
                meta = {"source": where}
                if row_meta:
                    meta.update(row_meta)
                if extra_meta:
                    meta.update(extra_meta)
                record["meta"] = meta
                yield record
    finally:
        stats.read += read
        stats.kept += kept


def _row_documents(rows: Iterable[Row], source: Source, text_field: str, ledger: Ledger) -> Iterator[Record]:
    stats = ledger.stage(STAGE)
    label = _label(source)
    for row in rows:
        stats.read += 1
        value, where = row.value, f"{label}:{row.line}"
        text = value.get(text_field)
        if not isinstance(text, str) or not text.strip():
            ledger.reject(STAGE, "empty_text", record=value, source=where,
                          detail=f"no {text_field!r} text; columns: {', '.join(map(str, value))}; pass --text-field")
            continue
        stats.kept += 1
        meta = value.get("meta") if isinstance(value.get("meta"), dict) else {}
        extra = {k: v for k, v in value.items() if k not in ("id", "meta", "title", "url", text_field)}
        doc = make_document(str(value.get("id") or where), text, source=where, title=str(value.get("title") or ""),
                            **{k: v for k, v in meta.items() if k not in ("source", "title")})
        if value.get("url"):
            doc["meta"]["url"] = value["url"]
        if extra:
            doc["meta"]["extra"] = extra
        yield doc


def _file_documents(source: Source, config: IngestConfig, options: dict[str, Any], ledger: Ledger) -> Iterator[Record]:
    stats = ledger.stage(STAGE)
    path, kind = source.path, source.fmt or "text"
    try:
        if config.doc_per == "line" and kind in ("text", "markdown"):
            for number, line in iter_text_lines(path, options["encoding"]):
                stats.read += 1
                stats.kept += 1
                yield make_document(f"{path}:{number}", line, source=f"{path}:{number}", format=kind)
            return
        stats.read += 1
        title, text, extra = extract_file(path, kind, options["encoding"])
    except Reject as rej:
        if config.doc_per == "line" and kind in ("text", "markdown"):
            stats.read += 1
        ledger.reject(STAGE, rej.reason, detail=rej.detail, source=path)
        return
    if not text.strip():
        ledger.reject(STAGE, "empty_text", detail=f"no text found in this {kind} file", source=path)
        return
    stats.kept += 1
    yield make_document(path, text, source=path, title=title, format=kind, **extra)
