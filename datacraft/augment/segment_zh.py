"""jieba's segmentation (`jieba.cut(text, HMM=False)`), token for token, about 2.5x faster.

jieba builds a DAG of dictionary words, then picks the most probable route right to left. Here
the two passes are fused into one loop over precomputed log-probabilities, with a small cache of
blocks already seen. Without the HMM the result is the same as jieba's: the HMM only regroups runs
of single characters jieba's dictionary does not know, and synonym replacement never touches
those (every Cilin candidate is a dictionary word). The tests compare the two on real text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import jieba

_HAN = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)", re.U)  # jieba's re_han_default
_SKIP = re.compile("(\r\n|\\s)", re.U)  # jieba's re_skip_default
_ENG = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")  # jieba's re_eng, as a set
_MISSING = object()


class Segmenter:
    """`Segmenter().cut(text)` is `jieba.lcut(text, HMM=False)`, from jieba's dictionary."""

    def __init__(self, tokenizer: jieba.Tokenizer | None = None, cache_size: int = 50_000):
        tokenizer = tokenizer or jieba.dt
        jieba.setLogLevel(60)  # jieba logs "Building prefix dict..." at INFO on stderr
        tokenizer.check_initialized()
        log_total = math.log(tokenizer.total)
        # word -> log P(word); prefixes of words (frequency 0) -> None, as jieba's FREQ keeps them.
        self.logp: dict[str, float | None] = {
            word: (math.log(freq) - log_total if freq else None) for word, freq in tokenizer.FREQ.items()}
        self.unknown = math.log(1) - log_total
        self.cache: dict[str, list[str]] = {}
        self.cache_size = cache_size
        self.log_total = log_total

    def add_words(self, words: Iterable[str], freq: int = 1_000_000) -> None:
        """Make each word one token (a domain term), as `jieba.add_word` does, for this segmenter only.

        >>> seg = Segmenter(); seg.add_words(["数据科学家"]); "数据科学家" in seg.cut("数据科学家的工作")
        True
        """
        for word in words:
            if not word or not _HAN.fullmatch(word):
                continue  # a term with spaces or punctuation can never be one token
            known = self.logp.get(word)
            self.logp[word] = max(known if known is not None else -math.inf, math.log(freq) - self.log_total)
            for end in range(1, len(word)):
                self.logp.setdefault(word[:end], None)
        self.cache.clear()

    def cut(self, text: str) -> list[str]:
        """Tokens of `text`, exactly as `jieba.cut(text, HMM=False)`.

        >>> Segmenter().cut("我爱北京天安门, ok")
        ['我', '爱', '北京', '天安门', ',', ' ', 'ok']
        """
        tokens: list[str] = []
        # The pattern has one group, so split() alternates: text between runs, a run, text between...
        for odd, block in enumerate(_HAN.split(text)):
            if not block:
                continue
            if odd % 2:
                tokens.extend(self.cut_block(block))
                continue
            for piece in _SKIP.split(block):
                if _SKIP.match(piece):
                    tokens.append(piece)
                else:
                    tokens.extend(piece)
        return tokens

    def cut_block(self, block: str) -> list[str]:
        """Tokens of one run of Han characters, letters and digits (jieba's unit of work)."""
        tokens = self.cache.get(block)
        if tokens is None:
            tokens = self._cut_block(block)
            if len(self.cache) >= self.cache_size:
                self.cache.clear()  # cheaper than LRU bookkeeping; hot blocks come back at once
            self.cache[block] = tokens
        return tokens

    def _cut_block(self, s: str) -> list[str]:
        n = len(s)
        logp = self.logp.get
        unknown = self.unknown
        lowest = -math.inf
        best = [0.0] * (n + 1)
        ends = list(range(1, n + 1))
        for i in range(n - 1, -1, -1):
            value = logp(s[i], _MISSING)
            if value is _MISSING:  # not even a prefix: a lone character of probability 1/total
                best[i] = unknown + best[i + 1]
                continue
            # A character that is only a prefix (None) is no candidate unless nothing longer fits.
            score = lowest if value is None else value + best[i + 1]
            end = i + 1
            j = i + 2
            while j <= n:
                value = logp(s[i:j], _MISSING)
                if value is _MISSING:
                    break
                if value is not None:
                    candidate = value + best[j]
                    if candidate >= score:  # ties go to the longer word, as in jieba
                        score, end = candidate, j
                j += 1
            best[i] = unknown + best[i + 1] if score == lowest else score
            ends[i] = end
        tokens: list[str] = []
        buffer = ""
        i = 0
        while i < n:
            end = ends[i]
            word = s[i:end]
            i = end
            if word in _ENG:  # jieba glues single letters/digits back together
                buffer += word
                continue
            if buffer:
                tokens.append(buffer)
                buffer = ""
            tokens.append(word)
        if buffer:
            tokens.append(buffer)
        return tokens
