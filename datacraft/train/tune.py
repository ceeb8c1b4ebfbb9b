"""Hyper-parameter search: optuna's TPE sampler over learning rate, LoRA rank/alpha and epochs.

TPE models the search after `tpe_startup` random trials (optuna's own default is 10, which makes
a 10-trial search purely random). Each trial is judged early (by default at 20% of its steps) and
pruned by a median pruner when it is worse than the trials before it at the same point; a pruned
trial records the step and the time it stopped at. The study lives in RUN/study.db (SQLite), so
a rerun resumes it and `optuna-dashboard sqlite:///RUN/study.db` can open it. The report says how
well the early score predicted the final one (Spearman, with its n) over every trial that reached
the checkpoint and has a final score; `prune=False` lets every trial finish so that n is all of them.
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
    tpe_startup: int = Field(4, ge=1)  # random trials before TPE starts modelling (optuna's default: 10)
    prune: bool = True  # False: every trial finishes (slower; the early-vs-final correlation covers all)
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


STUDY = "datacraft-tune"


def startup_note(tune: TuneConfig) -> str | None:
    """A warning when the trial count leaves TPE too few modelled trials to be a Bayesian search."""
    modelled = tune.trials - tune.tpe_startup
    if modelled < tune.tpe_startup:
        return (f"{tune.trials} trials with {tune.tpe_startup} random start-up trials leaves {max(0, modelled)} "
                f"chosen by TPE: this is mostly a random search; use --trials {3 * tune.tpe_startup} or more")
    return None


def _open_study(out: Path, direction: str, tune: TuneConfig, key: str) -> Any:
    import optuna

    out.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{(out / 'study.db').resolve()}"
    sampler = optuna.samplers.TPESampler(seed=tune.seed, n_startup_trials=tune.tpe_startup)
    pruner = (optuna.pruners.MedianPruner(n_startup_trials=tune.startup_trials, n_warmup_steps=0) if tune.prune
              else optuna.pruners.NopPruner())
    study = optuna.create_study(study_name=STUDY, storage=storage, direction=direction, sampler=sampler,
                                pruner=pruner, load_if_exists=True)
    found = study.user_attrs.get("fingerprint")
    if found is None:
        study.set_user_attr("fingerprint", key)
    elif found != key:
        raise ConfigError(f"{out / 'study.db'} holds a search with other data or settings; "
                          "pass a new --output-dir (or delete study.db) to start another")
    return study


def _fingerprint(base: TrainConfig, tune: TuneConfig, n_train: int, n_eval: int) -> str:
    import hashlib

    space = tune.model_dump(exclude={"trials", "prune", "startup_trials"})
    blob = json.dumps([base.model_dump(), space, n_train, n_eval], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _row(trial: Any) -> dict[str, Any]:
    attrs = trial.user_attrs
    row: dict[str, Any] = {"trial": trial.number, "state": trial.state.name.lower(), "params": trial.params,
                           "early": attrs.get("early"), "early_step": attrs.get("early_step")}
    for key in ("final", "steps", "stopped", "stopped_at_step", "seconds"):
        if key in attrs:
            row[key] = attrs[key]
    return row


def tune_model(data: Sequence[str], output_dir: str, base: TrainConfig, tune: TuneConfig, *,
               eval_data: Sequence[str] = (), read_options: dict[str, Any] | None = None,
               on_trial: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run (or resume) the search up to `tune.trials` trials; write study.db, trials.jsonl and best.json."""
    require_train("optuna")
    import time

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
    study = _open_study(out, direction, tune, _fingerprint(base, tune, len(train), len(eval_records)))
    finished = [t for t in study.trials if t.state.is_finished()]
    for stale in (t for t in study.trials if not t.state.is_finished()):
        study.tell(stale.number, state=optuna.trial.TrialState.FAIL)  # killed mid-trial: do not wait for it
    resumed = len(finished)

    def objective(trial: Any) -> float:
        config = suggest(trial, base, tune)
        started = time.perf_counter()

        def judge(step: int, fraction: float, result: dict[str, Any]) -> None:
            early = _value(result, tune.objective)
            trial.set_user_attr("early", early)
            trial.set_user_attr("early_step", step)
            trial.report(early, 0)  # one checkpoint per trial, at the same share of training (not step)
            if trial.should_prune():
                trial.set_user_attr("stopped_at_step", step)
                trial.set_user_attr("seconds", round(time.perf_counter() - started, 2))
                raise optuna.TrialPruned()

        _, result, _ = train_once(train, eval_records, config, checkpoints=(tune.early,), on_checkpoint=judge)
        final = _value(result.final, tune.objective) if result.final else (
            math.inf if direction == "minimize" else -math.inf)
        for key, value in (("final", final), ("steps", result.steps), ("stopped", result.stopped),
                           ("seconds", round(time.perf_counter() - started, 2))):
            trial.set_user_attr(key, value)
        return final

    def record_state(study: Any, trial: Any) -> None:
        if on_trial is not None:
            on_trial(_row(trial))

    remaining = max(0, tune.trials - resumed)
    if remaining:
        study.optimize(objective, n_trials=remaining, callbacks=[record_state], catch=())
    rows = [_row(t) for t in study.trials if t.state.name in ("COMPLETE", "PRUNED")]
    reached = [r for r in rows if r.get("early") is not None]
    paired = [r for r in reached if r.get("final") is not None and math.isfinite(r["final"])]
    complete = [r for r in rows if r["state"] == "complete"]
    best = study.best_trial if complete else None
    report = {
        "objective": tune.objective, "direction": direction, "trials": len(rows), "resumed_trials": resumed,
        "completed": len(complete), "pruned": sum(r["state"] == "pruned" for r in rows),
        "best": {"trial": best.number, "value": best.value, "params": best.params} if best else None,
        "early_final_spearman": spearman([r["early"] for r in paired], [r["final"] for r in paired]),
        "early_final_n": len(paired), "reached_checkpoint": len(reached),
        "early_fraction": tune.early, "tpe_startup": tune.tpe_startup, "note": startup_note(tune),
        "study": str(out / "study.db"),
    }
    with JsonlWriter(out / "trials.jsonl") as writer:
        for row in rows:
            writer.write(row)
    with atomic_write(out / "best.json", "w", encoding="utf-8") as handle:
        json.dump(report, handle, ensure_ascii=False, indent=2)
    return report
