"""`datacraft ingest`: files, folders, hub datasets and web pages into records or documents."""

from __future__ import annotations

import sys
from typing import Any

import click
from pydantic import ValidationError

from datacraft.cli.base import input_options, read_options, rejects_option, strict_option
from datacraft.errors import ConfigError
from datacraft.ingest.config import PRESET_NAMES, ChunkConfig, CrawlConfig, IngestConfig
from datacraft.ingest.runner import ingest
from datacraft.ingest.sources import is_url
from datacraft.runner import check_paths

_CRAWL = CrawlConfig.model_fields
_CHUNK = ChunkConfig.model_fields


@click.command("ingest")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option("-o", "--output", required=True, metavar="OUT", help="Ingested records, JSONL (`-` for stdout).")
@rejects_option(more="Here: every row, file or page that was skipped.")
@click.option("--as", "as_", type=click.Choice(["auto", "records", "documents"]), default="auto", show_default=True,
              help="Alpaca records or {id, text, meta} documents; auto: records from data files and "
                   "datasets, documents from text, Markdown, HTML, PDF, DOCX and web pages.")
@click.option("--include", multiple=True, metavar="GLOB", help="In folders, read only files matching (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="In folders, leave out files matching (repeatable).")
@click.option("--preset", type=click.Choice(PRESET_NAMES), default="auto", show_default=True,
              help="Row layout; auto picks per row from its columns.")
@click.option("--tool-turns", type=click.Choice(["reject", "inline"]), default="reject", show_default=True,
              help="Conversations with tool calls: reject, or keep calls and results as plain turns.")
@click.option("--text-field", default="text", show_default=True, help="Column with the text, for --as documents.")
@click.option("--doc-per", type=click.Choice(["file", "line"]), default="file", show_default=True,
              help="A text file is one document, or each non-empty line is one.")
@click.option("--subset", default=None, help="Dataset configuration on the hub.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Rows read from each data source at most.")
@click.option("--streaming/--no-streaming", default=True, show_default=True,
              help="Stream hub datasets instead of downloading them whole.")
@click.option("--crawl", "do_crawl", is_flag=True, help="Follow links from the given URLs (default depth 1).")
@click.option("--depth", type=click.IntRange(min=0), default=None, help="Link hops to follow (needs --crawl).")
@click.option("--max-pages", type=click.IntRange(min=1), default=_CRAWL["max_pages"].default, show_default=True,
              help="Pages fetched at most.")
@click.option("--allow-domain", multiple=True, metavar="DOMAIN",
              help="Follow links to this domain and its subdomains (default: the start URLs' sites).")
@click.option("--delay", type=click.FloatRange(min=0), default=_CRAWL["delay"].default, show_default=True,
              help="Seconds between requests to one host.")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=_CRAWL["timeout"].default,
              show_default=True, help="Seconds allowed per page.")
@click.option("--max-page-bytes", type=click.IntRange(min=1024), default=_CRAWL["max_bytes"].default,
              show_default=True, help="Larger pages are skipped.")
@click.option("--max-per-pattern", type=click.IntRange(min=0), default=_CRAWL["max_per_pattern"].default,
              show_default=True, help="Pages followed per URL pattern that differs only in numbers "
                                      "(calendars, endless pagers); 0 = no limit.")
@click.option("--user-agent", default=None, help="User-Agent header (default: datacraft/VERSION (+docs URL)).")
@click.option("--state", default=None, metavar="PATH", help="Crawl journal (default: OUTPUT.crawl-state.jsonl).")
@click.option("--chunk", "do_chunk", is_flag=True, help="Cut documents into chunks.")
@click.option("--max-chars", type=click.IntRange(min=20), default=None,
              help=f"Characters per chunk at most [default: {_CHUNK['max_chars'].default}].")
@click.option("--max-tokens", type=click.IntRange(min=8), default=None, help="Tokens per chunk at most (needs --tokenizer).")
@click.option("--tokenizer", default=None, help="Hugging Face tokenizer name or folder, for --max-tokens.")
@click.option("--overlap", type=click.IntRange(min=0), default=None,
              help="Characters (or tokens) of a chunk repeated at the start of the next, in whole sentences [default: 0].")
@strict_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar; print only the totals.")
@input_options
def command(sources: tuple[str, ...], output: str, rejects: str | None, as_: str, include: tuple[str, ...],
            exclude: tuple[str, ...], preset: str, tool_turns: str, text_field: str, doc_per: str,
            subset: str | None, limit: int | None, streaming: bool, do_crawl: bool, depth: int | None,
            max_pages: int, allow_domain: tuple[str, ...], delay: float, timeout: float, max_page_bytes: int,
            max_per_pattern: int, user_agent: str | None, state: str | None, do_chunk: bool, max_chars: int | None,
            max_tokens: int | None, tokenizer: str | None, overlap: int | None, strict: bool, quiet: bool,
            fmt: str | None, encoding: str | None, mapping: tuple[str, ...], split: str | None) -> None:
    """Read SOURCE... into Alpaca records or documents, written as JSONL to -o.

    A SOURCE is a file, a folder (read recursively), `-` (stdin), a dataset id (`owner/name` or
    `hf:owner/name` on the Hugging Face Hub, `ms:owner/name` on ModelScope), a folder saved by
    `datasets`, or an http(s) URL. JSON, JSONL, CSV, TSV, Excel and Parquet rows become records
    (--map and --preset say how); text, Markdown, HTML, PDF and DOCX files and web pages become
    documents `{"id", "text", "meta": {"source", "title", ...}}` for `generate --from-docs`.
    Every record keeps `meta.source` = `path:line`.

    Web pages are fetched politely: robots.txt is obeyed, one request per --delay seconds per
    host, only http(s) links inside the allowed domains are followed. The crawl journal beside
    the output makes a rerun skip the pages already fetched. What cannot be read (bad rows,
    unsupported files, robots-disallowed URLs, redirect loops, non-HTML, huge or slow pages) is
    counted in the summary and written to --rejects with its reason.

    Example:

    \b
        datacraft ingest faq.csv --map instruction=question --map output=answer -o faq.jsonl
        datacraft ingest seed_tasks.jsonl --preset stanford-alpaca -o seeds.jsonl
        datacraft ingest docs/ --include '*.md' --chunk --max-chars 1500 -o chunks.jsonl
        datacraft ingest https://example.com/docs/ --crawl --depth 1 --max-pages 200 -o pages.jsonl
    """
    check_paths(sources, {"output": output, "--rejects": rejects})
    config = _config(sources, as_, include, exclude, preset, tool_turns, text_field, doc_per, subset, limit,
                     streaming, strict, do_crawl, depth, max_pages, allow_domain, delay, timeout, max_page_bytes,
                     user_agent, state, do_chunk, max_chars, max_tokens, tokenizer, overlap,
                     max_per_pattern=max_per_pattern or None)
    progress = not quiet and sys.stderr.isatty()
    if any(is_url(s) for s in sources) and output != "-":
        click.get_current_context().meta["datacraft.resumable"] = True  # the crawl journal replays fetched pages
    summary = ingest(list(sources), output, rejects=rejects, config=config, progress=progress,
                     read_options=read_options(fmt, encoding, mapping, split))
    to_stderr = output == "-"
    for line in summary_lines(summary, output, quiet):
        click.echo(line, err=to_stderr)
    if summary["written"] == 0:
        click.echo("Error: nothing was ingested" + (f" (see {rejects})" if rejects and summary["rejected"] else ""),
                   err=True)
        raise click.exceptions.Exit(1)


def _config(sources: tuple[str, ...], as_: str, include: tuple[str, ...], exclude: tuple[str, ...], preset: str,
            tool_turns: str, text_field: str, doc_per: str, subset: str | None, limit: int | None, streaming: bool,
            strict: bool, do_crawl: bool, depth: int | None, max_pages: int, allow_domain: tuple[str, ...],
            delay: float, timeout: float, max_page_bytes: int, user_agent: str | None, state: str | None,
            do_chunk: bool, max_chars: int | None, max_tokens: int | None, tokenizer: str | None,
            overlap: int | None, max_per_pattern: int | None = 20) -> IngestConfig:
    """Options -> IngestConfig; conflicting options are refused before any work starts."""
    if depth is not None and not do_crawl:
        raise ConfigError("--depth needs --crawl (without it only the given URLs are fetched)")
    if do_crawl and not any(is_url(s) for s in sources):
        raise ConfigError("--crawl needs at least one http(s) URL among the sources")
    chunk_options = {"max_chars": max_chars, "max_tokens": max_tokens, "tokenizer": tokenizer, "overlap": overlap}
    given = {k: v for k, v in chunk_options.items() if v is not None}
    if given and not do_chunk:
        raise ConfigError(f"--{next(iter(given)).replace('_', '-')} needs --chunk")
    crawl: dict[str, Any] = {"depth": (1 if depth is None else depth) if do_crawl else 0, "max_pages": max_pages,
                             "allowed_domains": list(allow_domain), "delay": delay, "timeout": timeout,
                             "max_bytes": max_page_bytes, "state": state, "max_per_pattern": max_per_pattern}
    if user_agent:
        crawl["user_agent"] = user_agent
    try:
        return IngestConfig(output=as_, include=list(include), exclude=list(exclude), preset=preset,
                            tool_turns=tool_turns, text_field=text_field, doc_per=doc_per, subset=subset,
                            limit=limit, streaming=streaming, strict=strict, crawl=CrawlConfig(**crawl),
                            chunk=ChunkConfig(**given) if do_chunk else None)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(f"bad option: {error['msg'].removeprefix('Value error, ')}") from None


def summary_lines(summary: dict[str, Any], output: str, quiet: bool = False) -> list[str]:
    """The short report printed after a run."""
    written = summary["written"]
    kind = summary["output"] if written != 1 else summary["output"].removesuffix("s")
    lines = [f"read {summary['read']}, kept {summary['kept']}, rejected {summary['rejected']}"
             f" -> {output} ({written} {kind})"]
    if quiet:
        return lines
    reasons = summary["stages"].get("ingest", {}).get("reasons", {})
    for reason, n in reasons.items():
        lines.append(f"  rejected {reason:<22} {n:>8}")
    for reason, n in sorted(summary.get("skipped", {}).items(), key=lambda kv: -kv[1]):
        lines.append(f"  skipped  {reason:<22} {n:>8}")
    return lines
