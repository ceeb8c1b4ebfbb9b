"""Batches: padded (CPU default, the classic layout) or padding-free packed (CUDA default).

A packed batch concatenates its records into one row of shape [1, total_tokens] with no padding.
`position_ids` restart at 0 for every record; from them transformers builds a block-diagonal
causal mask for sdpa/eager attention (and FlashAttention-2 reads the `cu_seq_lens_*` boundaries),
so no token attends across records. The first label of each record is -100, so no record is
trained to predict its first token from the one before. The keys match transformers'
DataCollatorWithFlattening.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from typing import Any

from datacraft.train.data import IGNORE, Example


def pad_batch(examples: Sequence[Example], pad_id: int) -> dict[str, Any]:
    """Right-padded input_ids / attention_mask / labels of shape [batch, longest]."""
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, example in enumerate(examples):
        n = len(example.input_ids)
        ids[row, :n] = torch.tensor(example.input_ids)
        labels[row, :n] = torch.tensor(example.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


def pack_batch(examples: Sequence[Example], *, flash_kwargs: bool = False) -> dict[str, Any]:
    """One padding-free row: position_ids restart per record; cu_seq_lens for FlashAttention."""
    import torch

    ids: list[int] = []
    labels: list[int] = []
    positions: list[int] = []
    bounds = [0]
    for example in examples:
        n = len(example.input_ids)
        ids += example.input_ids
        labels += [IGNORE, *example.labels[1:]]
        positions += range(n)
        bounds.append(bounds[-1] + n)
    batch: dict[str, Any] = {
        "input_ids": torch.tensor([ids], dtype=torch.long),
        "labels": torch.tensor([labels], dtype=torch.long),
        "position_ids": torch.tensor([positions], dtype=torch.long),
    }
    if flash_kwargs:
        cu = torch.tensor(bounds, dtype=torch.int32)
        longest = max(b - a for a, b in zip(bounds, bounds[1:], strict=False))
        batch.update(cu_seq_lens_q=cu, cu_seq_lens_k=cu, max_length_q=longest, max_length_k=longest)
    return batch


def cu_seqlens(position_ids: Sequence[int]) -> list[int]:
    """Record boundaries from packed position ids.

    >>> cu_seqlens([0, 1, 2, 0, 1, 0])
    [0, 3, 5, 6]
    """
    starts = [i for i, p in enumerate(position_ids) if p == 0]
    return [*starts, len(position_ids)]


def epoch_batches(n: int, batch_size: int, seed: int, epoch: int) -> Iterator[list[int]]:
    """Shuffled index batches for one epoch (a new order each epoch, the same for the same seed)."""
    order = list(range(n))
    random.Random(seed * 1_000_003 + epoch).shuffle(order)
    for start in range(0, n, batch_size):
        yield order[start:start + batch_size]


def make_batch(examples: Sequence[Example], *, packed: bool, pad_id: int, flash_kwargs: bool = False) -> dict[str, Any]:
    """A packed or padded batch."""
    return pack_batch(examples, flash_kwargs=flash_kwargs) if packed else pad_batch(examples, pad_id)


def batch_tokens(batch: dict[str, Any]) -> int:
    """Real (non-padding) tokens in a batch."""
    if "attention_mask" in batch:
        return int(batch["attention_mask"].sum())
    return int(batch["input_ids"].numel())


PACKING_TOLERANCE = 1e-5  # relative, fp32: what "no token sees another record" costs in rounding
PACKING_HALF_TOLERANCE = 1e-3  # bf16/fp16 forward passes round far more


def packing_isolated(model: Any, loss_fn: Any, examples: Sequence[Example], pad_id: int, *,
                     flash_kwargs: bool = False, half: bool = False) -> tuple[bool, str]:
    """Whether packed and padded batches of these examples give the same loss (records isolated), and why."""
    import torch

    from datacraft.train.loss import agree

    if len(examples) < 2:
        return True, "one record per batch: nothing to isolate"
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            padded, n = loss_fn(model, {k: v.to(_device(model)) for k, v in pad_batch(examples, pad_id).items()})
            batch = pack_batch(examples, flash_kwargs=flash_kwargs)
            packed, m = loss_fn(model, {k: v.to(_device(model)) if hasattr(v, "to") else v for k, v in batch.items()})
    except (TypeError, ValueError, RuntimeError) as exc:  # a forward that rejects position_ids
        return False, f"the packed forward pass failed ({type(exc).__name__}: {str(exc)[:120]})"
    finally:
        model.train(was_training)
    # The padded batch trains on each record's first answer token too when it is not the record's
    # first token; the packed one never does (it would be predicted from the previous record).
    a, b = float(padded) / max(1, n), float(packed) / max(1, m)
    tolerance = PACKING_HALF_TOLERANCE if half else PACKING_TOLERANCE
    if n == m and agree(b, a, tolerance):
        return True, f"packed and padded loss agree ({b:.6f} vs {a:.6f}, tolerance {tolerance:g})"
    return False, (f"packed loss {b:.6f} differs from padded {a:.6f} (tolerance {tolerance:g}): this architecture's "
                   "attention does not keep packed records apart, so batches are padded")


def _device(model: Any) -> Any:
    return next(model.parameters()).device
