"""Task metrics on generated answers: exact match, token F1, or a user function `module:function`."""

from __future__ import annotations

import importlib
import importlib.util
import re
import string
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from datacraft.errors import ConfigError
from datacraft.textutil import is_cjk
from datacraft.train.data import Example

MetricFn = Callable[[str, str], float]
_PUNCT = set(string.punctuation) | set("，。！？；：、“”‘’（）《》【】「」『』〈〉—…·")


def normalize(text: str) -> str:
    """Case-fold, drop punctuation, collapse whitespace.

    >>> normalize("  The Answer:  42. ")
    'the answer 42'
    """
    text = "".join(" " if ch in _PUNCT else ch for ch in text.casefold())
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Words for spaced scripts, single characters for CJK.

    >>> tokens("LoRA 微调 works")
    ['lora', '微', '调', 'works']
    """
    out: list[str] = []
    for word in normalize(text).split():
        buf = ""
        for ch in word:
            if is_cjk(ch):
                if buf:
                    out.append(buf)
                    buf = ""
                out.append(ch)
            else:
                buf += ch
        if buf:
            out.append(buf)
    return out


THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


def strip_thinking(text: str) -> str:
    """The answer without a reasoning block: what follows the last `</think>`, or the text without `<think>`.

    Qwen3 and other reasoning templates put `<think>...</think>` before the answer, and their
    tokenizers mark those tags as not special, so decoding keeps them.

    >>> strip_thinking("<think>\\n\\n</think>\\n\\nfour")
    'four'
    >>> strip_thinking("four")
    'four'
    """
    if THINK_CLOSE in text:
        text = text.rsplit(THINK_CLOSE, 1)[1]
    return text.replace(THINK_OPEN, "").strip()


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when the normalised texts are equal.

    >>> exact_match("Paris.", "paris")
    1.0
    """
    return float(normalize(prediction) == normalize(reference))


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD-style F1 over tokens (CJK characters count one each).

    >>> round(token_f1("red cotton shirt", "red shirt"), 3)
    0.8
    """
    pred, ref = tokens(prediction), tokens(reference)
    if not pred or not ref:
        return float(pred == ref)
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


BUILTIN: dict[str, MetricFn] = {"exact_match": exact_match, "token_f1": token_f1}


def load_metric(spec: str) -> MetricFn:
    """A built-in metric name, or `module:function` / `path/to/file.py:function` taking (prediction, reference)."""
    if spec in BUILTIN:
        return BUILTIN[spec]
    module_name, _, attr = spec.rpartition(":")
    if not module_name or not attr:
        raise ConfigError(f"--metric {spec}: use exact_match, token_f1, or module:function")
    try:
        if module_name.endswith(".py"):
            path = Path(module_name)
            loader = importlib.util.spec_from_file_location(path.stem, path)
            if loader is None or not path.exists():
                raise ConfigError(f"--metric {spec}: {path} not found")
            module = importlib.util.module_from_spec(loader)
            sys.modules.setdefault(path.stem, module)
            loader.loader.exec_module(module)  # type: ignore[union-attr]
        else:
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"--metric {spec}: cannot import {module_name}: {exc}") from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise ConfigError(f"--metric {spec}: {module_name} has no function {attr}")
    return fn


def generate(model: Any, tokenizer: Any, examples: Sequence[Example], *, device: Any, max_new_tokens: int,
             batch_size: int = 16, dtype: Any = None) -> list[str]:
    """Greedy answers to each example's prompt (left-padded batches)."""
    import torch

    was_training = model.training
    model.eval()
    pad = tokenizer.pad_token_id
    outputs: list[str] = []
    autocast = dtype is not None and dtype != torch.float32
    try:
        for start in range(0, len(examples), batch_size):
            chunk = examples[start:start + batch_size]
            width = max(len(e.prompt_ids) for e in chunk)
            ids = torch.full((len(chunk), width), pad, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for row, example in enumerate(chunk):
                n = len(example.prompt_ids)
                ids[row, width - n:] = torch.tensor(example.prompt_ids)
                mask[row, width - n:] = 1
            with torch.no_grad(), torch.autocast(device.type, dtype=dtype, enabled=autocast):
                out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device), do_sample=False,
                                     max_new_tokens=max_new_tokens, pad_token_id=pad,
                                     eos_token_id=tokenizer.eos_token_id, use_cache=True)
            for row in out[:, width:].tolist():
                outputs.append(tokenizer.decode(row, skip_special_tokens=True).strip())
    finally:
        model.train(was_training)
    return outputs


def score(predictions: Sequence[str], examples: Sequence[Example], metric: MetricFn) -> dict[str, Any]:
    """Mean metric overall and per label (when examples carry one)."""
    values = [float(metric(strip_thinking(p), strip_thinking(e.reference)))
              for p, e in zip(predictions, examples, strict=True)]
    groups: dict[str, list[float]] = defaultdict(list)
    for value, example in zip(values, examples, strict=True):
        if example.label is not None:
            groups[example.label].append(value)
    return {
        "score": sum(values) / len(values) if values else 0.0,
        "n": len(values),
        "by_label": {label: sum(v) / len(v) for label, v in sorted(groups.items())},
    }


def first_words(text: str, limit: int = 80) -> str:
    """A short one-line preview of a text."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
