"""A local machine-translation model (MarianMT / opus-mt, or any seq2seq folder) through `transformers`.

One model per direction, given as `zh-en=PATH` (or a PATH whose folder name ends in `-zh-en`,
as opus-mt downloads do). Models load on first use, run on the GPU when there is one, and take
texts in batches sorted by length (less padding). Multi-target models such as opus-mt-en-zh need
a target token (`>>cmn_Hans<<`); it is added when the model's vocabulary has one for the target.
"""

from __future__ import annotations

import asyncio
import re
import threading
from pathlib import Path
from typing import Any

from datacraft.augment.base import Failed
from datacraft.augment.config import BacktranslateConfig
from datacraft.augment.translate import base_language
from datacraft.errors import ConfigError

INSTALL = "pip install 'datacraft[train]' sentencepiece"
_PAIR = re.compile(r"^([a-z]{2,3})-([a-z]{2,3})$")
_TARGET_TOKENS = {
    "zh-Hans": (">>cmn_Hans<<", ">>zho_Hans<<", ">>cmn<<", ">>zho<<", ">>zh<<"),
    "zh-Hant": (">>cmn_Hant<<", ">>zho_Hant<<", ">>cmn<<", ">>zho<<", ">>zh<<"),
    "en": (">>eng<<", ">>en<<"),
}


def parse_model_dirs(values: list[str] | tuple[str, ...] | dict[str, str]) -> dict[str, str]:
    """{"zh-en": path} from `zh-en=PATH` or `PATH` (direction from a folder name like opus-mt-zh-en).

    >>> parse_model_dirs(["en-zh=/models/a", "/models/opus-mt-zh-en"])
    {'en-zh': '/models/a', 'zh-en': '/models/opus-mt-zh-en'}
    """
    if isinstance(values, dict):
        values = [f"{k}={v}" for k, v in values.items()]
    dirs: dict[str, str] = {}
    for value in values:
        pair, sep, path = value.partition("=")
        if not sep:
            path = value
            match = re.search(r"([a-z]{2,3})-([a-z]{2,3})/?$", value.rstrip("/"))
            if not match:
                raise ConfigError(f"--model-dir {value}: say which direction it translates, e.g. --model-dir zh-en={value}")
            pair = f"{match.group(1)}-{match.group(2)}"
        if not _PAIR.match(pair):
            raise ConfigError(f"--model-dir {value}: direction {pair!r} should look like zh-en")
        dirs[pair] = path
    return dirs


class MarianTranslator:
    """Translation with local seq2seq models; `translate` runs the model in a worker thread."""

    name = "marian"

    def __init__(self, model_dirs: dict[str, str], config: BacktranslateConfig | None = None):
        self.config = config or BacktranslateConfig()
        self.batch_size = self.config.batch_size
        self.model_dirs = dict(model_dirs)
        if not self.model_dirs:
            raise ConfigError("--translator marian needs --model-dir, e.g. --model-dir zh-en=./opus-mt-zh-en "
                              "--model-dir en-zh=./opus-mt-en-zh")
        for pair, path in self.model_dirs.items():
            if not Path(path).is_dir():
                raise ConfigError(f"--model-dir {pair}={path}: no such folder")
        try:
            import torch  # noqa: F401
            import transformers  # noqa: F401
        except ImportError:
            raise ConfigError(f"--translator marian needs transformers and torch: {INSTALL}") from None
        self.device = self.config.device or _default_device()
        self.models: dict[str, tuple[Any, Any]] = {}
        self.calls = 0  # forward passes, for tests and progress
        self._lock = threading.Lock()  # batches arrive from several worker threads

    def load(self, pair: str) -> tuple[Any, Any]:
        """(tokenizer, model) for a direction such as "zh-en", loaded once."""
        if pair not in self.models:
            if pair not in self.model_dirs:
                raise ConfigError(f"no model for {pair}: add --model-dir {pair}=PATH "
                                  f"(have: {', '.join(sorted(self.model_dirs))})")
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

            path = self.model_dirs[pair]
            try:
                tokenizer = AutoTokenizer.from_pretrained(path)
                model = AutoModelForSeq2SeqLM.from_pretrained(path)
            except (OSError, ValueError, ImportError) as exc:
                raise ConfigError(f"--model-dir {pair}={path}: cannot load the model ({exc}); "
                                  f"opus-mt tokenizers also need sentencepiece: {INSTALL}") from None
            model.to(self.device).eval()
            self.models[pair] = (tokenizer, model)
        return self.models[pair]

    async def translate(self, texts: list[str], source: str, target: str, variant: int = 0) -> list[str | Failed]:
        """Translate texts in batches of `batch_size` (beam search is deterministic, so `variant` is unused)."""
        return await asyncio.to_thread(self.translate_sync, texts, source, target)

    def translate_sync(self, texts: list[str], source: str, target: str) -> list[str | Failed]:
        """The blocking version of `translate`."""
        pair = f"{base_language(source)}-{base_language(target)}"
        with self._lock:  # from_pretrained is not thread-safe, and one model call at a time keeps memory flat
            return self._translate(texts, pair, target)

    def _translate(self, texts: list[str], pair: str, target: str) -> list[str | Failed]:
        tokenizer, model = self.load(pair)
        prefix = _target_token(tokenizer, target)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        results: list[str | Failed] = [Failed("translation_failed")] * len(texts)
        for start in range(0, len(order), self.batch_size):
            chunk = order[start:start + self.batch_size]
            batch = [f"{prefix} {texts[i]}" if prefix else texts[i] for i in chunk]
            for i, out in zip(chunk, self._generate(tokenizer, model, batch), strict=True):
                results[i] = out
        return results

    def _generate(self, tokenizer: Any, model: Any, batch: list[str]) -> list[str]:
        import torch

        with torch.inference_mode():
            self.calls += 1
            inputs = tokenizer(batch, return_tensors="pt", padding=True, truncation=True,
                               max_length=self.config.max_length).to(self.device)
            inputs.pop("token_type_ids", None)
            output = model.generate(**inputs, num_beams=self.config.num_beams, max_length=self.config.max_length)
            return [text.strip() for text in tokenizer.batch_decode(output, skip_special_tokens=True)]


def _default_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _target_token(tokenizer: Any, target: str) -> str:
    """The `>>xxx<<` token a multi-target model needs for `target`, or ""."""
    vocab = tokenizer.get_vocab()
    for token in _TARGET_TOKENS.get(target, (f">>{base_language(target)}<<",)):
        if token in vocab:
            return token
    return ""
