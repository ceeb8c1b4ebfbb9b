"""Polite HTTP for the crawler: URL normalisation, robots.txt, a per-host rate limit, guarded fetches.

A fetch that should not become a document raises `Reject` with a reason: robots_disallowed,
redirect_loop, too_many_redirects, off_site_redirect, not_html, too_large, timeout, http_error,
server_error, fetch_error.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Container
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

import httpx

from datacraft.ingest.config import CrawlConfig
from datacraft.ingest.robots import Robots
from datacraft.stages import Reject

HTML_TYPES = ("text/html", "application/xhtml+xml")
# Failures worth another try on a rerun; everything else is remembered as final.
TRANSIENT = frozenset({"timeout", "server_error", "fetch_error"})
_ROBOTS_MAX = 512 * 1024  # RFC 9309 asks crawlers to read at least 500 KiB of robots.txt
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")


def normalize_url(url: str) -> str | None:
    """A canonical form of an http(s) URL, so one page is fetched once; None for anything else.

    >>> normalize_url("HTTP://Example.com:80/a/./b/../c?z=1&utm_source=x&a=2#top")
    'http://example.com/a/c?a=2&z=1'
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower().rstrip(".")
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    path = _remove_dot_segments(parts.path or "/")
    path = _PERCENT.sub(lambda m: m.group(0).upper(), quote(path, safe="/%:@!$&'()*+,;=-._~"))
    # Tracking parameters name the same page; sorted parameters make a=1&b=2 and b=2&a=1 one URL.
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not k.lower().startswith("utm_"))
    return urlunsplit((scheme, netloc, path, urlencode(query, safe="/:@!$'()*+,;-._~"), ""))


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(out) > 1:
                out.pop()
        elif segment != ".":
            out.append(segment)
    result = "/".join(out)
    if path.endswith(("/.", "/..")):
        result += "/"
    return result if result.startswith("/") else "/" + result


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def in_domains(url: str, domains: list[str]) -> bool:
    """True when the URL's host is one of `domains` or a subdomain of one, on the domain's port.

    A domain without a port means the scheme's default port: another port is another site.

    >>> in_domains("https://docs.example.com/x", ["example.com"]), in_domains("https://badexample.com", ["example.com"])
    (True, False)
    >>> in_domains("http://127.0.0.1:8001/", ["127.0.0.1:8000"]), in_domains("http://example.com:8080/", ["example.com"])
    (False, False)
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        return False
    if port is not None and (parts.scheme.lower(), port) in (("http", 80), ("https", 443)):
        port = None
    for domain in domains:
        name, _, wanted = domain.rpartition(":") if domain.count(":") == 1 else (domain, "", "")
        if (host == name or host.endswith("." + name)) and port == (int(wanted) if wanted.isdigit() else None):
            return True
    return False


class RateLimiter:
    """At most one request per `delay` seconds to each host."""

    def __init__(self, delay: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.delay, self.clock, self.sleep = delay, clock, sleep
        self._last: dict[str, float] = {}
        self.host_delay: dict[str, float] = {}  # robots.txt Crawl-delay, where larger

    def wait(self, host: str) -> None:
        """Sleep until `host` may get another request, and count this one as made now."""
        now = self.clock()
        if host in self._last:
            ready = self._last[host] + max(self.delay, self.host_delay.get(host, 0.0))
            if ready > now:
                self.sleep(ready - now)
                now = ready
        self._last[host] = now


@dataclass
class Page:
    url: str  # after redirects
    status: int
    content_type: str
    charset: str | None
    body: bytes


class Fetcher:
    """Fetches pages one at a time, within the rules: robots.txt, rate limit, size, time, redirects."""

    def __init__(self, config: CrawlConfig, in_scope: Callable[[str], bool], *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self.in_scope = in_scope
        self.clock = clock
        self.limiter = RateLimiter(config.delay, clock, sleep)
        self.requests = 0
        self._robots: dict[str, tuple[Robots, str]] = {}  # origin -> (rules, why all is disallowed)
        self.client = httpx.Client(
            timeout=httpx.Timeout(config.timeout), follow_redirects=False,
            headers={"User-Agent": config.user_agent, "Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"})

    def close(self) -> None:
        self.client.close()

    def check_robots(self, url: str) -> None:
        """Raise Reject(robots_disallowed) unless the site's robots.txt lets our User-Agent fetch `url`."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin)
            delay = self._robots[origin][0].crawl_delay(self.config.user_agent)
            if delay:
                self.limiter.host_delay[parts.netloc] = float(delay)
        robots, why = self._robots[origin]
        if not robots.allowed(self.config.user_agent, url):
            raise Reject("robots_disallowed", why or f"{origin}/robots.txt disallows it")

    def _load_robots(self, origin: str) -> tuple[Robots, str]:
        try:
            self._count(origin + "/robots.txt")
            response = self.client.get(origin + "/robots.txt", follow_redirects=True)
        except httpx.HTTPError as exc:
            # RFC 9309: an unreachable robots.txt means the whole site is off limits.
            return (Robots([], disallow_all=True),
                    f"robots.txt unreachable ({type(exc).__name__}): the site is treated as disallowed")
        if response.status_code >= 500:
            return (Robots([], disallow_all=True),
                    f"robots.txt answered HTTP {response.status_code}: the site is treated as disallowed")
        if response.status_code >= 400:
            return Robots([], allow_all=True), ""  # no robots.txt: everything is allowed
        return Robots.parse(response.content[:_ROBOTS_MAX].decode("utf-8", "replace")), ""

    def _count(self, url: str) -> None:
        self.limiter.wait(urlsplit(url).netloc)  # per host and port: Crawl-delay is per robots.txt
        self.requests += 1

    def fetch(self, url: str, known: Container[str] = ()) -> Page:
        """GET one page, following redirects by hand so every hop is checked; raises Reject.

        A redirect to one of the `known` URLs (pages already read) stops there: no need to fetch it twice.
        """
        chain = [url]
        for _ in range(self.config.max_redirects + 1):
            current = chain[-1]
            try:
                self._count(current)
                started = self.clock()
                with self.client.stream("GET", current) as response:
                    if response.is_redirect:
                        chain.append(self._redirect_target(chain, response.headers["location"]))
                        if chain[-1] in known:
                            raise Reject("duplicate_page", f"redirects to {chain[-1]}, already read")
                        continue
                    return self._read(current, response, started)
            except httpx.TimeoutException:
                raise Reject("timeout", f"no complete answer within {self.config.timeout:g}s") from None
            except httpx.HTTPError as exc:
                raise Reject("fetch_error", f"{type(exc).__name__}: {exc}") from None
        raise Reject("too_many_redirects", f"more than {self.config.max_redirects}: {' -> '.join(chain)}")

    def _redirect_target(self, chain: list[str], location: str) -> str:
        target = normalize_url(urljoin(chain[-1], location))
        if target is None:
            raise Reject("off_site_redirect", f"redirects to {location!r}, not an http(s) URL")
        if target in chain:
            raise Reject("redirect_loop", " -> ".join([*chain, target]))
        if not self.in_scope(target):
            raise Reject("off_site_redirect", f"redirects to {target}, outside the allowed domains")
        self.check_robots(target)
        return target

    def _read(self, url: str, response: httpx.Response, started: float) -> Page:
        status = response.status_code
        if status >= 500 or status == 429:
            raise Reject("server_error", f"HTTP {status}")
        if status >= 300:
            raise Reject("http_error", f"HTTP {status}")
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type and content_type not in HTML_TYPES:
            raise Reject("not_html", f"content type {content_type}")
        limit = self.config.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Reject("too_large", f"{declared} bytes, over the {limit}-byte limit")
        body = bytearray()
        for piece in response.iter_bytes():
            body += piece
            if len(body) > limit:
                raise Reject("too_large", f"over the {limit}-byte limit")
            # A server that trickles bytes never trips the read timeout: bound the whole body too.
            if self.clock() - started > self.config.timeout:
                raise Reject("timeout", f"body not complete within {self.config.timeout:g}s")
        if not content_type and not _looks_html(body):
            raise Reject("not_html", "no content type, and the body does not look like HTML")
        return Page(url, status, content_type or "text/html", response.charset_encoding, bytes(body))


def _looks_html(body: bytes) -> bool:
    head = body[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head or b"<body" in head
