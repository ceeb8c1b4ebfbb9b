"""HTML pages: decoding, main-text extraction (trafilatura, as Markdown so headings survive), links."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import lxml.html
import trafilatura
from trafilatura.metadata import extract_metadata

from datacraft.io.encoding import detect_encoding

_META_CHARSET = re.compile(rb"""<meta[^<>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_TITLE = re.compile(r"<title[^<>]*>((?:(?!<title).)*?)</title>", re.IGNORECASE | re.DOTALL)  # linear when unclosed


def decode_html(body: bytes, charset: str | None = None) -> str:
    """Bytes of a page as text: the HTTP charset, else `<meta charset>`, else detection.

    >>> decode_html('<meta charset="gbk"><p>你好</p>'.encode("gbk"))
    '<meta charset="gbk"><p>你好</p>'
    """
    candidates = [charset] if charset else []
    match = _META_CHARSET.search(body[:4096])
    if match:
        candidates.append(match.group(1).decode("ascii", "replace"))
    for name in candidates:
        try:
            return body.decode(_superset(name))
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode(detect_encoding(body[: 1 << 20]), errors="replace")


def _superset(name: str) -> str:
    # Pages that say gb2312 or big5 routinely use characters only their supersets have.
    name = name.strip().lower()
    return {"gb2312": "gb18030", "gbk": "gb18030", "big5": "big5hkscs", "iso-8859-1": "cp1252"}.get(name, name)


def extract_html(html: str, url: str | None = None) -> tuple[str, str]:
    """(title, main text as Markdown) of a page; the text is "" when nothing worth keeping is found."""
    text = trafilatura.extract(prepare_html(html), url=url, output_format="markdown", include_formatting=True,
                               include_comments=False, include_tables=True, include_links=False,
                               include_images=False) or ""
    return _ANCHOR_MARKS.sub("", page_title(html, url)).strip(), _ANCHOR_MARKS.sub("", text).strip()


# Permalink marks Sphinx, MkDocs and others put after headings; they are navigation, not text.
_MARKS = {"¶", "§", "#", "🔗", "\uf0c1"}
_ANCHOR_MARKS = re.compile(r"(?<![ \t])[ \t]*[¶\uf0c1][ \t]*$", re.MULTILINE)
_CONTAINERS = {"dl": "div", "dd": "div", "dt": "p", "ul": "div", "ol": "div", "li": "div"}


def prepare_html(html: str) -> str:
    """The page with what trafilatura mishandles put right: heading permalinks (`¶`) removed, and
    definition lists and list items that hold code blocks turned into plain blocks, because
    trafilatura drops a `<pre>` nested in `<dd>` or `<li>` (API docs are full of them)."""
    if "<pre" not in html and "¶" not in html and "headerlink" not in html:
        return html
    try:
        tree = lxml.html.fromstring(_XML_DECLARATION.sub("", html, count=1))
    except (ValueError, lxml.etree.ParserError):
        return html
    for anchor in list(tree.iter("a")):
        text = (anchor.text_content() or "").strip()
        if "headerlink" in (anchor.get("class") or "") or (text in _MARKS and (anchor.get("href") or "").startswith("#")):
            anchor.drop_tree()
    for pre in list(tree.iter("pre")):
        for ancestor in pre.iterancestors():
            if ancestor.tag in _CONTAINERS:
                if ancestor.tag == "li" and ancestor.get("data-datacraft") is None:
                    ancestor.set("data-datacraft", "li")
                    ancestor.text = "- " + (ancestor.text or "")
                ancestor.tag = _CONTAINERS[ancestor.tag]
    return lxml.html.tostring(tree, encoding="unicode")


def page_title(html: str, url: str | None = None) -> str:
    """The page's title: trafilatura's pick (og:title, a lone h1, <title>), else the <title> text."""
    try:
        metadata = extract_metadata(html, default_url=url)
        if metadata is not None and metadata.title:
            return metadata.title.strip()
    except Exception:  # metadata is a nicety: a page that confuses it still has text
        pass
    match = _TITLE.search(html[:65536])
    return " ".join(match.group(1).split()) if match else ""


_META_TAG = re.compile(r"<meta\b[^<>]*>", re.IGNORECASE)  # no `<` inside: an unclosed tag is not rescanned
_ATTR = re.compile(r"""(?<![a-zA-Z-])([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")


def robots_directives(html: str, agent: str = "datacraft") -> set[str]:
    """The page's `<meta name="robots">` (or `name=AGENT`) directives, lower-cased.

    >>> sorted(robots_directives('<meta name="robots" content="noindex, nofollow">'))
    ['nofollow', 'noindex']
    """
    found: set[str] = set()
    head = html[: html.lower().find("</head>") if "</head>" in html.lower() else 65536]
    for tag in _META_TAG.findall(head):
        attrs = {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or "" for m in _ATTR.finditer(tag)}
        if attrs.get("name", "").strip().lower() in ("robots", agent):
            found.update(d.strip().lower() for d in attrs.get("content", "").split(",") if d.strip())
    if "none" in found:
        found.update(("noindex", "nofollow"))
    return found


def extract_links(html: str, base_url: str) -> list[str]:
    """Absolute targets of the page's `<a href>` links, in page order; rel=nofollow links are left out."""
    try:
        # lxml refuses a str that still carries an XML encoding declaration
        tree = lxml.html.fromstring(_XML_DECLARATION.sub("", html, count=1))
    except (ValueError, lxml.etree.ParserError):
        return []
    base = tree.find(".//base[@href]")
    if base is not None:
        base_url = urljoin(base_url, base.get("href", "").strip())
    links = []
    for anchor in tree.iterfind(".//a[@href]"):
        if "nofollow" in (anchor.get("rel") or "").lower().split():
            continue
        href = anchor.get("href", "").strip()
        if href and not href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            links.append(urljoin(base_url, href))
    return links
