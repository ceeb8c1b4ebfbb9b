"""Loss-curve diagnostics: name the curve's shape and say what a practitioner would change.

Labels, checked in this order (the first that fits wins):
- diverging: NaN/inf, or the loss ends well above where it started;
- spiking: a few isolated jumps far above the local trend;
- overfitting: eval loss rises from its minimum while the train loss keeps falling below it;
- oscillating: swings that are large next to the progress made;
- underfitting: the loss barely falls;
- healthy: none of the above;
and too_short when there are fewer than 8 loss points to judge.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from datacraft.errors import InputError

ADVICE = {
    "diverging": ["lower the learning rate (e.g. divide by 10)", "add warm-up (warmup_ratio 0.05-0.1)",
                  "keep gradient clipping on (max_grad_norm 1.0)", "prefer bf16 to fp16",
                  "check the data for empty, garbled or extremely long records"],
    "spiking": ["add or lengthen warm-up", "lower the learning rate or max_grad_norm",
                "inspect the batches at the spike steps: very long, garbled or mislabelled records "
                "cause sudden jumps (datacraft clean / dedupe)"],
    "overfitting": ["train fewer epochs: stop near the step where eval loss was lowest",
                    "add more, or more varied, data", "raise LoRA dropout, or lower the rank or learning rate"],
    "oscillating": ["lower the learning rate (e.g. divide by 3)",
                    "use a larger effective batch (batch size or gradient accumulation)",
                    "look for contradictory answers to near-identical prompts"],
    "underfitting": ["raise the learning rate (LoRA usually wants 1e-4 to 3e-4)", "train longer or for more epochs",
                     "use a larger LoRA rank or target all linear layers",
                     "check that the answers are learnable and not masked away"],
    "healthy": ["nothing to fix"],
    "too_short": ["log more steps: a curve needs at least 8 points to judge"],
}


@dataclass
class Diagnosis:
    """A curve's label, the evidence in one line, and what to do about it."""

    label: str
    summary: str
    advice: list[str] = field(default_factory=list)
    findings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self) -> str:
        """Multi-line text for the terminal."""
        lines = [f"diagnosis: {self.label}: {self.summary}"]
        lines += [f"  - {tip}" for tip in self.advice]
        return "\n".join(lines)


def _rolling_median(y: np.ndarray, window: int) -> np.ndarray:
    half = window // 2
    return np.array([np.median(y[max(0, i - half): i + half + 1]) for i in range(len(y))])


def _make(label: str, summary: str, findings: dict[str, Any], extra: Iterable[str] = (),
          lr: float | None = None) -> Diagnosis:
    advice = list(ADVICE[label])
    if lr and label in ("underfitting", "diverging", "oscillating"):
        # Say where to go from the rate actually used, not only the textbook range.
        factor = {"underfitting": "2-5x", "diverging": "1/10 of", "oscillating": "1/3 of"}[label]
        advice[0] = f"{advice[0]}: the peak was {lr:.2g}, try {factor} that"
    return Diagnosis(label, summary, [*advice, *extra], findings)


def diagnose(train_loss: Sequence[float], eval_loss: Sequence[tuple[int, float]] = (),
             steps: Sequence[int] | None = None, lr: float | None = None) -> Diagnosis:
    """Classify a training-loss curve (one value per step), with eval points as (step, loss) and the peak lr."""
    found = _classify(train_loss, eval_loss, steps)
    return _make(*found[:3], extra=found[3], lr=lr)


def _classify(train_loss: Sequence[float], eval_loss: Sequence[tuple[int, float]],
              steps: Sequence[int] | None) -> tuple[str, str, dict[str, Any], list[str]]:
    y = np.asarray([math.nan if v is None else float(v) for v in train_loss], dtype=float)
    x = np.asarray(steps if steps is not None else range(1, len(y) + 1), dtype=float)
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        return "diverging", f"the loss became NaN/inf at step {int(x[bad[0]])}", {"first_bad_step": int(x[bad[0]])}, []
    n = len(y)
    if n < 8:
        return "too_short", f"only {n} loss points", {"points": n}, []
    edge = max(2, n // 10)
    start, end = float(np.median(y[:edge])), float(np.median(y[-edge:]))
    trend = _rolling_median(y, max(5, n // 10) | 1)
    lowest = float(trend.min())
    findings: dict[str, Any] = {"start": round(start, 4), "end": round(end, 4), "lowest": round(lowest, 4)}
    initial = min(float(y[0]), start)  # the median of the first points may already have blown up
    if end > 1.3 * initial or (end > 1.1 * initial and end > 3 * lowest):
        return "diverging", f"the loss rose from {initial:.3g} to {end:.3g}", findings, []

    # A spike is a jump above the median of the steps just before it (so the fast early descent
    # never counts), far outside the step-to-step noise, and large next to the loss itself.
    w = max(3, n // 20)
    before = np.array([np.median(y[i - w:i]) if i >= w else np.inf for i in range(n)])
    jump = y - before
    steps_noise = np.diff(y)
    scale = 1.4826 * float(np.median(np.abs(steps_noise - np.median(steps_noise)))) + 1e-12
    spikes = np.flatnonzero((jump > 6 * scale) & (y > 1.5 * before) & (jump > 0.1 * (start - lowest + before)))
    findings["spikes"] = [int(x[i]) for i in spikes[:10]]
    if 1 <= len(spikes) <= max(3, n // 20):
        where = ", ".join(map(str, findings["spikes"]))
        return "spiking", f"{len(spikes)} sudden jump(s), at step {where}", findings, []

    ev = [(s, v) for s, v in eval_loss if v is not None and math.isfinite(v)]
    if len(ev) >= 3:
        values = np.array([v for _, v in ev])
        best = int(values.argmin())
        findings.update(eval_best_step=int(ev[best][0]), eval_best=round(float(values[best]), 4),
                        eval_end=round(float(values[-1]), 4))
        if best < len(ev) - 1 and values[-1] > 1.1 * values[best] and end < values[best]:
            return "overfitting", (f"eval loss rose from {values[best]:.3g} (step {ev[best][0]}) to "
                                   f"{values[-1]:.3g} while train loss fell to {end:.3g}"), findings, []
        # Eval stalled early and creeping up while train keeps falling far below it: memorising.
        stalled = best <= (len(ev) - 1) // 2 and values[-1] > 1.002 * values[best]
        if stalled and end < 0.85 * values[best]:
            return "overfitting", (f"eval loss stopped improving at step {ev[best][0]} ({values[best]:.3g}, "
                                   f"now {values[-1]:.3g}) while train loss fell to {end:.3g}"), findings, []

    half = y[n // 2:]
    smooth = _rolling_median(y, max(9, n // 5) | 1)
    noise = float(np.std(half - smooth[n // 2:]))
    drop = max(start - end, 0.0)
    findings.update(noise=round(noise, 4), drop=round(drop, 4))
    if noise > 0.1 * max(end, 1e-9) and noise > 0.25 * max(drop, 1e-9):
        return "oscillating", f"swings of ±{noise:.3g} around {end:.3g}, next to a drop of only {drop:.3g}", findings, []
    if drop < 0.1 * start:
        share = 100 * drop / max(start, 1e-9)
        return "underfitting", f"the loss barely fell ({start:.3g} -> {end:.3g}, {share:.0f}%)", findings, []
    tail = smooth[-max(3, n // 5):]
    still_falling = tail[0] - tail[-1] > 0.05 * drop
    extra = ["the loss is still falling at the end: more steps may help"] if still_falling else []
    return "healthy", f"the loss fell from {start:.3g} to {end:.3g}", findings, extra


def diagnose_history(rows: Iterable[dict[str, Any]]) -> Diagnosis:
    """Diagnose metrics.jsonl rows: `loss` rows are the train curve, `eval_loss` rows the eval points."""
    steps, losses, evals, rates = [], [], [], []
    for row in rows:
        if "loss" in row:
            steps.append(row["step"])
            losses.append(row["loss"])
            rates.append(row.get("lr") or 0.0)
        elif "eval_loss" in row:
            evals.append((row["step"], row["eval_loss"]))
    return diagnose(losses, evals, steps, lr=max(rates, default=0.0) or None)


def read_metrics(run_dir: str) -> list[dict[str, Any]]:
    """The metrics.jsonl rows of a run directory (or the file itself)."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / "metrics.jsonl"
    if not path.exists():
        raise InputError(str(path), "no metrics.jsonl here; pass a run directory written by `datacraft train`")
    rows = []
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(orjson.loads(line))
        except orjson.JSONDecodeError:
            raise InputError(str(path), "invalid JSON", number) from None
    return rows
