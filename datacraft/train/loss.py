"""The answer-token loss: the model's own, or a cheaper shortcut proven equal to it on the run's first batch.

The model's own loss (`model(..., labels=...)`) applies everything its forward does to the logits:
Cohere's `logit_scale`, Granite's `logits_scaling`, Falcon-H1's `lm_head_multiplier`, Gemma 2's
soft-capping. The shortcut runs the output head only on answer positions (prompt positions are
masked anyway, and the head is the largest matmul for big vocabularies); it is used only after
it gave the same loss as the model's own on a real batch, so an architecture that post-processes
its logits falls back to the model's own loss instead of training on the wrong one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from datacraft.train.data import IGNORE

LossFn = Callable[[Any, dict[str, Any]], tuple[Any, int]]
SHORTCUT_TOLERANCE = 1e-5  # relative, on the mean loss in fp32; half precision gets HALF_TOLERANCE
HALF_TOLERANCE = 2e-3


def answer_count(batch: dict[str, Any]) -> int:
    """Tokens the loss is taken over (labels other than -100 after the one-token shift)."""
    return int((batch["labels"][:, 1:] != IGNORE).sum())


def own_loss(model: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """Summed answer-token cross-entropy from the model's own forward and loss function, and its count."""
    import torch

    count = answer_count(batch)
    if count == 0:
        return torch.zeros((), device=batch["labels"].device, requires_grad=True), 0
    out = model(**batch, use_cache=False)
    return out.loss.float() * count, count  # the model's loss is the mean over the same tokens


def _parts(model: Any) -> tuple[Any, Any] | None:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    try:
        decoder, head = base.get_decoder(), base.get_output_embeddings()
    except (AttributeError, NotImplementedError):
        return None
    return (decoder, head) if decoder is not None and head is not None else None


def head_loss(model: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """The shortcut: decoder, then the head on answer positions only. Valid only where proven equal."""
    import torch
    import torch.nn.functional as F

    parts = _parts(model)
    if parts is None:
        return own_loss(model, batch)
    decoder, head = parts
    labels = batch["labels"][:, 1:]
    keep = labels != IGNORE
    count = int(keep.sum())
    if count == 0:
        return torch.zeros((), device=labels.device, requires_grad=True), 0
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    hidden = decoder(**inputs, use_cache=False).last_hidden_state[:, :-1]
    return F.cross_entropy(head(hidden[keep]).float(), labels[keep], reduction="sum"), count


def agree(a: float, b: float, tolerance: float) -> bool:
    """Relative agreement of two mean losses.

    >>> agree(2.0, 2.00001, 1e-5), agree(2.0, 2.1, 1e-5)
    (True, False)
    """
    return abs(a - b) <= tolerance * max(1.0, abs(b))


def choose_loss(model: Any, batch: dict[str, Any], *, half: bool = False) -> tuple[LossFn, str]:
    """The shortcut when it equals the model's own loss on this batch, else the model's own; and why."""
    import torch

    if _parts(model) is None:
        return own_loss, "model's own loss (no separate decoder and head)"
    was_training = model.training
    model.eval()  # no dropout, so the two passes see the same function
    with torch.no_grad():
        own, n = own_loss(model, batch)
        short, _ = head_loss(model, batch)
    model.train(was_training)
    if n == 0:
        return own_loss, "model's own loss (the check batch has no answer tokens)"
    a, b = float(short) / n, float(own) / n
    if agree(a, b, HALF_TOLERANCE if half else SHORTCUT_TOLERANCE):
        return head_loss, f"head on answer tokens only (equal to the model's own loss: {a:.6f} vs {b:.6f})"
    return own_loss, (f"model's own loss: the head-only shortcut gives {a:.6f} against its {b:.6f} "
                      "(the model post-processes its logits)")
