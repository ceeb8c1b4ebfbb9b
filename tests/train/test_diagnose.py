"""Curve diagnostics on synthetic curves of every shape, and on real curves from tiny runs."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.errors import InputError
from datacraft.train.diagnose import ADVICE, diagnose, diagnose_history, read_metrics


def synthetic(shape: str, seed: int):
    """(train losses, eval points) with the given shape and seeded noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, 201)
    healthy = 3 * np.exp(-t / 40) + 0.6 + rng.normal(0, 0.03, 200)
    if shape == "healthy":
        return healthy, []
    if shape == "underfitting":
        return 2.5 - 0.1 * t / 200 + rng.normal(0, 0.02, 200), []
    if shape == "oscillating":
        return 1.5 + 0.6 * np.sin(t * 1.3) + 0.3 * np.exp(-t / 100) + rng.normal(0, 0.2, 200), []
    if shape == "spiking":
        spiky = healthy.copy()
        spiky[[60, 120, 170]] *= 2.5
        return spiky, []
    if shape == "overfitting":
        train = 3 * np.exp(-t / 30) + 0.02 + rng.normal(0, 0.01, 200)
        evals = [(s, 1.2 + 2 * np.exp(-s / 30) + 0.004 * max(0, s - 60)) for s in range(20, 201, 20)]
        return train, evals
    if shape == "diverging":
        rising = healthy.copy()
        rising[150:] = np.linspace(1, 40, 50)
        return rising, []
    nan = healthy.copy()
    nan[150] = np.nan
    return nan, []


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", ["healthy", "underfitting", "oscillating", "spiking", "overfitting", "diverging", "nan"])
def test_synthetic_curves_are_classified(shape, seed):
    losses, evals = synthetic(shape, seed)
    result = diagnose(list(losses), evals)
    assert result.label == ("diverging" if shape == "nan" else shape), result.summary
    assert result.advice[: len(ADVICE[result.label])] == ADVICE[result.label]


def test_evidence_is_specific():
    assert diagnose(*synthetic("spiking", 0)).summary == "3 sudden jump(s), at step 61, 121, 171"
    assert diagnose(*synthetic("nan", 0)).summary == "the loss became NaN/inf at step 151"
    over = diagnose(*synthetic("overfitting", 0))
    assert over.findings["eval_best_step"] == 80 and over.summary.startswith("eval loss rose from ")
    assert diagnose([1.0, 0.9, 0.8]).label == "too_short"
    slow = diagnose(*synthetic("underfitting", 0), lr=2e-4)
    assert slow.advice[0] == "raise the learning rate (LoRA usually wants 1e-4 to 3e-4): the peak was 0.0002, try 2-5x that"


def test_rows_from_metrics_jsonl(tmp_path):
    losses, evals = synthetic("overfitting", 1)
    rows = [{"step": i + 1, "loss": float(v)} for i, v in enumerate(losses)]
    rows += [{"step": s, "eval_loss": float(v)} for s, v in evals]
    rows.append({"step": 200, "score": 0.5, "metric": "token_f1"})
    (tmp_path / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert diagnose_history(read_metrics(str(tmp_path))).label == "overfitting"
    result = CliRunner().invoke(cli, ["diagnose", str(tmp_path)])
    assert result.exit_code == 0
    assert result.output.startswith("diagnosis: overfitting: eval loss rose from ")
    assert "  - train fewer epochs: stop near the step where eval loss was lowest\n" in result.output
    as_json = json.loads(CliRunner().invoke(cli, ["diagnose", str(tmp_path / "metrics.jsonl"), "--json"]).output)
    assert as_json["diagnosis"]["label"] == "overfitting" and as_json["guidance"] is None


def test_missing_or_broken_metrics(tmp_path):
    result = CliRunner().invoke(cli, ["diagnose", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output == (f"Error: {tmp_path / 'metrics.jsonl'}: no metrics.jsonl here; pass a run directory "
                             "written by `datacraft train`, a Hugging Face trainer_state.json or LLaMA-Factory's "
                             "trainer_log.jsonl\n")
    (tmp_path / "metrics.jsonl").write_text('{"step": 1, "loss": 2}\n{oops\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"metrics.jsonl:2: invalid JSON"):
        read_metrics(str(tmp_path))


REAL_RUNS = {
    # name: (records, eval records, training settings) on the tiny model
    "healthy": (lambda pool, ev: (pool[:128], ev), {"learning_rate": 3e-3, "lora": None}),
    "underfitting": (lambda pool, ev: (pool[:128], ev), {"learning_rate": 1e-6}),
    # Three keys memorised, evaluated on the others: confidently wrong answers make eval loss climb.
    "overfitting": (lambda pool, ev: ([r for r in pool if r["input"] in ("k0", "k1", "k2")][:6],
                                      [r for r in ev if r["input"] not in ("k0", "k1", "k2")]),
                    {"learning_rate": 1e-2, "lora": None, "eval_every": 6}),
    "diverging": (lambda pool, ev: (pool[:128], ev), {"learning_rate": 5.0, "lora": None, "max_grad_norm": None}),
}


@pytest.mark.parametrize("expected", list(REAL_RUNS))
def test_real_curves_from_tiny_runs(expected, tiny_model, lookup):
    pytest.importorskip("torch")
    from datacraft.train.config import TrainConfig
    from datacraft.train.run import train_once

    pick, settings = REAL_RUNS[expected]
    train, evals = pick(*lookup)
    cfg = TrainConfig(model=tiny_model, batch_size=16, max_steps=48, metric=None, max_length=64, **settings)
    _, result, _ = train_once(train, evals, cfg)
    diagnosis = diagnose_history(result.history)
    assert diagnosis.label == expected, diagnosis.summary


def test_stalled_eval_with_train_far_below_is_memorising():
    """Eval flat since early on (creeping up a little) while train loss keeps falling: overfitting."""
    t = np.arange(1, 41)
    train = 7.7 - 2.6 * (1 - np.exp(-t / 12))
    stalled = [(0, 7.9), (4, 7.78), (8, 7.66), (12, 7.55), (16, 7.53), (20, 7.51), (24, 7.53),
               (28, 7.54), (32, 7.55), (36, 7.55), (40, 7.55)]
    found = diagnose(train, stalled)
    assert found.label == "overfitting"
    assert found.summary.startswith("eval loss stopped improving at step 20 (7.51, now 7.55)")
    improving = [(s, 7.9 - 0.06 * s) for s in range(0, 41, 4)]  # eval still falling: not overfitting
    assert diagnose(train, improving).label == "healthy"


def test_labelled_curves_false_alarm_and_miss_rates():
    """The labelled set (tests/train/labelled_curves.py): rates are reported in docs/benchmarks.md."""
    from tests.train.labelled_curves import labelled_set, rates

    results, wrong = [], []
    for name, want, losses, evals, kwargs in labelled_set():
        got = diagnose(losses, evals, **kwargs).label
        results.append((want, got))
        if got != want:
            wrong.append((name, want, got))
    summary = rates(results)
    assert summary["curves"] >= 30 and summary["healthy"] >= 15
    assert summary["false_alarm_rate"] <= 0.05, wrong
    assert summary["miss_rate"] == 0.0, wrong
    assert summary["label_accuracy"] >= 0.9, wrong


def test_normal_noisy_sft_curves_are_not_oscillating():
    """A fast drop then a plateau with 10-15% step noise is what SFT looks like: healthy."""
    from tests.train.labelled_curves import healthy

    labels = [diagnose(*healthy(seed)[:2]).label for seed in range(40)]
    assert labels.count("oscillating") == 0 and labels.count("healthy") >= 38


def test_rebound_collapse_and_low_loss_rules():
    from tests.train.labelled_curves import collapsed, rebound, too_low

    found = diagnose(*rebound(0)[:2])
    assert found.label == "rebound" and "climbed back" in found.summary
    losses, evals, kwargs = collapsed(0)
    assert diagnose(losses, evals, **kwargs).label == "collapsed"
    assert diagnose(losses, evals).label == "underfitting"  # without the vocabulary size, ln(V) is unknown
    low = diagnose(*too_low(0)[:2])
    assert low.label == "low_train_loss" and "no eval loss" in low.summary
    # the same low train loss with an eval loss that keeps up is an easy task, not a warning label
    losses = too_low(0)[0]
    fine = diagnose(losses, [(s, 0.06) for s in range(20, 201, 20)])
    assert fine.label == "healthy" and any("very low" in tip for tip in fine.advice)


def test_reads_hugging_face_trainer_state(tmp_path):
    # The shape transformers' TrainerState.save_to_json writes: log_history with train rows
    # (loss, learning_rate, grad_norm, epoch, step), eval rows (eval_loss, ...) and a final summary row.
    losses, evals = synthetic("overfitting", 2)
    history = [{"epoch": round(i / 50, 2), "grad_norm": 1.1, "learning_rate": 2e-4, "loss": float(v), "step": i + 1}
               for i, v in enumerate(losses)]
    history += [{"epoch": s / 50, "eval_loss": float(v), "eval_runtime": 1.5, "eval_samples_per_second": 10.0,
                 "step": s} for s, v in evals]
    history.append({"epoch": 4.0, "step": 200, "total_flos": 1.0, "train_loss": 0.9, "train_runtime": 120.0})
    state = {"best_metric": None, "epoch": 4.0, "global_step": 200, "log_history": history, "max_steps": 200,
             "logging_steps": 1, "trial_name": None}
    (tmp_path / "checkpoint-200").mkdir()
    (tmp_path / "checkpoint-200" / "trainer_state.json").write_text(json.dumps(state), encoding="utf-8")
    rows = read_metrics(str(tmp_path))  # found in the latest checkpoint folder
    assert sum("loss" in r for r in rows) == 200 and sum("eval_loss" in r for r in rows) == len(evals)
    result = CliRunner().invoke(cli, ["diagnose", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("diagnosis: overfitting:")
    (tmp_path / "trainer_state.json").write_text('{"log_history": [', encoding="utf-8")
    broken = CliRunner().invoke(cli, ["diagnose", str(tmp_path / "trainer_state.json")])
    assert broken.exit_code == 2 and broken.output.startswith(f"Error: {tmp_path / 'trainer_state.json'}: invalid JSON")


def test_reads_llamafactory_trainer_log(tmp_path):
    # LLaMA-Factory's LogCallback writes one row per log event: current_steps, total_steps, loss or
    # eval_loss, lr, epoch, percentage, elapsed_time, remaining_time (None values left out).
    losses, _ = synthetic("healthy", 3)
    rows = [{"current_steps": i + 1, "total_steps": 200, "loss": float(v), "lr": 1e-4, "epoch": (i + 1) / 100,
             "percentage": round((i + 1) / 2, 2), "elapsed_time": "0:00:10", "remaining_time": "0:01:00"}
            for i, v in enumerate(losses)]
    rows.insert(50, {"current_steps": 50, "total_steps": 200, "eval_loss": 1.1, "epoch": 0.5, "percentage": 25.0,
                     "elapsed_time": "0:00:05", "remaining_time": "0:00:15"})
    rows.append({"current_steps": 5, "total_steps": 20, "percentage": 25.0, "elapsed_time": "0:00:01",
                 "remaining_time": "0:00:03"})  # a prediction-progress row: no loss
    path = tmp_path / "trainer_log.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    assert diagnose_history(read_metrics(str(tmp_path))).label == "healthy"
    result = CliRunner().invoke(cli, ["diagnose", str(tmp_path)])
    assert result.exit_code == 0 and result.output.startswith("diagnosis: healthy:"), result.output
    path.write_text('{"current_steps": 1, "loss": 2.0}\n{"foo": 1}\n', encoding="utf-8")
    bad = CliRunner().invoke(cli, ["diagnose", str(path)])
    assert bad.exit_code == 2 and bad.output == f"Error: {path}:2: a row without step or current_steps: not a training log\n"


def test_reads_a_trainer_state_written_by_transformers_trainer(tiny_model, lookup, tmp_path):
    """Not a hand-made file: transformers.Trainer itself trains 8 steps and writes trainer_state.json."""
    pytest.importorskip("torch")
    from transformers import (
        AutoModelForCausalLM,
        DataCollatorForSeq2Seq,
        Trainer,
        TrainingArguments,
    )

    from datacraft.train.data import encode_records
    from datacraft.train.model import load_tokenizer

    tok = load_tokenizer(tiny_model)
    examples, _ = encode_records(lookup[0][:64], tok, max_length=64)
    rows = [{"input_ids": e.input_ids, "attention_mask": [1] * len(e.input_ids), "labels": e.labels} for e in examples]
    args = TrainingArguments(output_dir=str(tmp_path), max_steps=8, per_device_train_batch_size=8, logging_steps=1,
                             eval_strategy="steps", eval_steps=4, save_steps=8, report_to=[], use_cpu=True,
                             learning_rate=1e-3, disable_tqdm=True)
    trainer = Trainer(model=AutoModelForCausalLM.from_pretrained(tiny_model), args=args, train_dataset=rows,
                      eval_dataset=rows[:16], data_collator=DataCollatorForSeq2Seq(tok, padding="longest"))
    trainer.train()
    read = read_metrics(str(tmp_path))  # found in checkpoint-8/trainer_state.json
    assert [r["step"] for r in read if "loss" in r] == list(range(1, 9))
    assert [r["step"] for r in read if "eval_loss" in r] == [4, 8]
    logged = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert [r["loss"] for r in read if "loss" in r] == logged and all(r["lr"] is not None for r in read if "loss" in r)
    assert diagnose_history(read).label != "too_short"  # all 8 points arrived: enough to judge
