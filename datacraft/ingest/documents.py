"""Documents (`{"id", "text", "meta"}`) and the text extractors for files: text, Markdown, HTML, PDF, DOCX.

Extractors raise `Reject` for a file they cannot read, so one bad file is counted, not fatal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from datacraft.io.encoding import open_text
from datacraft.records import Record
from datacraft.stages import Reject

DOCUMENT_SUFFIXES = {
    ".txt": "text", ".text": "text", ".md": "markdown", ".markdown": "markdown", ".mdx": "markdown",
    ".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf", ".docx": "docx",
}
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def make_document(doc_id: str, text: str, *, source: str, title: str = "", **meta: Any) -> Record:
    """A document as `generate --from-docs` reads it.

    >>> make_document("a.md", "Hi", source="docs/a.md", title="A")
    {'id': 'a.md', 'text': 'Hi', 'meta': {'source': 'docs/a.md', 'title': 'A'}}
    """
    return {"id": doc_id, "text": text, "meta": {"source": source, "title": title, **meta}}


def read_text(path: str, encoding: str | None = None) -> str:
    """A whole text file, in its detected (or given) encoding; undecodable bytes reject the file."""
    try:
        with open_text(open(path, "rb"), path, encoding) as stream:  # noqa: SIM115 - closed by the wrapper
            return stream.read()
    except UnicodeDecodeError as exc:
        raise Reject("decode_error", f"cannot decode as {exc.encoding}: {exc.reason}; pass --encoding") from None
    except OSError as exc:
        raise Reject("unreadable", exc.strerror or str(exc)) from None


def iter_text_lines(path: str, encoding: str | None = None) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-empty line, streamed: a one-article-per-line file can be huge."""
    try:
        with open_text(open(path, "rb"), path, encoding) as stream:  # noqa: SIM115
            for number, line in enumerate(stream, start=1):
                line = line.strip()
                if line:
                    yield number, line
    except UnicodeDecodeError as exc:
        raise Reject("decode_error", f"cannot decode as {exc.encoding}: {exc.reason}; pass --encoding") from None
    except OSError as exc:
        raise Reject("unreadable", exc.strerror or str(exc)) from None


def split_markdown(text: str) -> tuple[str, str]:
    """(title, body) of a Markdown text: front-matter `title:` or the first heading; front matter dropped.

    >>> split_markdown("---\\ntitle: Guide\\n---\\n# Intro\\nText")
    ('Guide', '# Intro\\nText')
    """
    title = ""
    match = _FRONT_MATTER.match(text)
    if match:
        for line in match.group(1).splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "title":
                title = value.strip().strip("\"'")
        text = text[match.end():]
    if not title:
        heading = _HEADING.search(text)
        title = heading.group(1).strip() if heading else ""
    return title, text


def pdf_text(path: str) -> tuple[str, str, dict[str, Any]]:
    """(title, text, meta) of a PDF's text layer, pages separated by a blank line.

    An encrypted PDF with only an owner password (printing/copying limits) opens with the empty
    user password; one that needs a real password is rejected, as is anything pypdf cannot read.
    """
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Reject("encrypted", "the PDF needs a password to open")
        pages = []
        for page in reader.pages:
            try:
                pages.append((page.extract_text() or "").strip())
            except Exception:  # pypdf raises many types on odd fonts: lose the page, not the file
                pages.append("")
        info = reader.metadata
        title = (info.title or "").strip() if info else ""
    except Reject:
        raise
    except DependencyError as exc:  # AES needs a crypto library pypdf does not bring itself
        raise Reject("encrypted", f"cannot decrypt this PDF: {exc} (pip install cryptography)") from None
    except FileNotDecryptedError:
        raise Reject("encrypted", "the PDF needs a password to open") from None
    except Exception as exc:  # one unreadable PDF among many must cost one reject, not the run
        raise Reject("unreadable", f"not a readable PDF: {type(exc).__name__}: {exc}") from None
    text = tidy_extracted("\n\n".join(p for p in pages if p))
    if not text.strip():
        raise Reject("empty_text", f"no text layer in {len(pages)} page(s) (a scanned PDF needs OCR first)")
    return title, text, {"pages": len(pages)}


_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff0c\u3001\u201c\u201d\uff08\uff09\uff1a]")
_CJK_FULL_LINE = 12  # a line this long that stops mid-sentence was cut by the page width; a heading is shorter
# The character before the leader is not a dot: with `\S` a run of dots could start the leader anywhere (quadratic).
_TOC_LINE = re.compile(r"^[^\n]*[^\s.…·][ \t]*(?:(?:\.[ \t]?){4,}|[…·]{2,})[ \t]*\d+[ \t]*(?:\n|$)", re.MULTILINE)


def tidy_extracted(text: str) -> str:
    """Undo what page layout does to text: CJK lines cut mid-sentence, table-of-contents lines.

    >>> tidy_extracted("机器学习是让计算机从大量的数据\\n中学习规律。\\nIntro ........ 3\\nBody")
    '机器学习是让计算机从大量的数据中学习规律。\\nBody'
    """
    lines = _TOC_LINE.sub("", text).split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        before, after = out[-1].rstrip(), line.lstrip()
        # CJK has no spaces between words: a break between two CJK characters is the PDF's layout.
        if (len(before) >= _CJK_FULL_LINE and after and _CJK.match(before[-1]) and _CJK.match(after[0])):
            out[-1] = before + after
        else:
            out.append(line)
    return "\n".join(out).strip("\n")


def docx_text(path: str) -> tuple[str, str]:
    """(title, text) of a Word document: headings become Markdown `#` lines, tables `a | b` rows."""
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(path)
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Reject("unreadable", f"not a readable DOCX: {exc}") from None
    blocks, title = [], (document.core_properties.title or "").strip()
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in item.rows]
            blocks.append("\n".join(rows))
            continue
        text = item.text.strip()
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        level = _heading_level(style)
        if level:
            title = title or text
            blocks.append(f"{'#' * level} {text}")
        elif style.startswith("List"):
            blocks.append(f"- {text}")
        else:
            blocks.append(text)
    return title, "\n\n".join(blocks)


def _heading_level(style: str) -> int:
    if style == "Title":
        return 1
    if style.startswith("Heading "):
        tail = style.removeprefix("Heading ")
        return min(int(tail), 6) if tail.isdigit() else 0
    return 0


def extract_file(path: str, kind: str, encoding: str | None = None) -> tuple[str, str, dict[str, Any]]:
    """(title, text, extra meta) of one document file of `kind` (text, markdown, html, pdf, docx)."""
    if kind == "pdf":
        return pdf_text(path)
    if kind == "docx":
        title, text = docx_text(path)
        return title or Path(path).stem, text, {}
    if kind == "html":
        from datacraft.ingest.html import decode_html, extract_html

        try:
            body = Path(path).read_bytes()
        except OSError as exc:
            raise Reject("unreadable", exc.strerror or str(exc)) from None
        title, text = extract_html(decode_html(body, encoding))
        return title or Path(path).stem, text, {}
    text = read_text(path, encoding)
    if kind == "markdown":
        title, text = split_markdown(text)
        return title or Path(path).stem, text, {}
    return Path(path).stem, text, {}
