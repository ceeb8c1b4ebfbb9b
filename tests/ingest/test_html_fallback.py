"""Short pages go through trafilatura's jusText fallback, which needs lxml.html.clean (a separate
package since lxml 5.2): a fresh install once ended in an ImportError here."""

from __future__ import annotations

import trafilatura.external

from datacraft.ingest.html import extract_html


def test_short_page_reaches_the_jusText_fallback_and_is_read(monkeypatch) -> None:
    calls = []
    real = trafilatura.external.try_justext

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(trafilatura.external, "try_justext", counting)
    title, text = extract_html("<html><head><title>短页</title></head><body><p>Short page.</p></body></html>")
    assert calls, "the page did not reach the fallback extractor; make it shorter"
    assert (title, text) == ("短页", "Short page.")


def test_lxml_html_clean_is_importable() -> None:
    from lxml.html.clean import Cleaner  # noqa: F401


SHORT_PAGE = ("<html><head><title>退货</title></head><body><p>Items can be returned within 30 days of delivery."
              "</p></body></html>")


def _count_fallback(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = trafilatura.external.try_justext

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(trafilatura.external, "try_justext", counting)
    return calls


def test_ingest_command_on_a_short_html_file_goes_through_the_fallback(monkeypatch, tmp_path) -> None:
    import json

    from click.testing import CliRunner

    from datacraft.cli import cli

    calls = _count_fallback(monkeypatch)
    page, out = tmp_path / "page.html", tmp_path / "docs.jsonl"
    page.write_text(SHORT_PAGE, encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(page), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert calls
    assert json.loads(out.read_text(encoding="utf-8"))["text"] == "Items can be returned within 30 days of delivery."


def test_crawl_of_a_short_page_goes_through_the_fallback(monkeypatch, tmp_path) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from datacraft.ingest import CrawlConfig, IngestConfig, ingest
    from datacraft.io import read_records

    class Page(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            body = SHORT_PAGE.encode() if self.path != "/robots.txt" else b""
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if self.path != "/robots.txt" else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    calls = _count_fallback(monkeypatch)
    try:
        out = tmp_path / "pages.jsonl"
        url = f"http://127.0.0.1:{server.server_address[1]}/short.html"
        ingest([url], str(out), config=IngestConfig(crawl=CrawlConfig(delay=0, timeout=2.0)))
    finally:
        server.shutdown()
        server.server_close()
    assert calls
    assert [d["text"] for d in read_records(out)] == ["Items can be returned within 30 days of delivery."]


def test_generate_from_a_short_html_doc_goes_through_the_fallback(monkeypatch, tmp_path, fake_llm, llm_env) -> None:
    from click.testing import CliRunner

    from datacraft.cli import cli
    from datacraft.io import read_records

    calls = _count_fallback(monkeypatch)
    page, out = tmp_path / "returns.html", tmp_path / "qa.jsonl"
    page.write_text(SHORT_PAGE, encoding="utf-8")
    # One passage of one sentence grounds one question: a second would be a near copy of the first.
    result = CliRunner().invoke(cli, ["generate", "--from-docs", str(page), "-n", "1", "-o", str(out),
                                      "--base-url", fake_llm.url, "--model", "fake-model"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert calls
    records = list(read_records(out))
    assert len(records) == 1 and "returned within 30 days" in records[0]["meta"]["chunk"]["text"]
