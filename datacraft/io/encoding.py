"""Detect the text encoding of an input (UTF-8 with or without BOM, UTF-16, GBK/GB18030, Big5...)."""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
from typing import BinaryIO, TextIO

from datacraft.errors import InputError

_SAMPLE = 1 << 20
_SCORE_CHARS = 1 << 16  # enough text to tell GBK from Big5; scoring is a Python loop
_MIN_FREQUENT = 0.15  # share of non-ASCII characters that are very common Chinese ones, to call it Chinese
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
    >>> detect_encoding("這是測試。".encode("big5"))
    'big5hkscs'
    """
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    # UTF-16 without a BOM decodes as "valid" UTF-8 when mostly ASCII: spot its NUL bytes first.
    utf16 = _utf16_without_bom(sample)
    if utf16:
        return utf16
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    # Charset detection on short CJK samples is unreliable, and almost any GBK byte pair is also a
    # valid Big5 one (and the reverse), so score both Chinese supersets on what they decode to.
    chinese = _best_chinese(sample)
    if chinese:
        return chinese
    from charset_normalizer import from_bytes  # 0.04 s to import, and most files are UTF-8

    best = from_bytes(sample).best()
    if best is None:
        return "utf-8"
    name = best.encoding.lower().replace("-", "").replace("_", "")
    if name in _SUPERSETS:
        return _SUPERSETS[name]
    try:
        return codecs.lookup(best.encoding).name
    except LookupError:
        return best.encoding


# Very frequent characters in both scripts, and the punctuation Chinese text is full of.
_FREQUENT = frozenset(
    "的一是不了在人有我他这這个個们們中来來上大为為和国國地到以说說时時要就出会會可也你对對生能而子"
    "那得于於着著下自之年过過发發后後作里裡用道行所然家种種事成方多经經么麼去法学學如都同现現当當没沒"
    "动動面起看定天分还還进進好小部其些主样樣理心她本前开開但因只从從想实實日问問题題请請"
    "，。、；：？！「」『』《》（）“”"
)


def _decode_prefix(sample: bytes, encoding: str) -> str | None:
    """Decode `sample`, forgiving only a character cut off by the end of the sample."""
    for cut in range(4):
        try:
            return sample[: len(sample) - cut].decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start < len(sample) - 4:
                return None
    return None


def _chinese_score(text: str) -> int:
    score = 0
    for ch in text:
        if ch in _FREQUENT:
            score += 1
        # Private-use, unassigned, bopomofo and vertical forms are what the wrong decoding yields.
        elif "\ue000" <= ch <= "\uf8ff" or "\u3100" <= ch <= "\u312f" or "\ufe30" <= ch <= "\ufe4f" \
                or unicodedata.category(ch) == "Cn":
            score -= 3
    return score


def _best_chinese(sample: bytes) -> str | None:
    """gb18030 or big5hkscs when the sample's non-ASCII text reads as Chinese in one of them.

    Mostly-English files with a few Chinese rows count too: what matters is that the characters
    the non-ASCII bytes decode to are common Chinese ones. Korean, Japanese or Latin-1 bytes also
    decode to CJK ideographs in GBK or Big5, but to rare ones, so they fail the frequency test.
    """
    best: tuple[int, str] | None = None
    for encoding in ("gb18030", "big5hkscs"):
        text = _decode_prefix(sample, encoding)
        if text is None:
            continue
        head = text[:_SCORE_CHARS]
        non_ascii = [ch for ch in head if ord(ch) > 127]
        frequent = sum(1 for ch in non_ascii if ch in _FREQUENT)
        # Real Chinese text: about half of its characters are in _FREQUENT; mis-decoded bytes: ~1%.
        if frequent < 2 or frequent < _MIN_FREQUENT * len(non_ascii):
            if encoding != "gb18030" or not _few_chinese(head, non_ascii):
                continue
        score = _chinese_score(head)
        if best is None or score > best[0]:
            best = (score, encoding)
    return best[1] if best else None


_LATIN_RUN = re.compile(r"[A-Za-z][^\x00-\x7f]|[^\x00-\x7f][A-Za-z]")


def _few_chinese(text: str, non_ascii: list[str]) -> bool:
    """Too few characters for statistics (one short Chinese row among English ones): GBK when every
    non-ASCII character is a CJK ideograph or CJK punctuation and none touches a Latin letter, as
    accented letters in Latin-1 text do ("café") and GBK's decoding of it does not."""
    if not 2 <= len(non_ascii) < 40:
        return False
    if not all("\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"
               for ch in non_ascii):
        return False
    return _LATIN_RUN.search(text) is None


def _utf16_without_bom(sample: bytes) -> str | None:
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_nul = sample[0 : pairs * 2 : 2].count(0)
    odd_nul = sample[1 : pairs * 2 : 2].count(0)
    # ASCII-heavy UTF-16: one byte of each pair is NUL; real text in UTF-8 has (almost) no NULs.
    if odd_nul >= 0.3 * pairs and even_nul <= 0.05 * pairs:
        return "utf-16-le" if _decode_prefix(sample, "utf-16-le") is not None else None
    if even_nul >= 0.3 * pairs and odd_nul <= 0.05 * pairs:
        return "utf-16-be" if _decode_prefix(sample, "utf-16-be") is not None else None
    return None


def open_text(stream: BinaryIO, path: str, encoding: str | None = None, newline: str | None = None) -> TextIO:
    """Wrap a binary stream as text in its detected (or given) encoding; newlines are universal
    unless `newline=""` (what the csv module needs, so a `\r` inside a quoted cell survives)."""
    if encoding is None:
        # A large buffer lets `peek` show the detector a meaningful sample without consuming it.
        buffered = io.BufferedReader(stream, buffer_size=_SAMPLE)  # type: ignore[arg-type]
        encoding = detect_encoding(buffered.peek(_SAMPLE)[:_SAMPLE])
        stream = buffered
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InputError(path, f"unknown encoding {encoding!r}") from None
    return io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline=newline)
