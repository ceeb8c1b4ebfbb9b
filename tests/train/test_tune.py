import json

import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.train.tune import spearman

pytest.importorskip("torch")
pytest.importorskip("optuna")


def test_spearman():
    assert spearman([1, 2, 3], [3, 2, 1]) == -1.0
    assert spearman([1, 2, 3, 4], [10, 20, 30, 25]) == 0.8
    assert spearman([1, 2], [1, 2]) is None and spearman([1, 1, 1], [1, 2, 3]) is None


def test_tune_runs_trials_prunes_and_reports(tiny_model, lookup, tmp_path):
    from tests.train.conftest import write_jsonl

    pool, evals = lookup
    train = write_jsonl(tmp_path / "train.jsonl", pool[:64])
    ev = write_jsonl(tmp_path / "eval.jsonl", evals)
    out = tmp_path / "tune"
    args = ["tune", "--data", train, "--eval", ev, "--model", tiny_model, "-o", str(out), "--trials", "8",
            "--startup-trials", "2", "--lr-range", "1e-5,5e-2", "--ranks", "4,8", "--epochs-range", "1,3",
            "--batch-size", "16", "--max-length", "64", "--seed", "3"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "trials.jsonl").read_text(encoding="utf-8").splitlines()]
    states = [r["state"] for r in rows]
    assert len(rows) == 8 and set(states) <= {"complete", "pruned"}
    assert states[:2] == ["complete", "complete"]  # the startup trials always finish
    pruned = [r for r in rows if r["state"] == "pruned"]
    assert pruned and all(r["early"] is not None and "final" not in r for r in pruned)
    assert all(r["stopped_at_step"] == r["early_step"] > 0 and r["seconds"] > 0 for r in pruned)
    complete = [r for r in rows if r["state"] == "complete"]
    assert all(r["final"] <= r["early"] * 1.5 for r in complete)  # judged on eval loss: finals are no worse
    best = json.loads((out / "best.json").read_text(encoding="utf-8"))
    assert best["best"]["value"] == min(r["final"] for r in complete)
    assert set(best["best"]["params"]) == {"learning_rate", "epochs", "lora_r", "alpha_ratio"}
    assert best["pruned"] == len(pruned) and best["completed"] == len(complete)
    assert best["early_final_spearman"] is not None and -1 <= best["early_final_spearman"] <= 1
    assert best["early_final_n"] == len(complete) and best["reached_checkpoint"] == 8
    assert f"8 trials: {len(complete)} completed, {len(pruned)} pruned (judged at 20% of training)" in result.output
    assert f"(n={len(complete)} trials that reached the checkpoint and finished; {len(pruned)} pruned" in result.output
    # The study is a real optuna SQLite study: it opens, and a rerun resumes instead of starting over.
    import optuna

    study = optuna.load_study(study_name="datacraft-tune", storage=f"sqlite:///{out / 'study.db'}")
    assert len(study.trials) == 8 and study.best_trial.number == best["best"]["trial"]
    again = CliRunner().invoke(cli, [*args, "--trials", "9"])
    assert again.exit_code == 0, again.output
    assert "resumed the study" in again.output and "8 trial(s) already done" in again.output
    assert len(optuna.load_study(study_name="datacraft-tune", storage=f"sqlite:///{out / 'study.db'}").trials) == 9
    other = CliRunner().invoke(cli, [*args, "--lr-range", "1e-4,1e-3"])
    assert other.exit_code != 0 and "holds a search with other data or settings" in other.output


def test_too_few_trials_for_tpe_say_so():
    from datacraft.train.tune import TuneConfig, startup_note

    assert "mostly a random search" in startup_note(TuneConfig(trials=6, tpe_startup=4))
    assert startup_note(TuneConfig(trials=12, tpe_startup=4)) is None
