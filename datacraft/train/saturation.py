"""Saturation curve: how the score grows with training-set size, and where it stops paying.

Every (size, seed) run trains the same base model on a nested, stratified subset (each seed has its
own order; a size's subset is the first `size` records of it, so larger subsets contain smaller ones
and every label keeps its share), with a fixed step budget or fixed epochs, and is scored on one
fixed held-out set. Finished runs go to runs.jsonl as they end, so a rerun skips them.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from datacraft.errors import ConfigError
from datacraft.io.writers import atomic_write
from datacraft.records import Record
from datacraft.train.config import TrainConfig
from datacraft.train.data import label_of
from datacraft.train.fit import best_fit, diminishing_returns, size_at_fraction
from datacraft.train.metrics import BUILTIN


class SaturationConfig(BaseModel):
    """Which sizes to train, how long, and what to report."""

    model_config = ConfigDict(extra="forbid")

    sizes: list[int] = Field(default_factory=lambda: [50, 100, 200, 400, 800, 1600])  # training records per run
    seeds: int = Field(3, ge=1)  # runs per size, each on its own subset order
    budget: Literal["steps", "epochs"] = "steps"  # same optimizer steps for every size, or same passes
    steps: int = Field(200, ge=1)  # optimizer steps per run (budget=steps)
    epochs: float = Field(3.0, gt=0)  # passes per run (budget=epochs)
    label: str | None = "meta.task_type"  # dotted key to stratify by and report per value; None: off
    threshold: float = Field(0.01, gt=0)  # fitted gain per doubling below which returns are diminishing
    fraction: float = Field(0.95, gt=0, lt=1)  # report the size whose fitted score reaches this share of the plateau


def nested_order(records: Sequence[Record], label_key: str | None, seed: int) -> list[int]:
    """An order of record indices whose every prefix keeps each label's share (stratified, nested).

    Each label's records are shuffled and spread evenly over [0, 1); sorting by that position
    interleaves the labels in proportion.
    """
    rng = random.Random(seed)
    groups: dict[str | None, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        groups[label_of(record, label_key)].append(i)
    keyed = []
    for members in groups.values():
        rng.shuffle(members)
        offset = rng.random()
        keyed += [((k + offset) / len(members), rng.random(), i) for k, i in enumerate(members)]
    return [i for *_, i in sorted(keyed)]


def fingerprint(train: TrainConfig, sat: SaturationConfig, data: Sequence[Record], eval_data: Sequence[Record]) -> str:
    """Identifies runs that can be reused: same model, training settings, budget and data."""
    blob = json.dumps([train.model_dump(), sat.budget, sat.steps, sat.epochs, sat.label,
                       len(data), len(eval_data)], sort_keys=True, default=str)
    digest = hashlib.sha256(blob.encode())
    for record in (*data, *eval_data):
        digest.update(orjson.dumps(record, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()[:16]


def read_runs(path: Path, key: str) -> dict[tuple[int, int], dict[str, Any]]:
    """Finished runs with this fingerprint; a torn last line (killed mid-write) is ignored."""
    done: dict[tuple[int, int], dict[str, Any]] = {}
    if path.exists():
        for line in path.read_bytes().splitlines():
            try:
                run = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if run.get("fingerprint") == key:
                done[(run["size"], run["seed"])] = run
    return done


def append_run(path: Path, run: dict[str, Any]) -> None:
    """Add one finished run to the journal, flushed to disk."""
    with open(path, "ab") as handle:
        handle.write(orjson.dumps(run) + b"\n")
        handle.flush()
        os.fsync(handle.fileno())


RunFn = Callable[[list[Record], int], dict[str, Any]]


def run_saturation(pool: Sequence[Record], eval_records: Sequence[Record], output_dir: str, train: TrainConfig,
                   sat: SaturationConfig, run_one: RunFn, *, on_run: Callable[[dict[str, Any]], None] | None = None
                   ) -> dict[str, Any]:
    """Train every (size, seed) not yet done, then fit and report; `run_one(records, seed)` trains and scores."""
    sizes = sorted(set(sat.sizes))
    if sizes[-1] > len(pool):
        raise ConfigError(f"--sizes {sizes[-1]} is more than the {len(pool)} training records")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    journal = out / "runs.jsonl"
    key = fingerprint(train, sat, pool, eval_records)
    done = read_runs(journal, key)
    reused = 0
    for seed in range(sat.seeds):
        order = nested_order(pool, sat.label, seed)
        for size in sizes:
            if (size, seed) in done:
                reused += 1
                continue
            result = run_one([pool[i] for i in order[:size]], seed)
            run = {"size": size, "seed": seed, "fingerprint": key, **result}
            append_run(journal, run)
            done[(size, seed)] = run
            if on_run is not None:
                on_run(run)
    report = summarize([done[(s, k)] for k in range(sat.seeds) for s in sizes], sat, train.metric or "score")
    report["reused_runs"] = reused
    with atomic_write(out / "report.json", "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=2)
    from datacraft.train.plot import plot_saturation

    report["plot"] = plot_saturation(report, str(out / "saturation.png"))
    return report


def _curve(points: dict[int, list[float]], sat: SaturationConfig, upper: float | None) -> dict[str, Any]:
    sizes = sorted(points)
    means = [statistics.fmean(points[s]) for s in sizes]
    out: dict[str, Any] = {"sizes": {str(s): round(m, 4) for s, m in zip(sizes, means, strict=True)}}
    if len(sizes) >= 3:
        fit, fits = best_fit(sizes, means, upper=upper)
        out.update(fit=fit.to_dict(), fits={k: f.to_dict() for k, f in fits.items()}, rising=fit.b > 0)
        if fit.b > 0:  # a falling or flat fit has no plateau to approach
            out.update(diminishing_returns=diminishing_returns(fit, sizes, sat.threshold),
                       size_at_fraction=size_at_fraction(fit, sizes, sat.fraction))
    return out


def summarize(runs: Sequence[dict[str, Any]], sat: SaturationConfig, metric: str) -> dict[str, Any]:
    """Score per size with spread over seeds, fitted curves, key sizes, and per-label curves."""
    by_size: dict[int, list[float]] = defaultdict(list)
    by_label: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        by_size[run["size"]].append(run["score"])
        for label, value in (run.get("by_label") or {}).items():
            by_label[label][run["size"]].append(value)
    rows = [{"size": s, "mean": round(statistics.fmean(v), 4), "std": round(statistics.pstdev(v), 4),
             "min": round(min(v), 4), "max": round(max(v), 4), "seeds": len(v)} for s, v in sorted(by_size.items())]
    upper = 1.0 if metric in BUILTIN else None  # exact match and F1 cannot plateau above 1
    overall = _curve(by_size, sat, upper)
    largest = rows[-1]["size"] if rows else 0
    report: dict[str, Any] = {"metric": metric, "sizes": rows, "threshold": sat.threshold, "fraction": sat.fraction,
                              "fit": overall.get("fit"), "fits": overall.get("fits"), "rising": overall.get("rising"),
                              "diminishing_returns": overall.get("diminishing_returns"),
                              "size_at_fraction": overall.get("size_at_fraction"), "largest_size": largest,
                              "by_label": {label: _curve(points, sat, upper) for label, points in sorted(by_label.items())}}
    for key in ("diminishing_returns", "size_at_fraction"):
        report[f"{key}_extrapolated"] = bool(report[key] and report[key] > largest)
    return report


def format_report(report: dict[str, Any]) -> str:
    """The report as terminal text."""
    lines = [f"{'size':>8}  {report['metric']:>12}  {'± std':>7}  {'min':>6}  {'max':>6}  seeds"]
    for r in report["sizes"]:
        lines.append(f"{r['size']:>8}  {r['mean']:>12.4f}  {r['std']:>7.4f}  {r['min']:>6.3f}  {r['max']:>6.3f}  {r['seeds']}")
    fit = report.get("fit")
    if fit and not report.get("rising"):
        lines.append(f"the fitted score does not rise with size ({fit['kind']} fit): with a fixed step budget "
                     "large subsets may be undertrained; raise --steps, or use --epochs")
    elif fit:
        lines.append(f"fit: {fit['kind']}, plateau {fit['plateau']:.4f}")
        for key, text in (("diminishing_returns", f"gain per doubling < {report['threshold']:g} from"),
                          ("size_at_fraction", f"{report['fraction']:.0%} of the plateau at")):
            value = report.get(key)
            note = " (extrapolated beyond the largest size)" if report.get(f"{key}_extrapolated") else ""
            lines.append(f"{text} ~{value:,.0f} records{note}" if value else f"{text}: not reached within 64x the largest size")
    for label, curve in report.get("by_label", {}).items():
        points = ", ".join(f"{s}: {v:.3f}" for s, v in curve["sizes"].items())
        at = curve.get("size_at_fraction")
        lines.append(f"  {label}: {points}" + (f"  ({report['fraction']:.0%} of its plateau at ~{at:,.0f})" if at else ""))
    return "\n".join(lines)
