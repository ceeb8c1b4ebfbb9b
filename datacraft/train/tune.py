"""Hyper-parameter search: optuna's TPE sampler over learning rate, LoRA rank/alpha and epochs.

Each trial is judged early (by default at 20% of its steps) and pruned by a median pruner when it is
worse than the trials before it at the same point; completed trials also record their final score,
so the report can say how well the early score predicted the final one (Spearman correlation).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from datacraft.errors import ConfigError
from datacraft.io.writers import JsonlWriter, atomic_write, check_not_input
from datacraft.train.config import LoraSettings, TrainConfig
from datacraft.train.deps import require_train


class TuneConfig(BaseModel):
    """The search space and how trials are judged."""

    model_config = ConfigDict(extra="forbid")

    trials: int = Field(20, ge=1)  # trials to run (pruned ones included)
    early: float = Field(0.2, gt=0, lt=1)  # share of a trial's steps after which it is judged
    objective: Literal["eval_loss", "score"] = "eval_loss"  # eval_loss is minimised, the task score maximised
    lr_min: float = Field(1e-5, gt=0)  # learning-rate range, sampled on a log scale
    lr_max: float = Field(1e-3, gt=0)
    ranks: list[int] = Field(default_factory=lambda: [4, 8, 16, 32, 64])  # LoRA r choices
    alpha_ratios: list[float] = Field(default_factory=lambda: [1.0, 2.0])  # alpha = ratio * r
    epochs_min: int = Field(1, ge=1)  # epoch range (integers)
    epochs_max: int = Field(5, ge=1)
    startup_trials: int = Field(3, ge=0)  # trials that always finish before pruning starts
    seed: int = 42  # sampler seed


def _ranks(values: Sequence[float]) -> np.ndarray:
    """Ranks with ties given their average rank."""
    x = np.asarray(values, dtype=float)
    ranks = np.empty(len(x))
    ranks[np.argsort(x, kind="stable")] = np.arange(len(x), dtype=float)
    _, group = np.unique(x, return_inverse=True)
    sums = np.bincount(group, weights=ranks)
    return sums[group] / np.bincount(group)[group]


def spearman(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Rank correlation; None with fewer than 3 pairs or a constant side.

    >>> spearman([1, 2, 3, 4], [10, 20, 30, 25])
    0.8
    """
    if len(a) < 3:
        return None
    ra, rb = _ranks(a), _ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return None
    return round(float(np.corrcoef(ra, rb)[0, 1]), 4)


def suggest(trial: Any, base: TrainConfig, tune: TuneConfig) -> TrainConfig:
    """The trial's training config: the base with sampled lr, LoRA shape and epochs."""
    update: dict[str, Any] = {
        "learning_rate": trial.suggest_float("learning_rate", tune.lr_min, tune.lr_max, log=True),
        "epochs": trial.suggest_int("epochs", tune.epochs_min, tune.epochs_max),
        "max_steps": None,
    }
    if base.lora is not None:
        r = trial.suggest_categorical("lora_r", tune.ranks)
        ratio = trial.suggest_categorical("alpha_ratio", tune.alpha_ratios)
        update["lora"] = LoraSettings(**{**base.lora.model_dump(), "r": r, "alpha": max(1, round(r * ratio))})
    return base.model_copy(update=update)


def _value(result: dict[str, Any], objective: str) -> float:
    value = result.get("eval_loss") if objective == "eval_loss" else result.get("score")
    if value is None:
        raise ConfigError("--objective score needs a task metric (--metric)")
    return float(value) if math.isfinite(value) else (math.inf if objective == "eval_loss" else -math.inf)


def tune_model(data: Sequence[str], output_dir: str, base: TrainConfig, tune: TuneConfig, *,
               eval_data: Sequence[str] = (), read_options: dict[str, Any] | None = None,
               on_trial: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run the search; write trials.jsonl and best.json; return the report."""
    require_train("optuna")
    import optuna

    from datacraft.train.run import load_split, train_once

    if tune.lr_min >= tune.lr_max or tune.epochs_min > tune.epochs_max:
        raise ConfigError("tune: lr_min must be below lr_max and epochs_min at most epochs_max")
    if tune.objective == "score" and not base.metric:
        raise ConfigError("--objective score needs a task metric (--metric exact_match, token_f1 or module:function)")
    out = Path(output_dir)
    check_not_input(str(out / "trials.jsonl"), [*data, *eval_data])
    train, eval_records = load_split(data, eval_data, base.val_size, base.seed, read_options)
    direction = "minimize" if tune.objective == "eval_loss" else "maximize"
    if tune.objective == "eval_loss":
        base = base.model_copy(update={"metric": None})  # no generation needed to judge by loss
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=tune.seed),
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=tune.startup_trials,
                                                                   n_warmup_steps=0))
    rows: list[dict[str, Any]] = []

    def objective(trial: Any) -> float:
        config = suggest(trial, base, tune)

        def judge(step: int, fraction: float, result: dict[str, Any]) -> None:
            early = _value(result, tune.objective)
            trial.set_user_attr("early", early)
            trial.set_user_attr("early_step", step)
            trial.report(early, 0)  # one checkpoint per trial, at the same share of training
            if trial.should_prune():
                raise optuna.TrialPruned()

        try:
            _, result, _ = train_once(train, eval_records, config, checkpoints=(tune.early,), on_checkpoint=judge)
        finally:
            row = {"trial": trial.number, "params": trial.params, "early": trial.user_attrs.get("early")}
            rows.append(row)
        final = _value(result.final, tune.objective) if result.final else (
            math.inf if direction == "minimize" else -math.inf)
        row.update(final=final, steps=result.steps, stopped=result.stopped)
        return final

    def record_state(study: Any, trial: Any) -> None:
        rows[-1]["state"] = trial.state.name.lower()
        if on_trial is not None:
            on_trial(rows[-1])

    study.optimize(objective, n_trials=tune.trials, callbacks=[record_state], catch=())
    complete = [r for r in rows if r.get("state") == "complete" and r.get("early") is not None]
    best = study.best_trial if complete else None
    report = {
        "objective": tune.objective, "direction": direction, "trials": len(rows),
        "completed": sum(r.get("state") == "complete" for r in rows),
        "pruned": sum(r.get("state") == "pruned" for r in rows),
        "best": {"trial": best.number, "value": best.value, "params": best.params} if best else None,
        "early_final_spearman": spearman([r["early"] for r in complete], [r["final"] for r in complete]),
        "early_fraction": tune.early,
    }
    with JsonlWriter(out / "trials.jsonl") as writer:
        for row in rows:
            writer.write(row)
    with atomic_write(out / "best.json", "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=2)
    return report
