"""`review --web`: the same review session, in the browser, served by the standard library.

The page (static/review.html, .js, .css) talks to a small JSON API. Every decision goes through
the same `ReviewSession` as the terminal review, and the feedback file, OUT and the rejects file are
rewritten atomically after each one, so closing the tab loses nothing. The server binds to
127.0.0.1 unless told otherwise; every API call needs the session's token (so another site open in
the browser cannot post decisions), and on any other address the page itself needs it too. Record
text reaches the page only as JSON and is put in the document with `textContent`, under a
Content-Security-Policy that allows no inline script.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from datacraft.errors import ConfigError
from datacraft.records import Record, training_view
from datacraft.review.session import ReviewSession, load_for_review

_STATIC = Path(__file__).parent / "static"
_FILES = {"/": ("review.html", "text/html; charset=utf-8"), "/review.js": ("review.js", "text/javascript; charset=utf-8"),
          "/review.css": ("review.css", "text/css; charset=utf-8")}
_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'none'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_FIELDS = ("instruction", "input", "output")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.1, ::1 and localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class WebReview:
    """The review state behind the page: records, the session, and the files each decision rewrites."""

    def __init__(self, path: str, output: str, feedback: str, rejects: str | None = None, *,
                 sample: int | None = None, seed: int = 0, reviewer: str = "human"):
        self.records, self.everything = load_for_review(path, sample, seed)
        self.output, self.rejects = output, rejects
        self.session = ReviewSession(feedback, reviewer=reviewer)
        self.lock = threading.Lock()
        self.save()

    def save(self) -> dict[str, int]:
        return self.session.write(self.everything, self.output, self.rejects)

    def _item(self, index: int, record: Record) -> dict[str, Any]:
        view = training_view(record)
        entry = self.session.decided(record)
        item: dict[str, Any] = {"index": index, "id": str(record.get("id", "")),
                                "fields": {k: str(view.get(k) or "") for k in _FIELDS},
                                "verdict": entry.verdict if entry else None, "reason": entry.reason if entry else ""}
        if entry is not None and entry.better:
            item["better"] = {k: str(entry.better.get(k) or "") for k in _FIELDS}
        return item

    def state(self) -> dict[str, Any]:
        """Everything the page shows: the records with their decisions, the reasons offered, the counts."""
        items = [self._item(i, r) for i, r in enumerate(self.records)]
        counts = {v: sum(1 for i in items if i["verdict"] == v) for v in ("accepted", "edited", "rejected")}
        return {"items": items, "reasons": self.session.reasons, "counts": counts, "total": len(items),
                "undo": bool(self.session.new), "files": {"output": self.output, "feedback": self.session.feedback_path}}

    def decide(self, body: dict[str, Any]) -> dict[str, Any]:
        """Apply one decision from the page: {"index", "verdict", "reason"?, "fields"?}."""
        index = body.get("index")
        if not isinstance(index, int) or not 0 <= index < len(self.records):
            raise ValueError("no such record")
        record = self.records[index]
        verdict = body.get("verdict")
        reason = str(body.get("reason") or "").strip()
        if verdict == "accepted":
            self.session.accept(record)
        elif verdict == "rejected":
            if not reason:
                raise ValueError("a rejection needs a reason")
            self.session.reject(record, reason)
        elif verdict == "edited":
            fields = body.get("fields")
            if not isinstance(fields, dict) or not all(isinstance(fields.get(k, ""), str) for k in _FIELDS):
                raise ValueError("an edit needs instruction, input and output as text")
            edited = {k: fields.get(k, "") for k in _FIELDS}
            if not edited["instruction"].strip() or not edited["output"].strip():
                raise ValueError("an edit must keep an instruction and an output")
            self.session.edit(record, edited, reason)
        else:
            raise ValueError(f"unknown verdict {verdict!r}")
        self.save()
        return self.state()

    def undo(self) -> dict[str, Any]:
        if self.session.undo() is None:
            raise ValueError("nothing to undo in this session")
        self.save()
        return self.state()


def make_server(review: WebReview, host: str = "127.0.0.1", port: int = 0, token: str | None = None
                ) -> ThreadingHTTPServer:
    """A server for `review` on host:port (0: any free port); `server.url` is the address to open."""
    token = token or secrets.token_urlsafe(18)
    local = is_loopback(host)

    class Handler(_Handler):
        pass

    Handler.review, Handler.token, Handler.local = review, token, local
    try:
        server = ThreadingHTTPServer((host, port), Handler)
    except OSError as exc:
        raise ConfigError(f"cannot serve the review on {host}:{port} ({exc.strerror}); try another --port") from None
    server.daemon_threads = True
    bound = server.server_address[1]
    shown = f"[{host}]" if ":" in host else host
    server.url = f"http://{shown}:{bound}/" + ("" if local else f"?token={token}")  # type: ignore[attr-defined]
    Handler.port = bound
    return server


class _Handler(BaseHTTPRequestHandler):
    review: WebReview
    token: str
    local: bool
    port: int

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        return

    def _reply(self, status: int, body: bytes, kind: str = "application/json; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", _CSP)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._reply(status, json.dumps(value, ensure_ascii=False).encode("utf-8"))

    def _host_ok(self) -> bool:
        """On loopback, only requests addressed to loopback names (no DNS rebinding)."""
        if not self.local:
            return True
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        return is_loopback(host)

    def _token_ok(self, query: dict[str, list[str]]) -> bool:
        given = self.headers.get("X-Review-Token") or (query.get("token") or [""])[0]
        return secrets.compare_digest(given, self.token)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        if not self._host_ok():
            return self._json(403, {"error": "unexpected Host header"})
        if parts.path in _FILES:
            if parts.path == "/" and not self.local and not self._token_ok(query):
                return self._reply(403, b"open the address with ?token=... that `datacraft review --web` printed",
                                   "text/plain; charset=utf-8")
            name, kind = _FILES[parts.path]
            body = (_STATIC / name).read_bytes()
            if name == "review.html":
                body = body.replace(b"__TOKEN__", self.token.encode("ascii"))
            return self._reply(200, body, kind)
        if parts.path == "/api/state":
            if not self._token_ok(query):
                return self._json(403, {"error": "missing or wrong token"})
            with self.review.lock:
                return self._json(200, self.review.state())
        return self._json(404, {"error": f"no route {parts.path}"})

    def do_POST(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        if not self._host_ok() or not self._token_ok({}):
            return self._json(403, {"error": "missing or wrong token"})
        if "application/json" not in (self.headers.get("Content-Type") or ""):
            return self._json(415, {"error": "send JSON"})
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        except json.JSONDecodeError:
            return self._json(400, {"error": "invalid JSON"})
        try:
            with self.review.lock:
                if parts.path == "/api/decide":
                    return self._json(200, self.review.decide(body))
                if parts.path == "/api/undo":
                    return self._json(200, self.review.undo())
        except ValueError as exc:
            return self._json(400, {"error": str(exc)})
        return self._json(404, {"error": f"no route {parts.path}"})
