"""`review --web`: the JSON API over a real socket, and the page in a real Chromium driven by Playwright."""

from __future__ import annotations

import json
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from datacraft.review.web import WebReview, make_server

XSS = '<img src=x onerror="window.__pwned = 1"><script>window.__pwned = 1</script>'
RECORDS = [
    {"id": "r0", "instruction": "Name a primary colour.", "input": "", "output": "Red."},
    {"id": "r1", "instruction": "Add 2 and 2.", "input": "", "output": "5"},
    {"id": "r2", "instruction": "Explain HTML injection.", "input": XSS, "output": f"Never render {XSS} as markup."},
    {"id": "r3", "instruction": "Sort a list in Python.", "input": "",
     "output": "Use sorted():\n```python\nprint(sorted([3, 1, 2]))\n```\nIt prints [1, 2, 3]."},
    {"id": "r4", "instruction": "Say hello.", "input": "", "output": "Sure! Hello."},
]


def write(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def served(tmp_path):
    source = write(tmp_path / "gen.jsonl", RECORDS)
    review = WebReview(source, str(tmp_path / "reviewed.jsonl"), str(tmp_path / "feedback.jsonl"),
                       str(tmp_path / "rejects.jsonl"))
    server = make_server(review, "127.0.0.1", 0, token="tok-123")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server, tmp_path
    server.shutdown()
    server.server_close()


def api(server, path: str, body: dict | None = None, token: str | None = "tok-123", host: str | None = None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Review-Token"] = token
    if host:
        headers["Host"] = host
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server.url.rstrip("/") + path, data=data, headers=headers,
                                     method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_api_needs_the_token_and_a_loopback_host(served):
    server, tmp_path = served
    assert api(server, "/api/state", token=None)[0] == 403
    assert api(server, "/api/decide", {"index": 0, "verdict": "accepted"}, token="wrong")[0] == 403
    assert api(server, "/api/state", host="evil.example:80")[0] == 403  # DNS rebinding
    status, state = api(server, "/api/state")
    assert status == 200 and state["total"] == 5 and state["items"][2]["fields"]["input"] == XSS
    assert not (tmp_path / "feedback.jsonl").exists() or read(tmp_path / "feedback.jsonl") == []


def test_decisions_through_the_api_write_the_same_files_as_the_terminal(served):
    server, tmp_path = served
    assert api(server, "/api/decide", {"index": 1, "verdict": "rejected"})[1] == {"error": "a rejection needs a reason"}
    api(server, "/api/decide", {"index": 0, "verdict": "accepted"})
    api(server, "/api/decide", {"index": 1, "verdict": "rejected", "reason": "wrong arithmetic"})
    status, state = api(server, "/api/decide", {"index": 4, "verdict": "edited", "reason": "filler",
                                                 "fields": {"instruction": "Say hello.", "input": "", "output": "Hello."}})
    assert status == 200 and state["counts"] == {"accepted": 1, "edited": 1, "rejected": 1}
    reviewed = read(tmp_path / "reviewed.jsonl")
    assert [r["id"] for r in reviewed] == ["r0", "r2", "r3", "r4"] and reviewed[3]["output"] == "Hello."
    assert [r["source"] for r in read(tmp_path / "rejects.jsonl")] == ["r1"]
    assert api(server, "/api/undo", {})[1]["counts"] == {"accepted": 1, "edited": 0, "rejected": 1}
    assert [r["output"] for r in read(tmp_path / "reviewed.jsonl")][3] == "Sure! Hello."
    assert [f["verdict"] for f in read(tmp_path / "feedback.jsonl")] == ["accepted", "rejected"]


def test_another_address_needs_the_token_for_the_page(tmp_path):
    source = write(tmp_path / "gen.jsonl", RECORDS)
    review = WebReview(source, str(tmp_path / "out.jsonl"), str(tmp_path / "fb.jsonl"))
    server = make_server(review, "0.0.0.0", 0, token="tok-456")
    assert server.url.endswith("/?token=tok-456")
    server.server_close()


def _chromium() -> str | None:
    return next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"),
                             shutil.which("google-chrome")) if p), None)


def test_review_in_a_real_browser_with_keyboard_and_mouse(served):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
    browser_path = _chromium()
    if browser_path is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium); .ci/run installs it")
    server, tmp_path = served
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url)
        page.wait_for_selector("#record-id:has-text('r0')")
        assert "0 of 5 decided" in page.text_content("#progress")

        page.keyboard.press("a")  # accept r0, move on to r1
        page.wait_for_selector("#record-id:has-text('r1')")
        page.keyboard.press("r")
        page.fill("#reason", "wrong arithmetic")
        page.keyboard.press("Enter")  # reject r1 with a typed reason
        page.wait_for_selector("#record-id:has-text('r2')")
        # the XSS payload is shown as text and never runs
        assert XSS in page.text_content("#f-input")
        assert page.evaluate("window.__pwned") is None and page.locator("#record img").count() == 0
        page.keyboard.press("j")  # skip r2
        page.wait_for_selector("#record-id:has-text('r3')")
        assert page.locator("#f-output pre").text_content() == "print(sorted([3, 1, 2]))"  # code as a block
        page.keyboard.press("k")
        page.wait_for_selector("#record-id:has-text('r2')")
        page.keyboard.press("j")
        page.keyboard.press("j")
        page.wait_for_selector("#record-id:has-text('r4')")
        page.click("#edit")  # the mouse: edit r4 in place, multi-line
        page.fill("#e-output", "Hello!\nHow can I help?")
        page.fill("#edit-reason", "filler opening")
        page.click("#edit-save")
        page.wait_for_selector("#record-verdict:has-text('edited')")
        assert page.locator("#diff-body ins").count() >= 1 and page.locator("#diff-body del").count() >= 1
        page.keyboard.press("k")
        page.keyboard.press("k")
        page.keyboard.press("k")
        page.wait_for_selector("#record-id:has-text('r1')")
        page.keyboard.press("r")
        with page.expect_response("**/api/decide"):
            page.click("#reason-buttons button")  # a past reason, picked with the mouse: r1 again
        page.wait_for_selector("#undo:not([disabled])")
        with page.expect_response("**/api/undo") as undone:
            page.keyboard.press("u")  # undo that second rejection of r1: still rejected from before
        assert undone.value.status == 200, undone.value.text()
        page.wait_for_selector("#progress:has-text('3 of 5 decided: accepted 1, edited 1, rejected 1')")
        page.select_option("#filter-verdict", "rejected")
        page.wait_for_selector("#position:has-text('of 1 shown')")
        assert page.text_content("#record-id") == "r1"
        page.select_option("#filter-verdict", "all")
        page.select_option("#filter-reason", "wrong arithmetic")
        page.wait_for_selector("#position:has-text('of 1 shown')")
        browser.close()
    assert errors == []
    reviewed = read(tmp_path / "reviewed.jsonl")
    assert [r["id"] for r in reviewed] == ["r0", "r2", "r3", "r4"]
    assert reviewed[3]["output"] == "Hello!\nHow can I help?" and reviewed[3]["meta"]["review"]["verdict"] == "edited"
    assert [r["meta"]["review"]["verdict"] for r in reviewed] == ["accepted", "unreviewed", "unreviewed", "edited"]
    feedback = read(tmp_path / "feedback.jsonl")
    assert [(f["id"], f["verdict"], f.get("reason")) for f in feedback] == [
        ("r0", "accepted", None), ("r1", "rejected", "wrong arithmetic"), ("r4", "edited", "filler opening")]
    assert [(r["source"], r["detail"]) for r in read(tmp_path / "rejects.jsonl")] == [("r1", "wrong arithmetic")]


def test_the_command_serves_until_ctrl_c(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    source = write(tmp_path / "gen.jsonl", RECORDS)
    process = subprocess.Popen([sys.executable, "-c", "from datacraft.cli import cli; cli()", "review", source,
                                "--feedback", str(tmp_path / "fb.jsonl"), "-o", str(tmp_path / "out.jsonl"),
                                "--web", "--port", "0"], stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                               env={**os.environ})
    try:
        line = process.stderr.readline()
        assert line.startswith("Reviewing 5 records at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].split()[0]
        with urllib.request.urlopen(url, timeout=10) as response:
            page = response.read().decode()
        assert 'name="review-token"' in page and response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert len(read(tmp_path / "out.jsonl")) == 5  # written at start: every record, unreviewed
    finally:
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 0 and "are up to date" in stdout
