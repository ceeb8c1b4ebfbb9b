"""Saturation curve: how the score grows with training-set size, and where it stops paying.

Every (size, seed) run trains the same base model on a nested, stratified subset (each seed has its
own order; a size's subset is the first `size` records of it, so larger subsets contain smaller ones
and every label keeps its share) and is scored on one fixed held-out set. By default each run trains
to convergence (early stopping on the eval set, up to a max-epoch cap) and keeps its best weights,
so a larger subset is not penalised by a budget sized for a smaller one. Finished runs go to
runs.jsonl as they end, so a rerun skips them; the untrained model's score is the curve's floor.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
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
from datacraft.train.saturation_report import format_report, summarize

__all__ = ["SaturationConfig", "format_report", "nested_order", "run_saturation", "summarize"]


class SaturationConfig(BaseModel):
    """Which sizes to train, how long, and what to report."""

    model_config = ConfigDict(extra="forbid")

    sizes: list[int] = Field(default_factory=lambda: [50, 100, 200, 400, 800, 1600])  # training records per run
    seeds: int = Field(3, ge=1)  # runs per size, each on its own subset order
    # converge: every size trains until eval stops improving (the curve then measures data, not
    # the budget); steps / epochs: the same fixed budget for every size (large subsets undertrain).
    budget: Literal["converge", "steps", "epochs"] = "converge"
    patience: int = Field(5, ge=1)  # converge: evals without improvement before a run stops
    max_epochs: float = Field(40.0, gt=0)  # converge: cap; a run that hits it is reported as not converged
    evals_per_epoch: int = Field(1, ge=1)  # converge: eval points per pass over the subset
    stop_on: Literal["eval_loss", "score"] = "eval_loss"  # converge: what must stop improving
    steps: int = Field(200, ge=1)  # optimizer steps per run (budget=steps)
    epochs: float = Field(3.0, gt=0)  # passes per run (budget=epochs)
    label: str | None = "meta.task_type"  # dotted key to stratify by and report per value; None: off
    threshold: float = Field(0.01, gt=0)  # fitted gain per doubling below which returns are diminishing
    fraction: float = Field(0.95, gt=0, lt=1)  # report the size covering this share of the floor-to-plateau gain
    bootstrap: int = Field(400, ge=10)  # resamples over seeds for the intervals
    level: float = Field(0.9, gt=0, lt=1)  # interval coverage
    too_wide: float = Field(3.0, gt=1)  # an interval whose ends differ by more than this factor says nothing


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
    blob = json.dumps([train.model_dump(), sat.budget, sat.steps, sat.epochs, sat.label, sat.patience,
                       sat.max_epochs, sat.evals_per_epoch, sat.stop_on, len(data), len(eval_data)],
                      sort_keys=True, default=str)
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
BASELINE = (0, -1)  # journal key of the untrained model's score


def run_saturation(pool: Sequence[Record], eval_records: Sequence[Record], output_dir: str, train: TrainConfig,
                   sat: SaturationConfig, run_one: RunFn, *, on_run: Callable[[dict[str, Any]], None] | None = None,
                   baseline: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Train every (size, seed) not yet done, then fit and report.

    `run_one(records, seed)` trains and scores one run; `baseline()` scores the untrained model
    (the curve's floor; 0 when not given).
    """
    sizes = sorted(set(sat.sizes))
    if sizes[-1] > len(pool):
        raise ConfigError(f"--sizes {sizes[-1]} is more than the {len(pool)} training records")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    journal = out / "runs.jsonl"
    key = fingerprint(train, sat, pool, eval_records)
    done = read_runs(journal, key)
    reused = 0
    if baseline is not None and BASELINE not in done:
        run = {"size": 0, "seed": -1, "fingerprint": key, **baseline()}
        append_run(journal, run)
        done[BASELINE] = run
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
    runs = [done[(s, k)] for k in range(sat.seeds) for s in sizes]
    report = summarize(runs, sat, train.metric or "score", baseline=done.get(BASELINE))
    report["reused_runs"] = reused
    with atomic_write(out / "report.json", "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=2)
    from datacraft.train.plot import plot_saturation

    report["plot"] = plot_saturation(report, str(out / "saturation.png"))
    return report
