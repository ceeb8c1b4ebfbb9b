"""The training loop: AdamW + warm-up/decay, packed or padded batches, periodic eval loss, task score.

Written out rather than subclassing transformers' Trainer so that the loss only runs the output
head on answer tokens (prompt positions are masked anyway, and the head is the largest matmul for
big vocabularies), batches can be packed, and callers (tune, saturation) can judge a run early.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from datacraft.train.config import TrainConfig
from datacraft.train.data import IGNORE, Example
from datacraft.train.metrics import MetricFn, generate, load_metric, score
from datacraft.train.model import Loaded
from datacraft.train.packing import batch_tokens, epoch_batches, make_batch

Checkpoint = Callable[[int, float, dict[str, Any]], None]


@dataclass
class TrainResult:
    """What a run did: the metrics rows (the loss curve) and the final evaluation."""

    history: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    total_steps: int = 0
    tokens: int = 0  # real (non-padding) tokens trained on
    seconds: float = 0.0  # training time, evaluation excluded
    stopped: str | None = None  # "diverged" when the loss became NaN/inf
    packed: bool = False  # padding-free batches were used
    final: dict[str, Any] = field(default_factory=dict)  # eval_loss, score, by_label

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def lr_lambda(total: int, warmup: int, kind: str) -> Callable[[int], float]:
    """Multiplier on the base rate at each step: linear warm-up, then cosine/linear decay or constant.

    >>> f = lr_lambda(10, 2, "linear"); [round(f(s), 2) for s in (0, 1, 2, 6, 10)]
    [0.5, 1.0, 1.0, 0.5, 0.0]
    """
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        if kind == "constant":
            return 1.0
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.5 * (1 + math.cos(math.pi * progress)) if kind == "cosine" else 1.0 - progress
    return f


def total_steps(n_examples: int, config: TrainConfig) -> int:
    """Optimizer steps for a run: max_steps, or epochs over the data."""
    if config.max_steps:
        return config.max_steps
    per_epoch = math.ceil(n_examples / config.batch_size) / config.grad_accum
    return max(1, math.ceil(config.epochs * per_epoch))


def _parts(model: Any) -> tuple[Any, Any] | None:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    if getattr(base.config, "final_logit_softcapping", None):
        return None  # the head's output is post-processed; use the model's own forward
    try:
        decoder, head = base.get_decoder(), base.get_output_embeddings()
    except (AttributeError, NotImplementedError):
        return None
    return (decoder, head) if decoder is not None and head is not None else None


def answer_loss(model: Any, batch: dict[str, Any]) -> tuple[Any, int]:
    """Summed cross-entropy over answer tokens and their count (logits only where labels are set)."""
    import torch
    import torch.nn.functional as F

    labels = batch["labels"][:, 1:]
    keep = labels != IGNORE
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    parts = _parts(model)
    if parts is not None:
        decoder, head = parts
        hidden = decoder(**inputs, use_cache=False).last_hidden_state[:, :-1]
        logits = head(hidden[keep])
    else:
        logits = model(**inputs, use_cache=False).logits[:, :-1][keep]
    count = int(keep.sum())
    if count == 0:
        return torch.zeros((), device=labels.device, requires_grad=True), 0
    return F.cross_entropy(logits.float(), labels[keep], reduction="sum"), count


class Trainer:
    """Trains a loaded model on examples and evaluates it."""

    def __init__(self, loaded: Loaded, config: TrainConfig, *, progress: bool = False):
        import torch

        self.loaded, self.config, self.progress = loaded, config, progress
        self.model, self.device = loaded.model, loaded.device
        self.autocast = loaded.dtype != torch.float32
        pack = config.packing == "on" or (config.packing == "auto" and self.device.type == "cuda")
        self.packed = pack
        attn = getattr(getattr(self.model, "config", None), "_attn_implementation", None)
        self.flash_kwargs = pack and attn is not None and "flash" in attn
        self.pad_id = loaded.tokenizer.pad_token_id
        self.metric: MetricFn | None = load_metric(config.metric) if config.metric else None

    def _batch(self, examples: Sequence[Example]) -> dict[str, Any]:
        batch = make_batch(examples, packed=self.packed, pad_id=self.pad_id, flash_kwargs=self.flash_kwargs)
        return {k: v.to(self.device) if hasattr(v, "to") else v for k, v in batch.items()}

    def _loss(self, batch: dict[str, Any]) -> tuple[Any, int]:
        import torch

        with torch.autocast(self.device.type, dtype=self.loaded.dtype, enabled=self.autocast):
            return answer_loss(self.model, batch)

    def eval_loss(self, examples: Sequence[Example]) -> float:
        """Mean answer-token loss over the examples."""
        import torch

        was_training = self.model.training
        self.model.eval()
        total, count = 0.0, 0
        with torch.no_grad():
            for start in range(0, len(examples), self.config.batch_size):
                loss, n = self._loss(self._batch(examples[start:start + self.config.batch_size]))
                total, count = total + float(loss), count + n
        self.model.train(was_training)
        return total / count if count else float("nan")

    def evaluate(self, examples: Sequence[Example], *, with_score: bool = True) -> dict[str, Any]:
        """Eval loss, and the task metric on (up to metric_samples) generated answers."""
        out: dict[str, Any] = {"eval_loss": self.eval_loss(examples)}
        if with_score and self.metric is not None and examples:
            sample = list(examples[: self.config.metric_samples or len(examples)])
            predictions = generate(self.model, self.loaded.tokenizer, sample, device=self.device,
                                   max_new_tokens=self.config.max_new_tokens, dtype=self.loaded.dtype,
                                   batch_size=max(self.config.batch_size, 16))
            out.update(score(predictions, sample, self.metric))
            out["predictions"] = predictions
        return out

    def fit(self, train: Sequence[Example], eval_set: Sequence[Example] = (), *,
            checkpoints: Sequence[float] = (), on_checkpoint: Checkpoint | None = None,
            on_step: Callable[[dict[str, Any]], None] | None = None, final_score: bool = True) -> TrainResult:
        """Train; evaluate every `eval_every` steps and at each checkpoint fraction (which may raise to stop).

        `on_step` gets each step's metrics row (with the step's real token count) as it is logged.
        """
        import torch

        cfg = self.config
        torch.manual_seed(cfg.seed)
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        total = total_steps(len(train), cfg)
        warmup = round(total * cfg.warmup_ratio)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(total, warmup, cfg.scheduler))
        scaler = torch.amp.GradScaler(self.device.type) if self.loaded.dtype == torch.float16 else None
        eval_every = cfg.eval_every or max(1, total // 10)
        marks = {max(1, round(total * f)): f for f in checkpoints}
        result = TrainResult(total_steps=total, packed=self.packed)
        if eval_set:
            result.history.append({"step": 0, "eval_loss": self.eval_loss(eval_set)})
        bar = _progress(total, self.progress)
        self.model.train()
        start, micro, epoch, step, seen = time.perf_counter(), 0, 0, 0, 0
        window: list[tuple[float, int]] = []
        tokens_before, eval_seconds = 0, 0.0
        while step < total:
            for indices in epoch_batches(len(train), cfg.batch_size, cfg.seed, epoch):
                batch = self._batch([train[i] for i in indices])
                loss_sum, count = self._loss(batch)
                loss = loss_sum / max(1, count) / cfg.grad_accum
                (scaler.scale(loss) if scaler else loss).backward()
                window.append((loss_sum.detach().item(), count))
                result.tokens += batch_tokens(batch)
                seen += len(indices)
                micro += 1
                if micro % cfg.grad_accum:
                    continue
                if scaler:
                    scaler.unscale_(optimizer)
                norm = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm or float("inf"))
                if scaler:
                    scaler.step(optimizer)
                    scaler.update()
                else:
                    optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                lr = scheduler.get_last_lr()[0]
                scheduler.step()
                step += 1
                value = sum(s for s, _ in window) / max(1, sum(c for _, c in window))
                window.clear()
                result.history.append({"step": step, "epoch": round(seen / len(train), 4), "loss": value,
                                       "lr": lr, "grad_norm": float(norm)})
                if on_step is not None:
                    on_step({**result.history[-1], "tokens": result.tokens - tokens_before})
                tokens_before = result.tokens
                bar.update(1)
                bar.set_postfix(loss=f"{value:.4f}")
                if not math.isfinite(value):
                    result.stopped = "diverged"
                    break
                paused = time.perf_counter()
                if eval_set and (step % eval_every == 0 or step == total):
                    result.history.append({"step": step, "eval_loss": self.eval_loss(eval_set)})
                if step in marks and on_checkpoint is not None:
                    on_checkpoint(step, marks[step], self.evaluate(eval_set))
                eval_seconds += time.perf_counter() - paused
                if step >= total:
                    break
            if result.stopped:
                break
            epoch += 1
        bar.close()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        result.steps, result.seconds = step, time.perf_counter() - start - eval_seconds
        if eval_set and not result.stopped:
            result.final = self.evaluate(eval_set, with_score=final_score)
            if self.metric is not None and "score" in result.final:
                result.history.append({"step": step, "score": result.final["score"], "metric": cfg.metric})
        return result


def _progress(total: int, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc="train", unit="step", disable=not enabled, leave=False)
