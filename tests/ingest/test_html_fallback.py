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
