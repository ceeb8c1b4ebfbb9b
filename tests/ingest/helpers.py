"""Helpers for ingest tests: a small web site on 127.0.0.1, and PDF/DOCX files made on the fly."""

from __future__ import annotations

import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"
SITE = FIXTURES / "site"
SLOW_SECONDS = 4.0  # the slow page answers after this long; crawls in tests give up after 1 s
HUGE_BYTES = 200_000  # the huge pages are this big; crawls in tests accept 64 KiB


class Site:
    """A running test site: its base URL and the log of (path, User-Agent) of every request."""

    def __init__(self, server: ThreadingHTTPServer):
        self.server = server
        self.base = f"http://127.0.0.1:{server.server_address[1]}"
        self.log: list[tuple[str, str]] = server.log  # type: ignore[attr-defined]

    def url(self, path: str) -> str:
        return self.base + path

    def paths(self) -> list[str]:
        return [path for path, _ in self.log]


class SiteHandler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.log.append((self.path, self.headers.get("User-Agent", "")))  # type: ignore[attr-defined]
        path = urlsplit(self.path).path
        try:
            self._route(path)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler hung up on a slow or huge page, as it should

    def _route(self, path: str) -> None:
        if path == "/robots.txt" and self.server.robots_status != 200:  # type: ignore[attr-defined]
            return self._send(self.server.robots_status, b"unavailable", "text/plain")  # type: ignore[attr-defined]
        if path == "/robots.txt" and self.server.robots is not None:  # type: ignore[attr-defined]
            return self._send(200, self.server.robots.encode(), "text/plain")  # type: ignore[attr-defined]
        redirects = {"/loop/1": "/loop/2", "/loop/2": "/loop/1", "/moved": "/b.html", "/away": "https://elsewhere.example/"}
        if path in redirects:
            self.send_response(302 if path.startswith("/loop") else 301)
            self.send_header("Location", redirects[path])
            self.end_headers()
            return None
        if path == "/data.bin":
            return self._send(200, bytes(range(256)) * 4, "application/octet-stream")
        if path == "/slow.html":
            time.sleep(SLOW_SECONDS)
            return self._send(200, b"<html><body><p>Too late.</p></body></html>", "text/html")
        if path in ("/huge.html", "/huge-declared.html"):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            if path == "/huge-declared.html":
                self.send_header("Content-Length", str(HUGE_BYTES))
            self.end_headers()
            chunk = b"<p>" + b"filler text " * 80 + b"</p>\n"
            for _ in range(HUGE_BYTES // len(chunk) + 1):
                self.wfile.write(chunk)
            return None
        file = SITE / (path.lstrip("/") or "index.html")
        if not file.is_file() or SITE not in file.resolve().parents:
            return self._send(404, b"<html><body>not found</body></html>", "text/html")
        kind = "text/plain" if file.suffix == ".txt" else "text/html; charset=utf-8"
        return self._send(200, file.read_bytes(), kind)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def make_pdf(path: Path, pages: list[list[str]], title: str = "") -> Path:
    """A minimal but valid PDF with one Helvetica text line per string, written by hand."""
    objects: list[bytes] = []
    page_ids = []
    font_id = 3 + 2 * len(pages)
    for number, lines in enumerate(pages):
        ops = ["BT", "/F1 12 Tf", "72 720 Td", "14 TL"]
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops += [f"({escaped}) Tj", "T*"]
        ops.append("ET")
        stream = zlib.compress("\n".join(ops).encode("latin-1"))
        content_id, page_id = 3 + 2 * number, 4 + 2 * number
        page_ids.append(page_id)
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (content_id, font_id))
    kids = " ".join(f"{i} 0 R" for i in page_ids).encode()
    head = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(pages))]
    tail = [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Title (%s) >>" % title.encode("latin-1")]
    body, offsets = b"%PDF-1.4\n", []
    for number, obj in enumerate(head + objects + tail, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(offsets) + 1, len(offsets), xref)
    path.write_bytes(body)
    return path


def make_docx(path: Path) -> Path:
    """A Word document with a title, headings, a list, a table and Chinese text, made with python-docx."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Onboarding handbook"
    document.add_heading("Onboarding handbook", level=1)
    document.add_paragraph("Welcome to the team. This handbook explains your first week.")
    document.add_heading("First day", level=2)
    document.add_paragraph("Collect your badge at the front desk.", style="List Bullet")
    document.add_paragraph("Set up your laptop with the IT desk.", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for (r, c), text in {(0, 0): "Day", (0, 1): "Task", (1, 0): "Monday", (1, 1): "Security training"}.items():
        table.cell(r, c).text = text
    document.add_heading("第二天", level=2)
    document.add_paragraph("与导师见面，了解团队的工作流程。")
    document.save(path)
    return path
