"""Detect the text encoding of an input (UTF-8 with or without BOM, UTF-16, GBK/GB18030, Big5...)."""

from __future__ import annotations

import codecs
import io
from typing import BinaryIO, TextIO

from charset_normalizer import from_bytes

from datacraft.errors import InputError

_SAMPLE = 1 << 20
# Chinese legacy encodings are all decoded with their superset, so rare characters survive.
_SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "hz": "gb18030", "big5": "big5hkscs"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(sample: bytes) -> str:
    """Guess the encoding of `sample` (the first bytes of a file).

    >>> detect_encoding("你好，世界".encode("gbk"))
    'gb18030'
    >>> detect_encoding(b"\\xef\\xbb\\xbf{}")
    'utf-8-sig'
    """
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    # Try the Chinese superset first: charset detection on short CJK samples is unreliable.
    try:
        sample.decode("gb18030")
        if _looks_cjk(sample.decode("gb18030")):
            return "gb18030"
    except UnicodeDecodeError:
        pass
    best = from_bytes(sample).best()
    if best is None:
        return "utf-8"
    name = best.encoding.lower().replace("-", "").replace("_", "")
    return _SUPERSETS.get(name, best.encoding)


def _looks_cjk(text: str) -> bool:
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return cjk >= max(1, len(text) // 20)


def open_text(stream: BinaryIO, path: str, encoding: str | None = None) -> TextIO:
    """Wrap a binary stream as text in its detected (or given) encoding; newlines are universal."""
    if encoding is None:
        # A large buffer lets `peek` show the detector a meaningful sample without consuming it.
        buffered = io.BufferedReader(stream, buffer_size=_SAMPLE)  # type: ignore[arg-type]
        encoding = detect_encoding(buffered.peek(_SAMPLE)[:_SAMPLE])
        stream = buffered
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(path, f"unknown encoding {encoding!r}") from None
    return io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline=None)
