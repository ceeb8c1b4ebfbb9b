"""Ingest settings: one pydantic model per concern (what to read, how to crawl, how to chunk)."""

from __future__ import annotations

from importlib import metadata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from datacraft import __version__

# Where a site owner who sees our User-Agent in their logs can read what the crawler is; the
# package's `Documentation` (or `Homepage`) project URL wins when pyproject.toml declares one.
DOCS_URL = "https://github.com/datacraft/datacraft#readme"
PRESET_NAMES = ("auto", "alpaca", "qa", "prompt-response", "sharegpt", "openai", "stanford-alpaca")


def docs_url() -> str:
    """The project's documentation URL, from the installed package's metadata when it has one."""
    try:
        urls = metadata.metadata("datacraft").get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        urls = []
    named = dict(u.split(", ", 1) for u in urls if ", " in u)
    return named.get("Documentation") or named.get("Homepage") or DOCS_URL


def default_user_agent() -> str:
    """The honest User-Agent the crawler sends unless told otherwise."""
    return f"datacraft/{__version__} (+{docs_url()})"


class CrawlConfig(BaseModel):
    """How web pages are fetched."""

    model_config = ConfigDict(extra="forbid")

    # link hops followed from the start URLs (0 = only the given pages)
    depth: int = Field(0, ge=0)
    # pages fetched at most, failures included, so a broken site cannot make a crawl run forever
    max_pages: int = Field(200, ge=1)
    # hosts whose links are followed (subdomains included); empty = the hosts of the start URLs
    allowed_domains: list[str] = Field(default_factory=list)
    # seconds between two requests to the same host (robots.txt Crawl-delay wins when larger)
    delay: float = Field(1.0, ge=0)
    # seconds allowed for connecting and for the whole body of one response
    timeout: float = Field(10.0, gt=0)
    # bytes of one page at most; a larger page is skipped, not truncated
    max_bytes: int = Field(5_000_000, ge=1024)
    # redirect hops followed for one URL
    max_redirects: int = Field(10, ge=0)
    # sent with every request, robots.txt included
    user_agent: str = Field(default_factory=default_user_agent)
    # journal of fetched URLs; None = `<output>.crawl-state.jsonl` (none when writing to stdout)
    state: str | None = None
    # pages whose URLs differ only in numbers (a calendar's ?month=2024-05, /page/17) followed at most,
    # per pattern, so a link trap cannot fill the crawl; None = no limit
    max_per_pattern: int | None = Field(20, ge=1)


class ChunkConfig(BaseModel):
    """How documents are cut into chunks."""

    model_config = ConfigDict(extra="forbid")

    # characters per chunk at most (ignored when max_tokens is set)
    max_chars: int = Field(1500, ge=20)
    # tokens per chunk at most, counted with `tokenizer`; None = count characters
    max_tokens: int | None = Field(None, ge=8)
    # a Hugging Face tokenizer name or folder, needed with max_tokens
    tokenizer: str | None = None
    # characters (or tokens) of the previous chunk repeated at the start of the next; 0 = disjoint
    overlap: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _check(self) -> ChunkConfig:
        limit = self.max_tokens if self.max_tokens is not None else self.max_chars
        if self.overlap >= limit // 2:
            raise ValueError(f"overlap ({self.overlap}) must be less than half the chunk size ({limit})")
        if self.max_tokens is not None and not self.tokenizer:
            raise ValueError("max_tokens needs a tokenizer (a Hugging Face tokenizer name or folder)")
        return self


class IngestConfig(BaseModel):
    """What `ingest` reads and what it writes."""

    model_config = ConfigDict(extra="forbid")

    # records (Alpaca) or documents ({id, text, meta}); auto = from the kind of the sources
    output: Literal["auto", "records", "documents"] = "auto"
    # globs a file in a folder must match (any of them); empty = every file
    include: list[str] = Field(default_factory=list)
    # globs that leave a file out of a folder walk
    exclude: list[str] = Field(default_factory=list)
    # how a structured row becomes an Alpaca record; auto = from its columns
    preset: Literal["auto", "alpaca", "qa", "prompt-response", "sharegpt", "openai", "stanford-alpaca"] = "auto"
    # conversations with tool calls: reject them, or keep calls and results as plain turns
    tool_turns: Literal["reject", "inline"] = "reject"
    # column holding the text when structured rows are read as documents
    text_field: str = "text"
    # a text file is one document, or each non-empty line is one (one article per line)
    doc_per: Literal["file", "line"] = "file"
    # dataset configuration ("subset") on a hub
    subset: str | None = None
    # rows read from each hub dataset at most; None = all
    limit: int | None = Field(None, ge=1)
    # stream hub datasets instead of downloading them whole
    streaming: bool = True
    # the first bad row is fatal instead of skipped and counted
    strict: bool = False
    # web settings; used for URL sources
    crawl: CrawlConfig = Field(default_factory=CrawlConfig)
    # cut documents into chunks; None = whole documents
    chunk: ChunkConfig | None = None
