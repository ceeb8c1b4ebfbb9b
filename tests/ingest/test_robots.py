"""robots.txt as RFC 9309 reads it, meta robots, port scope and link traps, on a real local server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from datacraft.ingest import CrawlConfig, IngestConfig, crawl, ingest
from datacraft.ingest.fetch import Fetcher, in_domains
from datacraft.ingest.robots import Robots
from datacraft.stages import Ledger

FAST = {"delay": 0, "timeout": 2.0, "max_bytes": 65536}
UA = "datacraft/0.1 (+https://example.com/bot)"

# The example file of RFC 9309 section 5.1.
RFC_FILE = """\
User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot
"""


@pytest.mark.parametrize("agent, path, allowed", [
    ("foobot", "/example/page.html", True),
    ("foobot", "/example/allowed.gif", True),
    ("foobot", "/example/other.html", False),
    ("foobot", "/", False),
    ("barbot", "/example/page.html", False),
    ("bazbot/2.0", "/example/page.html", False),
    ("barbot", "/example/other.html", True),
    ("quxbot", "/anything", True),
    ("otherbot", "/example/page.html", False),
    ("otherbot", "/publications/x.html", True),
    ("otherbot", "/images/a.gif", False),
    ("otherbot", "/images/a.gif?x=1", True),
    ("otherbot", "/robots.txt", True),
])
def test_rfc_9309_example_file(agent, path, allowed):
    assert Robots.parse(RFC_FILE).allowed(agent, "http://example.com" + path) is allowed


@pytest.mark.parametrize("rules, path, allowed", [
    ("Disallow: /fish", "/fish.html", False),
    ("Disallow: /fish", "/Fish.asp", True),
    ("Disallow: /fish", "/catfish", True),
    ("Disallow: /fish/", "/fish", True),
    ("Disallow: /*.php", "/folder/filename.php?parameters", False),
    ("Disallow: /*.php$", "/filename.php?parameters", True),
    ("Disallow: /*.php$", "/folder/filename.php", False),
    ("Disallow: /fish*.php", "/fishheads/catfish.php?parameters", False),
    ("Allow: /p\nDisallow: /", "/page", True),  # longest match
    ("Allow: /folder\nDisallow: /folder", "/folder/page", True),  # a tie: allow wins
    ("Allow: /page\nDisallow: /*.htm", "/page.htm", False),  # the longer pattern wins, wildcard or not
    ("Allow: /$\nDisallow: /", "/", True),
    ("Allow: /$\nDisallow: /", "/page.htm", False),
    ("Disallow: /howto/*.html", "/howto/sorting.html", False),
    ("Disallow: /howto/*.html", "/howto/", True),
    ("Disallow: /%E4%B8%AD", "/中/x", False),
    ("Disallow:", "/anything", True),
])
def test_wildcards_and_longest_match(rules, path, allowed):
    robots = Robots.parse("User-agent: *\n" + rules + "\n")
    assert robots.allowed(UA, "http://example.com" + path) is allowed


def test_rules_of_several_groups_for_one_agent_are_merged_and_crawl_delay_is_fractional():
    robots = Robots.parse("User-agent: datacraft\nDisallow: /a\n\nUser-agent: *\nDisallow: /\n\n"
                          "User-agent: datacraft\nDisallow: /b\nCrawl-delay: 0.25\n")
    assert [robots.allowed(UA, f"http://x.org/{p}") for p in ("a", "b", "c")] == [False, False, True]
    assert robots.crawl_delay(UA) == 0.25


class Handler(BaseHTTPRequestHandler):
    """Pages made on request: each links to the paths in `links`; /cal is an endless calendar."""

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - http.server's naming
        self.server.log.append(self.path)
        parts = urlsplit(self.path)
        if parts.path == "/robots.txt":
            return self._send(self.server.robots, "text/plain")
        links, head = self.server.links.get(parts.path, []), self.server.heads.get(parts.path, "")
        if parts.path == "/cal":
            month = int(parse_qs(parts.query).get("m", ["0"])[0])
            links = [f"/cal?m={month + 1}", f"/cal?m={month - 1}"]
        anchors = "".join(f'<li><a href="{link}">{link}</a></li>' for link in links)
        words = " ".join(f"Sentence {i} of the page {self.path} explains one more detail." for i in range(12))
        body = (f"<html><head><title>{parts.path}</title>{head}</head><body><article><h1>{parts.path}</h1>"
                f"<p>{words}</p><ul>{anchors}</ul></article></body></html>")
        return self._send(body, "text/html; charset=utf-8")

    def _send(self, text, content_type):
        data = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    started = []

    def start(robots="", links=None, heads=None):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        srv.daemon_threads = True
        srv.robots, srv.links, srv.heads, srv.log = robots, links or {}, heads or {}, []
        threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        started.append(srv)
        srv.base = f"http://127.0.0.1:{srv.server_address[1]}"
        return srv

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def _crawl(srv, tmp_path, start="/", **options):
    config = IngestConfig(crawl=CrawlConfig(**{**FAST, "depth": 3, **options}))
    out, rejects = tmp_path / "pages.jsonl", tmp_path / "rejects.jsonl"
    summary = ingest([srv.base + start], str(out), rejects=str(rejects), config=config)
    docs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    rejected = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    return summary, docs, rejected


def test_wildcard_disallow_and_longest_allow_on_a_real_server(server, tmp_path):
    howto = [f"/howto/page{i}.html" for i in range(20)]
    srv = server(robots="User-agent: *\nDisallow: /howto/*.html\nAllow: /howto/keep.html\nDisallow: /lib\n"
                        "Allow: /library/\n",
                 links={"/": ["/howto/", "/howto/keep.html", "/library/a.html", "/lib/x.html", *howto]})
    summary, docs, rejected = _crawl(srv, tmp_path, depth=1, max_per_pattern=None)
    fetched = [p for p in srv.log if p != "/robots.txt"]
    assert sorted(fetched) == ["/", "/howto/", "/howto/keep.html", "/library/a.html"]
    assert sorted(r["source"].removeprefix(srv.base) for r in rejected) == sorted(["/lib/x.html", *howto])
    assert {r["reason"] for r in rejected} == {"robots_disallowed"}
    assert summary["read"] == summary["kept"] + summary["rejected"]


def test_meta_robots_noindex_and_nofollow(server, tmp_path):
    srv = server(links={"/": ["/hidden.html", "/dead-end.html"], "/hidden.html": ["/behind-hidden.html"],
                        "/dead-end.html": ["/never.html"]},
                 heads={"/hidden.html": '<meta name="robots" content="noindex">',
                        "/dead-end.html": '<meta name="ROBOTS" content="nofollow">'})
    _, docs, rejected = _crawl(srv, tmp_path)
    assert sorted(d["id"].removeprefix(srv.base) for d in docs) == ["/", "/behind-hidden.html", "/dead-end.html"]
    assert [(r["source"].removeprefix(srv.base), r["reason"]) for r in rejected] == [("/hidden.html", "noindex")]
    assert "/never.html" not in srv.log


def test_noindex_nofollow_together(server, tmp_path):
    srv = server(links={"/": ["/both.html"], "/both.html": ["/never.html"]},
                 heads={"/both.html": '<meta name="robots" content="noindex, nofollow">'})
    _, docs, rejected = _crawl(srv, tmp_path)
    assert [d["id"].removeprefix(srv.base) for d in docs] == ["/"]
    assert [r["reason"] for r in rejected] == ["noindex"] and "/never.html" not in srv.log


def test_the_same_host_on_another_port_is_another_site(server, tmp_path):
    other = server()
    srv = server(links={"/": [other.base + "/elsewhere.html", "/here.html"]})
    summary, docs, _ = _crawl(srv, tmp_path)
    assert sorted(d["id"].removeprefix(srv.base) for d in docs) == ["/", "/here.html"]
    assert other.log == [] and summary["skipped"]["off_site_link"] == 1


def test_a_calendar_trap_is_cut_short(server, tmp_path):
    srv = server(links={"/": ["/cal?m=0", "/about.html"], "/about.html": ["/team.html"]})
    summary, docs, _ = _crawl(srv, tmp_path, depth=200, max_pages=150, max_per_pattern=10)
    calendar = [p for p in srv.log if p.startswith("/cal")]
    assert len(calendar) == 10 and {"/about.html", "/team.html"} <= set(srv.log)
    assert summary["skipped"]["trap_pattern"] > 0 and len(docs) == 13


def test_fractional_crawl_delay_is_honoured(server):
    srv = server(robots="User-agent: *\nCrawl-delay: 0.25\n")
    sleeps, clock = [], [10.0]

    def sleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds

    config = CrawlConfig(**FAST, depth=0)
    domain = srv.base.removeprefix("http://")
    fetcher = Fetcher(config, lambda u: in_domains(u, [domain]), clock=lambda: clock[0], sleep=sleep)
    docs = list(crawl([srv.base + "/a", srv.base + "/b"], config, Ledger(), fetcher=fetcher))
    assert len(docs) == 2 and sleeps == [0.25, 0.25]
