import json
from collections import Counter

import numpy as np
import pytest
from click.testing import CliRunner

from datacraft.cli import cli
from datacraft.errors import ConfigError
from datacraft.train.config import TrainConfig
from datacraft.train.fit import best_fit, diminishing_returns, fit_curve, size_at_fraction
from datacraft.train.saturation import SaturationConfig, nested_order, run_saturation, summarize

SIZES = [50, 100, 200, 400, 800, 1600, 3200]


@pytest.mark.parametrize(("kind", "curve", "c"), [
    ("power", lambda n: 0.9 - 0.6 * n ** -0.5, 0.5),
    ("exponential", lambda n: 0.85 - 0.7 * np.exp(-n / 400), 400),
])
def test_fit_recovers_known_curves(kind, curve, c):
    scores = [curve(n) for n in SIZES]
    fit, fits = best_fit(SIZES, scores)
    assert fit.kind == kind
    assert fit.plateau == pytest.approx(curve(1e9), abs=2e-3)
    assert fit.c == pytest.approx(c, rel=0.03)
    assert fits[kind].sse < fits["exponential" if kind == "power" else "power"].sse


def test_key_sizes_match_the_closed_form():
    scores = [0.9 - 0.6 * n ** -0.5 for n in SIZES]
    fit = fit_curve(SIZES, scores, "power")
    # gain per doubling = 0.6 n^-0.5 (1 - 2^-0.5) < 0.01  <=>  n > (60 (1 - 2^-0.5))^2
    assert diminishing_returns(fit, SIZES, 0.01) == pytest.approx((60 * (1 - 2 ** -0.5)) ** 2, rel=0.01)
    # 0.9 - 0.6 n^-0.5 >= 0.95 * 0.9  <=>  n >= (0.6 / 0.045)^2
    assert size_at_fraction(fit, SIZES, 0.95) == pytest.approx((0.6 / 0.045) ** 2, rel=0.01)


def test_larger_sizes_weigh_more():
    scores = [0.9 - 0.6 * n ** -0.5 for n in SIZES]
    scores[0] -= 0.1  # a noisy smallest run pulls a flat fit more than a weighted one
    weighted = fit_curve(SIZES, scores, "power")
    flat = fit_curve(SIZES, scores, "power", weights=[1.0] * len(SIZES))
    assert abs(weighted.plateau - 0.9) < abs(flat.plateau - 0.9)


def test_nested_order_keeps_label_shares_in_every_prefix():
    records = [{"meta": {"task_type": "rare" if i % 4 == 0 else "common"}} for i in range(200)]
    for seed in range(3):
        order = nested_order(records, "meta.task_type", seed)
        assert sorted(order) == list(range(200))
        for size in (8, 20, 50, 100):
            counts = Counter(records[i]["meta"]["task_type"] for i in order[:size])
            assert abs(counts["rare"] - size / 4) <= 1
    assert nested_order(records, "meta.task_type", 0) != nested_order(records, "meta.task_type", 1)


def test_summary_spread_over_seeds():
    runs = [{"size": s, "seed": k, "score": 0.9 - 0.6 * s ** -0.5 + 0.01 * (k - 1),
             "by_label": {"a": 0.5, "b": 0.1 * k}} for s in SIZES for k in range(3)]
    report = summarize(runs, SaturationConfig(), "exact_match")
    first = report["sizes"][0]
    assert first["seeds"] == 3 and first["max"] - first["min"] == pytest.approx(0.02, abs=1e-4)
    assert first["std"] == pytest.approx(0.0082, abs=1e-4)
    assert report["rising"] and report["fit"]["kind"] == "power"
    assert report["by_label"]["b"]["sizes"]["50"] == pytest.approx(0.1)


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
            "--sizes", "8,16,32,64,128", "--seeds", "2", "--steps", "100", "--batch-size", "16", "--lr", "1e-2",
            "--full", "--metric", "exact_match", "--max-new-tokens", "4", "--max-length", "64"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    means = {row["size"]: row["mean"] for row in report["sizes"]}
    assert means[128] >= means[8] + 0.3  # more data measurably helps on this task
    assert report["rising"] and 0.5 <= report["fit"]["plateau"] <= 1.05
    # ... and it levels off: returns diminish within the measured range, not far beyond it
    assert report["diminishing_returns"] is not None and report["diminishing_returns"] <= 2 * 128
    assert set(report["by_label"]) == {"common", "rare"}
    assert (out / "saturation.png").stat().st_size > 10_000
    assert len((out / "runs.jsonl").read_text(encoding="utf-8").splitlines()) == 10
    assert "fit: " in result.output and "gain per doubling < 0.01 from ~" in result.output
    rerun = CliRunner().invoke(cli, args)
    assert rerun.exit_code == 0 and "reused 10 finished run(s)" in rerun.output
    assert "seed" not in rerun.output.split("reused")[0]  # nothing was trained again
