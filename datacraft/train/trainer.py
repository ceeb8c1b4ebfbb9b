"""The training loop: AdamW + warm-up/decay, packed or padded batches, eval, early stopping, checkpoints.

Written out rather than subclassing transformers' Trainer so that callers (tune, saturation) can
judge a run early and stop it at convergence, and so that two shortcuts are taken only where a check
on the run's own first batch proves them exact (datacraft.train.loss, packing.packing_isolated).
Gradient accumulation weights every answer token equally: each micro-batch's summed loss is divided
by the token count of the whole optimizer step (transformers' `num_items_in_batch` fix).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datacraft.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from datacraft.train.config import TrainConfig
from datacraft.train.data import Example
from datacraft.train.loss import LossFn, answer_count, choose_loss, own_loss
from datacraft.train.metrics import MetricFn, generate, load_metric, score
from datacraft.train.model import Loaded
from datacraft.train.packing import batch_tokens, epoch_batches, make_batch, packing_isolated

Checkpoint = Callable[[int, float, dict[str, Any]], None]


@dataclass
class TrainResult:
    """What a run did: the metrics rows (the loss curve) and the final evaluation."""

    history: list[dict[str, Any]] = field(default_factory=list)
    steps: int = 0
    total_steps: int = 0
    tokens: int = 0  # real (non-padding) tokens trained on
    seconds: float = 0.0  # training time, evaluation excluded
    stopped: str | None = None  # "diverged" (NaN/inf loss) or "early_stopping" (eval stopped improving)
    converged: bool | None = None  # early stopping fired; False: the step cap ended a still-improving run
    best_step: int | None = None  # the eval point the final weights come from (load_best)
    packed: bool = False  # padding-free batches were used
    packing_reason: str = ""  # why batches are (not) packed
    loss_kind: str = ""  # which loss computation the run uses, and the evidence
    resumed_from: int | None = None  # the checkpoint step this run continued from
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


def step_groups(n: int, batch_size: int, accum: int, seed: int) -> Iterator[tuple[int, int, list[list[int]]]]:
    """(epoch, group index, micro-batches) for every optimizer step, epoch after epoch, without end."""
    epoch = 0
    while True:
        batches = list(epoch_batches(n, batch_size, seed, epoch))
        for group, start in enumerate(range(0, len(batches), accum)):
            yield epoch, group, batches[start:start + accum]
        epoch += 1


def accumulate(model: Any, loss_fn: LossFn, batches: Sequence[dict[str, Any]],
               backward: Callable[[Any], None] | None = None) -> tuple[float, int]:
    """Backward over micro-batches with each token weighted equally; (summed loss, tokens) of the step."""
    total = sum(answer_count(b) for b in batches)
    loss_sum, seen = 0.0, 0
    for batch in batches:
        loss, count = loss_fn(model, batch)
        if count == 0:
            continue
        scaled = loss / total  # not / count / len(batches): a short micro-batch must not weigh more per token
        (backward or (lambda t: t.backward()))(scaled)
        loss_sum, seen = loss_sum + float(loss.detach()), seen + count
    return loss_sum, seen


def neftune_hook(model: Any, alpha: float) -> Any:
    """Add NEFTune noise to the input embeddings while training (transformers' own hook); returns the handle."""
    try:
        from transformers.integrations.neftune import neftune_post_forward_hook
    except ImportError:  # transformers < 4.50 kept it here
        from transformers.trainer_utils import neftune_post_forward_hook

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    embeddings = base.get_input_embeddings()
    embeddings.neftune_noise_alpha = alpha
    return embeddings.register_forward_hook(neftune_post_forward_hook)


class Trainer:
    """Trains a loaded model on examples and evaluates it."""

    def __init__(self, loaded: Loaded, config: TrainConfig, *, progress: bool = False):
        import torch

        self.loaded, self.config, self.progress = loaded, config, progress
        self.model, self.device = loaded.model, loaded.device
        self.autocast = loaded.dtype != torch.float32
        self.packed = config.packing == "on" or (config.packing == "auto" and self.device.type == "cuda")
        self.packing_reason = "packing off (--packing off, or auto on a non-CUDA device)" if not self.packed else ""
        attn = getattr(getattr(self.model, "config", None), "_attn_implementation", None)
        self.flash_kwargs = self.packed and attn is not None and "flash" in attn
        self.pad_id = loaded.tokenizer.pad_token_id
        self.metric: MetricFn | None = load_metric(config.metric) if config.metric else None
        self.loss_fn: LossFn = own_loss
        self.loss_kind = "model's own loss"
        self.checked = False

    def _to_device(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {k: v.to(self.device) if hasattr(v, "to") else v for k, v in batch.items()}

    def _batch(self, examples: Sequence[Example]) -> dict[str, Any]:
        return self._to_device(make_batch(examples, packed=self.packed, pad_id=self.pad_id,
                                          flash_kwargs=self.flash_kwargs))

    def check(self, examples: Sequence[Example]) -> None:
        """Once per run, on one batch: pick the loss computation, and pack only if packing is exact."""
        import torch

        if self.checked or not examples:
            return
        self.checked = True
        half = self.autocast
        sample = list(examples[: max(2, self.config.batch_size)])
        with torch.autocast(self.device.type, dtype=self.loaded.dtype, enabled=self.autocast):
            padded = self._to_device(make_batch(sample, packed=False, pad_id=self.pad_id))
            self.loss_fn, self.loss_kind = choose_loss(self.model, padded, half=half)
            if self.packed:
                ok, why = packing_isolated(self.model, self.loss_fn, sample, self.pad_id,
                                           flash_kwargs=self.flash_kwargs, half=half)
                self.packed, self.packing_reason = ok, why
                self.flash_kwargs = self.flash_kwargs and ok

    def _loss(self, batch: dict[str, Any]) -> tuple[Any, int]:
        import torch

        with torch.autocast(self.device.type, dtype=self.loaded.dtype, enabled=self.autocast):
            return self.loss_fn(self.model, batch)

    def eval_loss(self, examples: Sequence[Example]) -> float:
        """Mean answer-token loss over the examples."""
        import torch

        self.check(examples)
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
            out["sources"] = [e.source for e in sample]  # which eval record each prediction answers
        return out

    def _trainable(self) -> dict[str, Any]:
        return {n: p.detach().clone() for n, p in self.model.named_parameters() if p.requires_grad}

    def _restore(self, weights: dict[str, Any]) -> None:
        import torch

        with torch.no_grad():
            for name, param in self.model.named_parameters():
                if name in weights:
                    param.copy_(weights[name])

    def fit(self, train: Sequence[Example], eval_set: Sequence[Example] = (), *,
            checkpoints: Sequence[float] = (), on_checkpoint: Checkpoint | None = None,
            on_step: Callable[[dict[str, Any]], None] | None = None, final_score: bool = True,
            run_dir: str | Path | None = None, resume: bool = False) -> TrainResult:
        """Train; evaluate every `eval_every` steps and at each checkpoint fraction (which may raise to stop).

        With early_stopping_patience, stops once that many evals in a row did not improve the chosen
        metric; with load_best, the final weights are those of the best eval. `run_dir` receives
        checkpoints (every save_every steps) and TensorBoard logs; `resume` continues from its latest.
        """
        import torch

        cfg = self.config
        torch.manual_seed(cfg.seed)
        self.check(train)
        params = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        total = total_steps(len(train), cfg)
        warmup = round(total * cfg.warmup_ratio)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(total, warmup, cfg.scheduler))
        scaler = torch.amp.GradScaler(self.device.type) if self.loaded.dtype == torch.float16 else None
        eval_every = cfg.eval_every or max(1, total // 10)
        marks = {max(1, round(total * f)): f for f in checkpoints}
        result = TrainResult(total_steps=total, packed=self.packed, packing_reason=self.packing_reason,
                             loss_kind=self.loss_kind)
        tracker = _Tracker(cfg)
        logger = _tensorboard(run_dir) if cfg.tensorboard else None
        step, position = 0, (0, -1)
        found = latest_checkpoint(run_dir) if resume and run_dir else None
        if found is not None:
            state = load_checkpoint(found, self.model, optimizer, scheduler)
            step, position, result.history = state["step"], tuple(state["position"]), state["history"]
            result.tokens, result.resumed_from = state["tokens"], step
            tracker.load(state.get("tracker") or {})
        elif eval_set:
            result.history.append(self._eval_row(0, eval_set, tracker, result))
        hook = neftune_hook(self.model, cfg.neftune_alpha) if cfg.neftune_alpha else None
        bar = _progress(total, self.progress, step)
        self.model.train()
        start, seen, tokens_before, eval_seconds = time.perf_counter(), 0, result.tokens, 0.0

        def backward(t: Any) -> None:
            (scaler.scale(t) if scaler else t).backward()

        try:
            for epoch, group, indices in step_groups(len(train), cfg.batch_size, cfg.grad_accum, cfg.seed):
                if step >= total or result.stopped:
                    break
                if (epoch, group) <= position:
                    continue  # resumed: already trained before the checkpoint
                batches = [self._batch([train[i] for i in micro]) for micro in indices]
                with torch.autocast(self.device.type, dtype=self.loaded.dtype, enabled=self.autocast):
                    loss_sum, count = accumulate(self.model, self.loss_fn, batches, backward)
                result.tokens += sum(batch_tokens(b) for b in batches)
                seen += sum(len(m) for m in indices)
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
                value = loss_sum / max(1, count)
                row = {"step": step, "epoch": round(epoch + (group + 1) * cfg.batch_size * cfg.grad_accum
                                                      / len(train), 4), "loss": value, "lr": lr,
                       "grad_norm": float(norm)}
                result.history.append(row)
                _log(logger, row)
                if on_step is not None:
                    on_step({**row, "tokens": result.tokens - tokens_before})
                tokens_before = result.tokens
                bar.update(1)
                bar.set_postfix(loss=f"{value:.4f}")
                if not math.isfinite(value):
                    result.stopped = "diverged"
                    break
                paused = time.perf_counter()
                if eval_set and (step % eval_every == 0 or step == total):
                    result.history.append(self._eval_row(step, eval_set, tracker, result))
                    _log(logger, result.history[-1])
                    if tracker.should_stop():
                        result.stopped = "early_stopping"
                if step in marks and on_checkpoint is not None:
                    on_checkpoint(step, marks[step], self.evaluate(eval_set))
                if run_dir and cfg.save_every and (step % cfg.save_every == 0 or step == total or result.stopped):
                    save_checkpoint(run_dir, step, self.model, optimizer, scheduler, keep=cfg.save_total_limit,
                                    state={"position": [epoch, group], "history": result.history,
                                           "tokens": result.tokens, "tracker": tracker.dump()})
                eval_seconds += time.perf_counter() - paused
        finally:
            bar.close()
            if hook is not None:
                hook.remove()
            if logger is not None:
                logger.close()
        if self.device.type == "cuda":
            torch.cuda.synchronize()
        result.steps, result.seconds = step, time.perf_counter() - start - eval_seconds
        result.converged = result.stopped == "early_stopping" if tracker.enabled else None
        if cfg.load_best and tracker.best_weights is not None and result.stopped != "diverged":
            self._restore(tracker.best_weights)
            result.best_step = tracker.best_step
        if eval_set and result.stopped != "diverged":
            result.final = self.evaluate(eval_set, with_score=final_score)
            if result.best_step is not None:
                result.final["best_step"] = result.best_step
            if self.metric is not None and "score" in result.final:
                result.history.append({"step": step, "score": result.final["score"], "metric": cfg.metric})
        return result

    def _eval_row(self, step: int, eval_set: Sequence[Example], tracker: _Tracker, result: TrainResult) -> dict[str, Any]:
        by_score = tracker.enabled and tracker.metric == "score" and self.metric is not None
        out = self.evaluate(eval_set, with_score=by_score)
        row = {"step": step, "eval_loss": out["eval_loss"]}
        if by_score:
            row["eval_score"] = out["score"]
        if tracker.update(step, row["eval_score"] if by_score else row["eval_loss"]) and tracker.keep_best:
            tracker.best_weights = self._trainable()
        return row


class _Tracker:
    """Early stopping and best-eval bookkeeping."""

    def __init__(self, cfg: TrainConfig):
        self.enabled = cfg.early_stopping_patience is not None
        self.patience = cfg.early_stopping_patience or 0
        self.metric = cfg.early_stopping_metric
        self.min_delta = cfg.early_stopping_min_delta
        self.keep_best = cfg.load_best
        self.best: float | None = None
        self.best_step: int | None = None
        self.bad = 0
        self.best_weights: Any = None

    def update(self, step: int, value: float) -> bool:
        """Record an eval; True when it is the best so far."""
        if not math.isfinite(value):
            self.bad += 1
            return False
        sign = -1.0 if self.metric == "eval_loss" else 1.0  # improvement direction
        if self.best is None or sign * (value - self.best) > self.min_delta:
            self.best, self.best_step, self.bad = value, step, 0
            return True
        self.bad += 1
        return False

    def should_stop(self) -> bool:
        return self.enabled and self.bad >= self.patience

    def dump(self) -> dict[str, Any]:
        return {"best": self.best, "best_step": self.best_step, "bad": self.bad}

    def load(self, state: dict[str, Any]) -> None:
        self.best, self.best_step, self.bad = state.get("best"), state.get("best_step"), state.get("bad", 0)


def _tensorboard(run_dir: str | Path | None) -> Any:
    from datacraft.errors import ConfigError

    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise ConfigError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
    if run_dir is None:
        raise ConfigError("--tensorboard needs an output directory")
    return SummaryWriter(str(Path(run_dir) / "tensorboard"))


def _log(logger: Any, row: dict[str, Any]) -> None:
    if logger is None:
        return
    for key in ("loss", "lr", "grad_norm", "eval_loss", "eval_score"):
        if key in row and row[key] is not None and math.isfinite(row[key]):
            logger.add_scalar(("train/" if key in ("loss", "lr", "grad_norm") else "eval/") + key, row[key], row["step"])


def _progress(total: int, enabled: bool, initial: int = 0) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc="train", unit="step", disable=not enabled, leave=False)
