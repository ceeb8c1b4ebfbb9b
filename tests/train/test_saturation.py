import json
import math
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.errors import ConfigError
from datacraft.train.config import TrainConfig
from datacraft.train.fit import best_fit, diminishing_returns, fit_curve, size_at_fraction
from datacraft.train.saturation import (
    SaturationConfig,
    format_report,
    nested_order,
    run_saturation,
    summarize,
)

SIZES = [50, 100, 200, 400, 800, 1600, 3200]


MID = math.log(300)


def logistic(n, floor=0.1, top=0.9, k=2.0, m=MID):
    return floor + (top - floor) / (1 + np.exp(-k * (np.log(n) - m)))


def test_fit_recovers_a_known_curve_from_its_floor():
    scores = [logistic(n) for n in SIZES]
    fit, fits = best_fit(SIZES, scores, floor=0.1, upper=1.0)
    assert fit.kind == "logistic" and fits["logistic"].sse <= fits["exponential"].sse
    assert fit.plateau == pytest.approx(0.9, abs=5e-3)
    assert fit.p == pytest.approx(2.0, rel=0.1) and math.exp(fit.q) == pytest.approx(300, rel=0.1)


def test_fit_is_bounded_by_floor_and_cap():
    # Noisy small sizes below the floor, and a last point above 1: the fit stays within [floor, 1].
    scores = [0.02, 0.0, 0.3, 0.7, 0.95, 1.0, 1.0]
    for kind in ("logistic", "exponential"):
        fit = fit_curve(SIZES, scores, kind, floor=0.05, upper=1.0)
        values = fit.values(np.geomspace(1, 1e6, 50))
        assert values.min() >= 0.05 - 1e-9 and values.max() <= 1.0 + 1e-9


def test_key_sizes_match_the_closed_form():
    scores = [logistic(n) for n in SIZES]
    fit = fit_curve(SIZES, scores, "logistic", floor=0.1, upper=1.0)
    # 95% of the gain: sigmoid(k (ln n - m)) = 0.95  <=>  n = exp(m + ln(19) / k)
    expected = math.exp(fit.q + math.log(19) / fit.p)
    assert size_at_fraction(fit, SIZES, 0.95) == pytest.approx(expected, rel=0.01)
    assert size_at_fraction(fit, SIZES, 0.95) == pytest.approx(300 * 19 ** 0.5, rel=0.15)
    knee = diminishing_returns(fit, SIZES, 0.01)
    assert 300 < knee and fit.predict(2 * knee) - fit.predict(knee) == pytest.approx(0.01, abs=1e-3)


def runs_from(curve, seeds=3, noise=0.0, by_label=None, converged=True):
    rng = np.random.default_rng(1)
    return [{"size": s, "seed": k, "score": float(np.clip(curve(s) + noise * rng.standard_normal(), 0, 1)),
             "converged": converged if s < SIZES[-1] else converged,
             "by_label": {name: float(f(s)) for name, f in (by_label or {}).items()}}
            for s in SIZES for k in range(seeds)]


def test_intervals_are_narrow_for_agreeing_seeds_and_too_wide_for_noisy_ones():
    sat = SaturationConfig(bootstrap=100)
    quiet = summarize(runs_from(logistic), sat, "exact_match", baseline={"score": 0.1})
    low, high = quiet["size_at_fraction_interval"]
    assert low == pytest.approx(high, rel=0.05) and not quiet["size_at_fraction_too_wide"]
    noisy = summarize(runs_from(lambda n: logistic(n, k=0.6, m=math.log(1500)), noise=0.25), sat, "exact_match",
                      baseline={"score": 0.1})
    assert noisy["size_at_fraction_too_wide"]
    assert "too wide to say" in format_report(noisy) and "--seeds 6" in format_report(noisy)


def test_labels_still_rising_are_named_and_unconverged_sizes_warned():
    labels = {"common": lambda n: logistic(n, m=math.log(100)), "rare": lambda n: logistic(n, m=math.log(3000))}
    report = summarize(runs_from(logistic, by_label=labels, converged=False), SaturationConfig(bootstrap=20),
                       "exact_match", baseline={"score": 0.1, "by_label": {"common": 0.1, "rare": 0.1}})
    assert report["still_rising"] == ["rare"] and report["late_risers"] == ["rare"]
    assert report["by_label"]["common"]["fit"]["plateau"] == pytest.approx(0.9, abs=0.01)
    assert report["not_converged"] == SIZES
    text = format_report(report)
    assert "still rising at 3,200 records: rare" in text and "raise --max-epochs" in text
    assert "rises late: rare reaches 95% of its gain at" in text


def test_summary_spread_over_seeds():
    runs = [{"size": s, "seed": k, "score": logistic(s) + 0.01 * (k - 1),
             "by_label": {"a": 0.5, "b": 0.1 * k}} for s in SIZES for k in range(3)]
    report = summarize(runs, SaturationConfig(bootstrap=20), "exact_match")
    first = report["sizes"][0]
    assert first["seeds"] == 3 and first["max"] - first["min"] == pytest.approx(0.02, abs=1e-4)
    assert first["std"] == pytest.approx(0.0082, abs=1e-4)
    assert report["rising"] and report["floor"] == 0.0
    assert report["by_label"]["b"]["sizes"]["50"] == pytest.approx(0.1)


def test_nested_order_keeps_label_shares_in_every_prefix():
    records = [{"meta": {"task_type": "rare" if i % 4 == 0 else "common"}} for i in range(200)]
    for seed in range(3):
        order = nested_order(records, "meta.task_type", seed)
        assert sorted(order) == list(range(200))
        for size in (8, 20, 50, 100):
            counts = Counter(records[i]["meta"]["task_type"] for i in order[:size])
            assert abs(counts["rare"] - size / 4) <= 1
    assert nested_order(records, "meta.task_type", 0) != nested_order(records, "meta.task_type", 1)


def test_resume_skips_finished_runs(tmp_path):
    pool = [{"instruction": "q", "output": str(i), "meta": {"task_type": "x"}} for i in range(40)]
    calls = []

    def fake_run(records, seed):
        calls.append((len(records), seed))
        return {"score": 1 - 1 / len(records), "by_label": {}}

    sat = SaturationConfig(sizes=[5, 10, 20, 40], seeds=2)
    first = run_saturation(pool, pool[:5], str(tmp_path), TrainConfig(model="m"), sat, fake_run)
    assert len(calls) == 8 and first["reused_runs"] == 0
    (tmp_path / "runs.jsonl").open("ab").write(b'{"size": 5, "se')  # a run killed while writing
    again = run_saturation(pool, pool[:5], str(tmp_path), TrainConfig(model="m"), sat, fake_run)
    assert len(calls) == 8 and again["reused_runs"] == 8 and again["sizes"] == first["sizes"]
    run_saturation(pool, pool[:5], str(tmp_path), TrainConfig(model="m", learning_rate=1e-3), sat, fake_run)
    assert len(calls) == 16  # other settings: nothing reused
    with pytest.raises(ConfigError, match="^--sizes 80 is more than the 40 training records$"):
        run_saturation(pool, pool[:5], str(tmp_path), TrainConfig(model="m"), SaturationConfig(sizes=[10, 80]), fake_run)


def test_saturation_command_end_to_end(tiny_model, lookup_files, tmp_path):
    pytest.importorskip("torch")
    train, evals = lookup_files
    out = tmp_path / "sat"
    args = ["saturation", "--data", train, "--eval", evals, "--model", tiny_model, "-o", str(out),
            "--sizes", "8,16,32,64,128", "--seeds", "2", "--max-epochs", "40", "--patience", "3",
            "--batch-size", "16", "--lr", "1e-2", "--scheduler", "constant", "--full", "--metric", "exact_match",
            "--max-new-tokens", "4", "--max-length", "64", "--bootstrap", "50"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    means = {row["size"]: row["mean"] for row in report["sizes"]}
    assert means[128] >= means[8] + 0.3  # more data measurably helps on this task
    assert report["budget"] == "converge" and report["rising"] and 0.5 <= report["fit"]["plateau"] <= 1.0
    assert report["floor"] < 0.1  # the untrained model scores about nothing
    runs = [json.loads(line) for line in (out / "runs.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(runs) == 11 and runs[0]["size"] == 0  # the untrained baseline, then 5 sizes x 2 seeds
    assert all(isinstance(r["converged"], bool) and r["epochs"] > 0 for r in runs[1:])
    assert set(report["by_label"]) == {"common", "rare"}
    assert (out / "saturation.png").stat().st_size > 10_000
    assert "fit: logistic" in result.output or "fit: exponential" in result.output
    assert "knee (gain per doubling < 0.01):" in result.output
    rerun = CliRunner().invoke(cli, args)
    assert rerun.exit_code == 0 and "reused 10 finished run(s)" in rerun.output
    assert "seed" not in rerun.output.split("reused")[0]  # nothing was trained again
