"""Breadth-first crawl from start URLs into documents, resumable through a journal of visited URLs.

The journal (`<output>.crawl-state.jsonl`) gets one line per visited URL as soon as it is visited:
the document or the reason it was rejected, and the page's links. A rerun replays the journal
instead of fetching again (only transient failures such as timeouts are retried), so an
interrupted crawl continues where it stopped and a finished one costs no requests.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections import Counter, deque
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import orjson
from tqdm import tqdm

from datacraft.ingest.config import CrawlConfig
from datacraft.ingest.documents import make_document
from datacraft.ingest.fetch import TRANSIENT, Fetcher, host_of, in_domains, normalize_url
from datacraft.ingest.html import decode_html, extract_html, extract_links, robots_directives
from datacraft.ingest.robots import product_token
from datacraft.records import Record
from datacraft.stages import Ledger, Reject

STAGE = "ingest"
# Links to these are not pages: skipping them saves a request that could only end in not_html.
_NOT_PAGES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".ico", ".css", ".js", ".mp3", ".mp4",
              ".avi", ".mov", ".zip", ".gz", ".tar", ".7z", ".rar", ".exe", ".dmg", ".woff", ".woff2")


def state_path_for(output: str, config: CrawlConfig) -> str | None:
    """Where the journal lives: the configured path, else beside the output (none for stdout)."""
    if config.state:
        return config.state
    return None if output == "-" else f"{output}.crawl-state.jsonl"


def load_state(path: str | None) -> dict[str, dict[str, Any]]:
    """URL -> journal entry; a line cut short by a crash is ignored (that URL is simply visited again)."""
    entries: dict[str, dict[str, Any]] = {}
    if not path or not os.path.exists(path):
        return entries
    with open(path, "rb") as handle:
        for line in handle:
            try:
                entry = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("url"), str):
                entries[entry["url"]] = entry
    return entries


def default_domains(urls: list[str]) -> list[str]:
    """The start URLs' hosts (with the port, when not the default), without `www.`, so example.com
    and www.example.com are one site and 127.0.0.1:8000 and 127.0.0.1:8001 are two.

    >>> default_domains(["https://www.example.com/a", "http://docs.python.org", "http://127.0.0.1:8000/"])
    ['example.com', 'docs.python.org', '127.0.0.1:8000']
    """
    domains: list[str] = []
    for url in urls:
        host = host_of(url).removeprefix("www.")
        port = urlsplit(url).port
        if host and port is not None and (urlsplit(url).scheme, port) not in (("http", 80), ("https", 443)):
            host = f"{host}:{port}"
        if host and host not in domains:
            domains.append(host)
    return domains


def crawl(urls: list[str], config: CrawlConfig, ledger: Ledger, *, state_path: str | None = None,
          skipped: Counter[str] | None = None, progress: bool = False, fetcher: Fetcher | None = None
          ) -> Iterator[Record]:
    """Documents from `urls` and the pages they link to, within config's depth, domains and limits."""
    stats = ledger.stage(STAGE)
    skipped = skipped if skipped is not None else Counter()
    starts = []
    for url in urls:
        normal = normalize_url(url)
        if normal is None:
            stats.read += 1
            ledger.reject(STAGE, "bad_url", detail="not an http(s) URL", source=url)
        elif normal not in starts:
            starts.append(normal)
    domains = [d.lower().removeprefix("www.") for d in config.allowed_domains] or default_domains(starts)
    fetcher = fetcher or Fetcher(config, lambda u: in_domains(u, domains))
    state = load_state(state_path)
    frontier: deque[tuple[str, int]] = deque((url, 0) for url in starts)
    seen: set[str] = set(starts)  # queued or left out, so each link is judged once
    patterns: Counter[str] = Counter()  # URLs queued per number-blind pattern (see url_pattern)
    visited: set[str] = set()  # read, under their own URL or as a redirect's target
    pages = 0
    journal = open(state_path, "ab") if state_path else None  # noqa: SIM115 - closed in finally
    bar = tqdm(total=config.max_pages, unit="page", desc="crawl", file=sys.stderr, disable=not progress)
    try:
        while frontier and pages < config.max_pages:
            url, depth = frontier.popleft()
            if url in visited:  # an earlier redirect already landed here
                skipped["duplicate_url"] += 1
                continue
            visited.add(url)
            entry = state.get(url)
            if entry is None or entry.get("retry"):
                entry = _visit(fetcher, url, depth, visited)
                if journal is not None:
                    # Written and flushed at once: the journal is what survives a crash or Ctrl-C.
                    journal.write(orjson.dumps(entry) + b"\n")
                    journal.flush()
            else:
                skipped["resumed"] += 1
            stats.read += 1
            if entry.get("fetched"):
                pages += 1
                bar.update(1)
            final = entry.get("final_url")
            if final and final != url:
                seen.add(final)
                if final in visited:
                    entry = {**entry, "doc": None, "reason": "duplicate_page", "detail": f"redirects to {final}, already read"}
                visited.add(final)
            if entry.get("doc"):
                stats.kept += 1
                yield entry["doc"]
            else:
                ledger.reject(STAGE, entry["reason"], detail=entry.get("detail", ""), source=url)
            if depth < config.depth:
                for link in entry.get("links", ()):
                    _enqueue(link, depth + 1, domains, seen, frontier, skipped, patterns, config.max_per_pattern)
            elif entry.get("links"):
                skipped["beyond_depth"] += sum(1 for link in entry["links"] if link not in seen)
        if frontier:
            skipped["over_max_pages"] += len(frontier)
    finally:
        bar.close()
        if journal is not None:
            journal.close()
        with contextlib.suppress(Exception):
            fetcher.close()


def _enqueue(link: str, depth: int, domains: list[str], seen: set[str], frontier: deque[tuple[str, int]],
             skipped: Counter[str], patterns: Counter[str], max_per_pattern: int | None) -> None:
    if link in seen:
        skipped["duplicate_url"] += 1
        return
    seen.add(link)
    if not in_domains(link, domains):
        skipped["off_site_link"] += 1
    elif link.lower().split("?", 1)[0].endswith(_NOT_PAGES):
        skipped["not_a_page_link"] += 1
    else:
        pattern = url_pattern(link)
        patterns[pattern] += 1
        if max_per_pattern is not None and patterns[pattern] > max_per_pattern:
            skipped["trap_pattern"] += 1  # a calendar or endless pager: more of it says nothing new
            return
        frontier.append((link, depth))


_DIGITS = re.compile(r"-?\d+")


def url_pattern(url: str) -> str:
    """A URL with its numbers blanked: pages of a calendar or pager share one pattern.

    >>> url_pattern("http://x.org/cal?month=2024-05&view=m") == url_pattern("http://x.org/cal?month=1999-12&view=m")
    True
    """
    return _DIGITS.sub("0", url)


def _visit(fetcher: Fetcher, url: str, depth: int, visited: set[str]) -> dict[str, Any]:
    """Fetch one URL into a journal entry: the document and links, or the reason it was rejected."""
    entry: dict[str, Any] = {"url": url, "depth": depth}
    try:
        fetcher.check_robots(url)
    except Reject as rej:
        entry.update(reason=rej.reason, detail=rej.detail)
        return entry
    try:
        page = fetcher.fetch(url, known=visited)
    except Reject as rej:
        entry.update(reason=rej.reason, detail=rej.detail, fetched=True)
        if rej.reason in TRANSIENT:
            entry["retry"] = True
        return entry
    entry.update(fetched=True, final_url=page.url)
    html = decode_html(page.body, page.charset)
    links: list[str] = []
    for link in extract_links(html, page.url):
        normal = normalize_url(link)
        if normal and normal not in links:
            links.append(normal)
    directives = robots_directives(html, product_token(fetcher.config.user_agent))
    entry["links"] = [] if "nofollow" in directives else links
    if "noindex" in directives:
        entry.update(reason="noindex", detail="the page's meta robots says noindex")
        return entry
    title, text = extract_html(html, page.url)
    if not text:
        entry.update(reason="empty_text", detail="no main text found on the page")
        return entry
    fetched_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry["doc"] = make_document(url, text, source=url, title=title, url=page.url, fetched_at=fetched_at,
                                 depth=depth)
    return entry
