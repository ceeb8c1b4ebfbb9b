"""Translators for back-translation: one interface, an LLM backend here and a MarianMT one in marian.py.

A translator takes a batch of texts in one language and returns, for each, the translation or a
`Failed` with a reason; it never raises for one bad text. The LLM translator sends a whole batch
in one request (prompts/translate.j2, JSON in and out) through the shared LLM client, so it is
concurrent, cached and resumable like `generate`: a rerun gets every reply already paid for from
the cache. When a batch reply cannot be read, its texts are retried one per request.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from typing import Any, Protocol

from datacraft.augment.base import Failed
from datacraft.augment.config import BacktranslateConfig
from datacraft.generate.parse import drop_trailing_commas
from datacraft.generate.prompts import render
from datacraft.llm import BudgetExhausted, LLMClient, RequestFailed

LANGUAGE_NAMES = {
    "zh": "Chinese", "zh-Hans": "Simplified Chinese", "zh-Hant": "Traditional Chinese", "en": "English",
    "ja": "Japanese", "ko": "Korean", "fr": "French", "de": "German", "es": "Spanish", "ru": "Russian",
    "pt": "Portuguese", "it": "Italian", "ar": "Arabic", "vi": "Vietnamese",
}
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_DECODER = json.JSONDecoder()
_TEXT_KEYS = ("translation", "text", "target", "output")


class Translator(Protocol):
    """Translates batches of texts; `batch_size` is how many it takes at once."""

    name: str
    batch_size: int

    async def translate(self, texts: list[str], source: str, target: str, variant: int = 0) -> list[str | Failed]:
        """One result per text, in order. `variant` asks for a different (not cached) rendering."""
        ...


def base_language(code: str) -> str:
    """'zh-Hant' -> 'zh'."""
    return code.split("-")[0]


def parse_translations(text: str | None, count: int) -> tuple[list[str] | None, str]:
    """(translations, "") from a reply, or (None, why not); tolerant of fences, chatter and trailing commas.

    >>> parse_translations('Sure:\\n```json\\n{"translations": ["Hello", "World",]}\\n```', 2)
    (['Hello', 'World'], '')
    >>> parse_translations('{"translations": ["only one"]}', 2)
    (None, 'expected 2 translations, got 1')
    """
    if not text or not text.strip():
        return None, "empty reply"
    candidates = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    problem = "no JSON in the reply"
    for candidate in candidates:
        fixed = drop_trailing_commas(candidate)
        for start in (i for i, ch in enumerate(fixed) if ch in "[{"):
            try:
                value, _ = _DECODER.raw_decode(fixed, start)
            except json.JSONDecodeError:
                continue
            items = _unwrap(value)
            if items is None:
                continue
            if len(items) != count:
                problem = f"expected {count} translations, got {len(items)}"
                break
            return items, ""
    if count == 1 and "{" not in text and "[" not in text:
        return [text.strip()], ""  # a bare translation of a single text
    return None, problem


def _unwrap(value: Any) -> list[str] | None:
    if isinstance(value, dict):
        lists = [v for k, v in value.items() if isinstance(v, list) and k.lower() in ("translations", "texts", "items")]
        lists = lists or [v for v in value.values() if isinstance(v, list)]
        if len(lists) != 1:
            return None
        value = lists[0]
    if not isinstance(value, list):
        return None
    out: list[str] = []
    for item in value:
        if isinstance(item, dict):
            item = next((item[k] for k in _TEXT_KEYS if isinstance(item.get(k), str)), None)
        if not isinstance(item, str):
            return None
        out.append(item)
    return out


def request_seed(seed: int, texts: list[str], source: str, target: str, variant: int) -> int:
    """A stable per-request `seed`, so reruns ask exactly the same thing (and hit the cache)."""
    digest = hashlib.sha256(json.dumps([seed, source, target, variant, texts], ensure_ascii=False).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2**31


class LLMTranslator:
    """Translation with any OpenAI-compatible chat model, one batch per request."""

    name = "llm"

    def __init__(self, client: LLMClient, config: BacktranslateConfig | None = None, seed: int = 0):
        self.client = client
        self.config = config or BacktranslateConfig()
        self.batch_size = self.config.batch_size
        self.seed = seed

    def messages(self, texts: list[str], source: str, target: str) -> list[dict[str, str]]:
        """The translation prompt for a batch."""
        return render("translate", self.config.prompt, texts=texts, source=LANGUAGE_NAMES.get(source, source),
                      target=LANGUAGE_NAMES.get(target, target), source_code=source, target_code=target)

    async def translate(self, texts: list[str], source: str, target: str, variant: int = 0) -> list[str | Failed]:
        """Translate a batch in one request; an unreadable batch reply is retried text by text."""
        options = {"json_mode": True, "temperature": self.config.temperature, "max_tokens": self.config.max_tokens,
                   "seed": request_seed(self.seed, texts, source, target, variant)}
        try:
            reply = await self.client.complete(self.messages(texts, source, target), **options)
        except RequestFailed as exc:
            return [Failed("translation_failed", exc.detail)] * len(texts)
        except BudgetExhausted as exc:
            return [Failed("budget_exhausted", f"--{exc.args[0].replace('_', '-')} reached: not sent")] * len(texts)
        parsed, problem = parse_translations(reply.text, len(texts))
        if parsed is not None and reply.finish_reason != "length":
            return list(parsed)
        if reply.finish_reason == "length":
            problem = "the reply was cut off by the length limit"
        if len(texts) == 1:
            return [Failed("unreadable_translation", problem)]
        singles = await asyncio.gather(*(self.translate([text], source, target, variant) for text in texts))
        return [result[0] for result in singles]
