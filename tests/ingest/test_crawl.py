"""The crawler against a real HTTP server on 127.0.0.1: robots.txt, scope, limits, failures, resume."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import pytest

from datacraft.ingest import CrawlConfig, IngestConfig, crawl, ingest, normalize_url
from datacraft.ingest.config import default_user_agent
from datacraft.ingest.fetch import Fetcher, RateLimiter, in_domains
from datacraft.stages import Ledger

# Fast settings for a local site: no delay, 1 s per page, 64 KiB per page.
FAST = {"delay": 0, "timeout": 1.0, "max_bytes": 65536}
EXPECTED_REJECTS = {
    "/private/secret.html": "robots_disallowed", "/loop/1": "redirect_loop", "/data.bin": "not_html",
    "/slow.html": "timeout", "/huge.html": "too_large", "/moved": "duplicate_page", "/missing.html": "http_error",
}


def _run(site, tmp_path, **crawl_options):
    config = IngestConfig(crawl=CrawlConfig(**{**FAST, "depth": 1, **crawl_options}))
    out, rejects = tmp_path / "pages.jsonl", tmp_path / "rejects.jsonl"
    summary = ingest([site.url("/index.html")], str(out), rejects=str(rejects), config=config)
    docs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    rejected = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    return summary, docs, rejected


def test_crawl_obeys_the_rules_and_counts_every_failure(site, tmp_path):
    summary, docs, rejected = _run(site, tmp_path)

    assert [d["id"] for d in docs] == [site.url(p) for p in ("/index.html", "/a.html", "/b.html")]
    assert {r["source"].removeprefix(site.base): r["reason"] for r in rejected} == EXPECTED_REJECTS
    assert all(r["stage"] == "ingest" and r["detail"] for r in rejected)
    assert summary["read"] == summary["kept"] + summary["rejected"] == 10
    assert summary["skipped"] == {"duplicate_url": 1, "not_a_page_link": 1, "off_site_link": 1, "beyond_depth": 1}
    requested = site.paths()
    # robots.txt once and first; disallowed, nofollow, off-depth and non-page links never requested;
    # the loop stops at the first repeated URL; a redirect to a page already read is not followed.
    assert requested[0] == "/robots.txt" and requested.count("/robots.txt") == 1
    assert not {"/private/secret.html", "/nofollow.html", "/deep/level2.html", "/logo.png"} & set(requested)
    assert requested.count("/loop/1") == 1 and requested.count("/loop/2") == 1
    assert requested.count("/b.html") == 1 and requested.count("/a.html") == 1
    assert {agent for _, agent in site.log} == {default_user_agent()}

    guide = docs[1]
    assert guide["meta"]["url"] == site.url("/a.html")
    assert guide["meta"]["title"] == "Ordering guide"
    assert guide["meta"]["source"] == guide["id"]
    assert guide["meta"]["fetched_at"].endswith("Z") and guide["meta"]["depth"] == 1
    # Main text only, headings kept as Markdown; the nav and footer boilerplate is gone.
    assert guide["text"].startswith("# Ordering guide")
    assert "## Payment" in guide["text"] and "Example Help Centre" not in guide["text"]
    assert "七个工作日" in docs[2]["text"]


def test_depth_two_reaches_deeper_pages_and_max_pages_stops_the_crawl(site, tmp_path):
    _, docs, _ = _run(site, tmp_path, depth=2)
    assert site.url("/deep/level2.html") in [d["id"] for d in docs]

    site.log.clear()
    summary, docs, _ = _run(site, tmp_path / "capped", max_pages=3)
    assert len(docs) == 3 and summary["read"] == 3
    assert summary["skipped"]["over_max_pages"] == 7  # the index links nine pages; two were read
    assert [p for p in site.paths() if p != "/robots.txt"] == ["/index.html", "/a.html", "/b.html"]


def test_depth_zero_fetches_only_the_given_pages(site, tmp_path):
    summary, docs, _ = _run(site, tmp_path, depth=0)
    assert [d["id"] for d in docs] == [site.url("/index.html")]
    assert site.paths() == ["/robots.txt", "/index.html"]
    assert summary["skipped"]["beyond_depth"] > 0


def test_rerun_resumes_from_the_journal_and_only_retries_transient_failures(site, tmp_path):
    _, first_docs, first_rejects = _run(site, tmp_path)
    journal = tmp_path / "pages.jsonl.crawl-state.jsonl"
    assert journal.is_file()
    site.log.clear()

    summary, docs, rejected = _run(site, tmp_path)
    assert site.paths() == ["/robots.txt", "/slow.html"]  # the timeout is retried, nothing else is fetched
    assert docs == first_docs
    assert Counter(r["reason"] for r in rejected) == Counter(r["reason"] for r in first_rejects)
    assert summary["skipped"]["resumed"] == 9


def test_an_interrupted_crawl_continues_where_it_stopped(site, tmp_path):
    state = tmp_path / "state.jsonl"
    config = CrawlConfig(**FAST, depth=1)
    pages = crawl([site.url("/index.html")], config, Ledger(), state_path=str(state))
    assert len(list(itertools.islice(pages, 2))) == 2
    pages.close()  # as Ctrl-C would: the journal keeps what was visited
    assert [json.loads(line)["url"] for line in state.read_text().splitlines()] == [
        site.url("/index.html"), site.url("/a.html")]
    site.log.clear()

    capped = config.model_copy(update={"max_pages": 3})
    docs = list(crawl([site.url("/index.html")], capped, Ledger(), state_path=str(state)))
    assert [d["id"] for d in docs] == [site.url(p) for p in ("/index.html", "/a.html", "/b.html")]
    assert site.paths() == ["/robots.txt", "/b.html"]


def test_robots_rules_for_our_user_agent_win_over_the_wildcard(serve_site, tmp_path):
    site = serve_site(robots="User-agent: datacraft\nDisallow: /b.html\n\nUser-agent: *\nDisallow: /\n")
    summary, docs, rejected = _run(site, tmp_path, depth=0)
    assert [d["id"] for d in docs] == [site.url("/index.html")]  # `*` says no, our own group says yes

    site.log.clear()
    _, docs, rejected = _run(site, tmp_path / "again", user_agent="OtherBot/1.0")
    assert docs == [] and [r["reason"] for r in rejected] == ["robots_disallowed"]
    assert site.paths() == ["/robots.txt"]
    assert {agent for _, agent in site.log} == {"OtherBot/1.0"}


def test_unreachable_robots_txt_means_nothing_is_fetched(serve_site, tmp_path):
    site = serve_site(robots_status=503)
    _, docs, rejected = _run(site, tmp_path)
    assert docs == [] and site.paths() == ["/robots.txt"]
    assert rejected[0]["reason"] == "robots_disallowed" and "HTTP 503" in rejected[0]["detail"]


def test_missing_robots_txt_allows_everything(serve_site):
    site = serve_site(robots_status=404)
    docs = list(crawl([site.url("/private/secret.html")], CrawlConfig(**FAST), Ledger()))
    assert [d["id"] for d in docs] == [site.url("/private/secret.html")]
    assert site.paths() == ["/robots.txt", "/private/secret.html"]


def test_declared_huge_page_is_refused_from_its_headers(site, tmp_path):
    config = CrawlConfig(**FAST)
    ledger = Ledger()
    assert list(crawl([site.url("/huge-declared.html")], config, ledger)) == []
    assert ledger.stage("ingest").rejected == {"too_large": 1}


def test_off_site_redirect_and_bad_start_url_are_rejected(site):
    ledger = Ledger()
    docs = list(crawl([site.url("/away"), "ftp://example.com/x"], CrawlConfig(**FAST), ledger))
    assert docs == []
    assert ledger.stage("ingest").rejected == {"off_site_redirect": 1, "bad_url": 1}


def test_rate_limit_waits_per_host_and_honours_crawl_delay(serve_site):
    site = serve_site(robots="User-agent: *\nCrawl-delay: 3\n")
    sleeps: list[float] = []
    clock = [100.0]

    def sleep(seconds: float) -> None:  # a fake clock: only sleeping moves time
        sleeps.append(seconds)
        clock[0] += seconds

    config = CrawlConfig(**{**FAST, "delay": 0.5}, depth=0)
    fetcher = Fetcher(config, lambda u: in_domains(u, ["127.0.0.1"]), clock=lambda: clock[0], sleep=sleep)
    pages = [site.url(p) for p in ("/index.html", "/a.html", "/b.html")]
    docs = list(crawl(pages, config, Ledger(), fetcher=fetcher))
    assert len(docs) == 3
    # robots.txt, then three pages on one host: each request waits for the 3 s Crawl-delay.
    assert sleeps == [3.0, 3.0, 3.0]


def test_rate_limiter_spaces_requests_to_one_host_only():
    sleeps: list[float] = []
    now = [0.0]
    limiter = RateLimiter(2.0, clock=lambda: now[0], sleep=lambda s: (sleeps.append(s), now.__setitem__(0, now[0] + s)))
    limiter.wait("a")
    now[0] += 1.5
    limiter.wait("a")  # 0.5 s left to wait
    limiter.wait("b")  # another host: no wait
    limiter.wait("a")  # a full delay after the last request to "a"
    assert sleeps == [0.5, 2.0]


@pytest.mark.parametrize(("url", "expected"), [
    ("HTTP://Example.COM/a/../b/./c.html#frag", "http://example.com/b/c.html"),
    ("https://example.com:443/?b=2&a=1&utm_medium=x", "https://example.com/?a=1&b=2"),
    ("http://example.com:8080/a b", "http://example.com:8080/a%20b"),
    ("http://example.com/%7euser/", "http://example.com/%7Euser/"),
    ("mailto:a@example.com", None),
    ("javascript:void(0)", None),
    ("http://[::1]:8000/x", "http://[::1]:8000/x"),
])
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected
