"""Loss-curve diagnostics: name the curve's shape and say what a practitioner would change.

Every rule is judged on a smoothed curve (a rolling median, robust to single spikes), and its
thresholds are scaled by the curve's own step-to-step noise (a robust MAD estimate), so the normal
10-15% jitter of SFT losses is not mistaken for a problem. Labels, checked in this order (the first
that fits wins):
- diverging: NaN/inf, or the loss ends well above where it started;
- collapsed: the loss sits at ln(vocab) (uniform predictions), or the answers are one repeated token;
- rebound: the smoothed loss climbs back well above its minimum, beyond the noise;
- spiking: a few isolated jumps far above the local trend;
- overfitting: eval loss rises from its minimum while the train loss keeps falling below it;
- low_train_loss: the train loss ends below `low_loss` (0.2) with no eval loss that keeps up:
  memorising rather than learning;
- oscillating: noise that is large both next to the loss and next to the progress made;
- underfitting: the loss barely falls;
- healthy: none of the above;
and too_short when there are fewer than 8 loss points to judge.

Reads datacraft's metrics.jsonl, a Hugging Face Trainer `trainer_state.json` (its `log_history`)
and LLaMA-Factory's `trainer_log.jsonl`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
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
    "collapsed": ["lower the learning rate: the model has stopped using its input",
                  "check that answers are not empty or all alike (datacraft stats, datacraft dedupe)",
                  "check the labels are not all masked and the chat template renders the answer"],
    "rebound": ["lower the learning rate or decay it faster (cosine/linear schedule)",
                "keep the checkpoint near the minimum (--load-best with --eval-every)",
                "check the later batches: a block of bad or duplicated records can undo the progress"],
    "low_train_loss": ["hold out an eval set (--eval or --val-size) to see whether it generalises",
                       "train fewer epochs, or add more varied data: a loss near 0.1 usually means memorising",
                       "raise LoRA dropout or lower the rank"],
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


LOW_LOSS = 0.2  # train loss below this, without an eval loss to match, is a warning sign


def diagnose(train_loss: Sequence[float], eval_loss: Sequence[tuple[int, float]] = (),
             steps: Sequence[int] | None = None, lr: float | None = None, *, vocab_size: int | None = None,
             predictions: Sequence[str] = (), low_loss: float = LOW_LOSS) -> Diagnosis:
    """Classify a training-loss curve (one value per step), with eval points as (step, loss) and the peak lr.

    `vocab_size` enables the ln(vocab) collapse check; `predictions` (generated answers) the
    repeated-token one.
    """
    found = _classify(train_loss, eval_loss, steps, vocab_size, predictions, low_loss)
    return _make(*found[:3], extra=found[3], lr=lr)


def repeated_token(text: str) -> bool:
    """An answer that is one token (or one character) over and over.

    >>> repeated_token("the the the the"), repeated_token("aaaaaa"), repeated_token("red shirt")
    (True, True, False)
    """
    words = text.split()
    if len(words) >= 3 and len(set(words)) == 1:
        return True
    chars = text.replace(" ", "")
    return len(chars) >= 4 and len(set(chars)) == 1


def _noise(y: np.ndarray, smooth: np.ndarray) -> float:
    """Robust step noise: 1.4826 x the median absolute residual from the smoothed curve (second half)."""
    half = len(y) // 2
    residual = y[half:] - smooth[half:]
    return 1.4826 * float(np.median(np.abs(residual - np.median(residual))))


def _classify(train_loss: Sequence[float], eval_loss: Sequence[tuple[int, float]], steps: Sequence[int] | None,
              vocab_size: int | None = None, predictions: Sequence[str] = (), low_loss: float = LOW_LOSS
              ) -> tuple[str, str, dict[str, Any], list[str]]:
    y = np.asarray([math.nan if v is None else float(v) for v in train_loss], dtype=float)
    x = np.asarray(steps if steps is not None else range(1, len(y) + 1), dtype=float)
    bad = np.flatnonzero(~np.isfinite(y))
    if len(bad):
        return "diverging", f"the loss became NaN/inf at step {int(x[bad[0]])}", {"first_bad_step": int(x[bad[0]])}, []
    n = len(y)
    if n < 8:
        return "too_short", f"only {n} loss points", {"points": n}, []
    edge = max(2, n // 10)
    smooth = _rolling_median(y, max(5, n // 10) | 1)
    start, end = float(np.median(y[:edge])), float(np.median(smooth[-edge:]))
    lowest_at = int(smooth.argmin())
    lowest = float(smooth[lowest_at])
    sigma = _noise(y, smooth)
    drop = max(start - end, 0.0)
    findings: dict[str, Any] = {"start": round(start, 4), "end": round(end, 4), "lowest": round(lowest, 4),
                                "noise": round(sigma, 4), "drop": round(drop, 4)}
    repeated = [p for p in predictions if repeated_token(p)]
    if len(predictions) >= 5 and len(repeated) >= 0.8 * len(predictions):
        findings["repeated_answers"] = len(repeated)
        return "collapsed", (f"{len(repeated)} of {len(predictions)} answers are one repeated token "
                             f"(e.g. {repeated[0][:40]!r})"), findings, []
    if vocab_size and vocab_size > 1:
        uniform = math.log(vocab_size)
        findings["ln_vocab"] = round(uniform, 4)
        if abs(end - uniform) < 0.05 * uniform and drop < 0.1 * start:
            return "collapsed", (f"the loss sits at {end:.3g}, ln(vocab {vocab_size}) = {uniform:.3g}: the model "
                                 "predicts a uniform distribution and has learned nothing"), findings, []
    initial = min(float(y[0]), start)  # the median of the first points may already have blown up
    if end > 1.3 * initial or (end > 1.1 * initial and end > 3 * lowest):
        return "diverging", f"the loss rose from {initial:.3g} to {end:.3g}", findings, []
    rise = end - lowest
    if lowest_at < n - edge and end > 1.5 * lowest and rise > 4 * sigma and rise > 0.25 * (start - lowest):
        return "rebound", (f"the loss fell to {lowest:.3g} (step {int(x[lowest_at])}) and climbed back to {end:.3g} "
                           f"({end / max(lowest, 1e-12):.1f}x its minimum)"), findings, []

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
    extra: list[str] = []
    if end < low_loss:
        eval_end = float(ev[-1][1]) if ev else None
        if eval_end is None or eval_end > 2 * end + 0.1:
            against = f", eval loss {eval_end:.3g}" if eval_end is not None else ", and no eval loss to check it against"
            return "low_train_loss", f"the train loss fell to {end:.3g}{against}", findings, []
        extra.append(f"the train loss is very low ({end:.3g}), but the eval loss keeps up ({eval_end:.3g})")

    if sigma > 0.2 * max(end, 1e-9) and sigma > 0.5 * max(drop, 1e-9):
        return "oscillating", f"swings of ±{sigma:.3g} around {end:.3g}, next to a drop of only {drop:.3g}", findings, []
    if drop < 0.1 * start:
        share = 100 * drop / max(start, 1e-9)
        return "underfitting", f"the loss barely fell ({start:.3g} -> {end:.3g}, {share:.0f}%)", findings, []
    tail = smooth[-max(3, n // 5):]
    if tail[0] - tail[-1] > max(0.05 * drop, 2 * sigma):
        extra.append("the loss is still falling at the end: more steps may help")
    return "healthy", f"the loss fell from {start:.3g} to {end:.3g}", findings, extra


def diagnose_history(rows: Iterable[dict[str, Any]], *, vocab_size: int | None = None,
                     predictions: Sequence[str] = ()) -> Diagnosis:
    """Diagnose metrics rows: `loss` rows are the train curve, `eval_loss` rows the eval points."""
    steps, losses, evals, rates = [], [], [], []
    for row in rows:
        if "loss" in row:
            steps.append(row["step"])
            losses.append(row["loss"])
            rates.append(row.get("lr") or 0.0)
        elif "eval_loss" in row:
            evals.append((row["step"], row["eval_loss"]))
    return diagnose(losses, evals, steps, lr=max(rates, default=0.0) or None, vocab_size=vocab_size,
                    predictions=predictions)


LOG_FILES = ("metrics.jsonl", "trainer_state.json", "trainer_log.jsonl")


def find_log(run_dir: str) -> Path:
    """The loss log of a run directory: datacraft's, a HF Trainer's (or its latest checkpoint's), LLaMA-Factory's."""
    path = Path(run_dir)
    if not path.is_dir():
        return path
    for name in LOG_FILES:
        if (path / name).exists():
            return path / name
    states = sorted(path.glob("checkpoint-*/trainer_state.json"), key=lambda p: int(p.parent.name.split("-")[-1])
                    if p.parent.name.split("-")[-1].isdigit() else -1)
    if states:
        return states[-1]
    raise InputError(str(path / "metrics.jsonl"), "no metrics.jsonl here; pass a run directory written by "
                     "`datacraft train`, a Hugging Face trainer_state.json or LLaMA-Factory's trainer_log.jsonl")


def _hf_rows(path: Path) -> list[dict[str, Any]]:
    try:
        state = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise InputError(str(path), f"invalid JSON ({exc})") from None
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list):
        raise InputError(str(path), "no log_history list: not a Hugging Face trainer_state.json")
    rows = []
    for entry in history:
        if not isinstance(entry, dict) or "step" not in entry:
            continue
        if "loss" in entry:  # "train_loss" is the end-of-run average, not a curve point
            rows.append({"step": entry["step"], "loss": entry["loss"], "lr": entry.get("learning_rate"),
                         "grad_norm": entry.get("grad_norm")})
        elif "eval_loss" in entry:
            rows.append({"step": entry["step"], "eval_loss": entry["eval_loss"]})
    return rows


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(path.read_bytes().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise InputError(str(path), "invalid JSON", number) from None
        if not isinstance(row, dict):
            raise InputError(str(path), "expected a JSON object", number)
        yield number, row


def _llamafactory_row(row: dict[str, Any]) -> dict[str, Any] | None:
    step = row.get("current_steps")
    if step is None:
        return None
    if row.get("loss") is not None:
        return {"step": step, "loss": row["loss"], "lr": row.get("lr")}
    if row.get("eval_loss") is not None:
        return {"step": step, "eval_loss": row["eval_loss"]}
    return None  # progress-only rows (prediction steps) carry no loss


def read_metrics(run_dir: str) -> list[dict[str, Any]]:
    """Metrics rows in datacraft's shape from a run directory or log file (any of the three formats)."""
    path = find_log(run_dir)
    if not path.exists():
        raise InputError(str(path), "no such file")
    if path.suffix == ".json":
        return _hf_rows(path)
    rows = []
    for number, row in _jsonl(path):
        if "current_steps" in row:
            converted = _llamafactory_row(row)
            if converted is not None:
                rows.append(converted)
        elif "step" in row:
            rows.append(row)
        else:
            raise InputError(str(path), "a row without step or current_steps: not a training log", number)
    if not any("loss" in r for r in rows):
        raise InputError(str(path), "no training-loss rows in this log")
    return rows
