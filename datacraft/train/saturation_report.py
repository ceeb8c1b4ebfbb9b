"""What a saturation experiment says: curves with floors, knees with bootstrap intervals, late risers.

The overall score and each label's score are fitted the same way (datacraft.train.fit) with the
untrained model's score as the floor. Intervals come from resampling the seeds: every seed is one
whole curve (its own nested subsets), so a resample draws seeds with replacement, averages them
per size and refits; the spread of the refitted knee and size-at-fraction is what seed-to-seed
noise allows. An interval whose ends differ by more than `too_wide` times is reported as such.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from datacraft.train.fit import (
    Fit,
    best_fit,
    diminishing_returns,
    gain_per_doubling,
    interval,
    size_at_fraction,
)
from datacraft.train.metrics import BUILTIN

BAND_POINTS = 60  # sizes at which the plot's interval band is drawn


def _key_sizes(fit: Fit, sizes: Sequence[int], sat: Any) -> tuple[float | None, float | None]:
    return diminishing_returns(fit, sizes, sat.threshold), size_at_fraction(fit, sizes, sat.fraction)


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def curve(matrix: np.ndarray, sizes: Sequence[int], floor: float, sat: Any, upper: float | None,
          rng: np.random.Generator) -> dict[str, Any]:
    """Fit, key sizes and bootstrap intervals for one [seeds, sizes] score matrix."""
    means = matrix.mean(0)
    out: dict[str, Any] = {"sizes": {str(s): round(float(m), 4) for s, m in zip(sizes, means, strict=True)},
                           "floor": round(floor, 4)}
    if len(sizes) < 3:
        return out
    fit, fits = best_fit(sizes, means, floor=floor, upper=upper)
    knee, at = _key_sizes(fit, sizes, sat)
    largest = sizes[-1]
    gain = gain_per_doubling(fit, largest)
    out.update(fit=fit.to_dict(), fits={k: f.to_dict() for k, f in fits.items()},
               rising=fit.top - fit.floor > sat.threshold, knee=_round(knee), size_at_fraction=_round(at),
               gain_at_largest=round(gain, 4), rising_at_largest=gain >= sat.threshold)
    knees, ats, tops, bands = [], [], [], []
    grid = np.geomspace(sizes[0], 4 * largest, BAND_POINTS)
    seeds = matrix.shape[0]
    for _ in range(sat.bootstrap if seeds > 1 else 0):
        pick = rng.integers(0, seeds, seeds)
        refit, _ = best_fit(sizes, matrix[pick].mean(0), floor=floor, upper=upper)
        k, a = _key_sizes(refit, sizes, sat)
        knees.append(k)
        ats.append(a)
        tops.append(refit.top)
        bands.append(refit.values(grid))
    if knees:
        lo, hi = np.quantile(np.array(bands), [(1 - sat.level) / 2, (1 + sat.level) / 2], axis=0)
        out["band"] = [[round(float(n), 2), round(float(a), 4), round(float(b), 4)] for n, a, b in zip(grid, lo, hi, strict=True)]
        for name, values in (("knee", knees), ("size_at_fraction", ats)):
            low, high = interval(values, sat.level)
            out[f"{name}_interval"] = [_round(low), _round(high)]
            out[f"{name}_too_wide"] = low is None or high is None or high > sat.too_wide * max(low, 1e-9)
        out["plateau_interval"] = [round(v, 4) for v in interval(tops, sat.level)]  # type: ignore[arg-type]
    return out


LATE = 1.25  # a label whose curve reaches its plateau this much later than the whole set rises late


def late_risers(by_label: dict[str, dict[str, Any]], overall_at: float | None) -> list[str]:
    """Labels that reach `fraction` of their gain later than the whole set does (or not within reach), latest first."""
    if not overall_at or len(by_label) < 2:
        return []
    beyond = float("inf")
    timing = {label: c.get("size_at_fraction") or beyond for label, c in by_label.items() if c.get("rising")}
    late = [label for label, at in timing.items() if at > LATE * overall_at]
    return sorted(late, key=lambda label: -timing[label])


def _matrix(runs: Sequence[dict[str, Any]], sizes: list[int], seeds: list[int], value) -> np.ndarray:
    table = {(r["size"], r["seed"]): r for r in runs}
    return np.array([[value(table[(s, k)]) for s in sizes] for k in seeds], dtype=float)


def summarize(runs: Sequence[dict[str, Any]], sat: Any, metric: str, baseline: dict[str, Any] | None = None) -> dict[str, Any]:
    """Score per size with spread over seeds, convergence, fitted curves with intervals, per-label curves."""
    by_size: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for run in runs:
        by_size[run["size"]].append(run)
    sizes = sorted(by_size)
    seeds = sorted({r["seed"] for r in runs})
    rows = []
    for s in sizes:
        v = [r["score"] for r in by_size[s]]
        converged = [r.get("converged") for r in by_size[s]]
        rows.append({"size": s, "mean": round(statistics.fmean(v), 4), "std": round(statistics.pstdev(v), 4),
                     "min": round(min(v), 4), "max": round(max(v), 4), "seeds": len(v),
                     "converged": sum(c is True for c in converged), "epochs": round(statistics.fmean(
                         r.get("epochs") or 0.0 for r in by_size[s]), 1)})
    upper = 1.0 if metric in BUILTIN else None  # exact match and F1 cannot plateau above 1
    floor = float(baseline["score"]) if baseline else 0.0
    rng = np.random.default_rng(0)
    overall = curve(_matrix(runs, sizes, seeds, lambda r: r["score"]), sizes, floor, sat, upper, rng)
    labels = sorted({label for r in runs for label in (r.get("by_label") or {})})
    label_floors = (baseline or {}).get("by_label") or {}
    by_label = {label: curve(_matrix(runs, sizes, seeds, lambda r, lab=label: (r.get("by_label") or {}).get(lab, 0.0)),
                             sizes, float(label_floors.get(label, 0.0)), sat, upper, rng) for label in labels}
    not_converged = [row["size"] for row in rows if sat.budget == "converge" and row["converged"] < row["seeds"]]
    report: dict[str, Any] = {
        "metric": metric, "budget": sat.budget, "sizes": rows, "threshold": sat.threshold, "fraction": sat.fraction,
        "level": sat.level, "floor": round(floor, 4), "largest_size": sizes[-1] if sizes else 0,
        "not_converged": not_converged, **{k: v for k, v in overall.items() if k != "sizes"},
        "by_label": by_label,
        "still_rising": [label for label, c in by_label.items() if c.get("rising_at_largest")],
        "late_risers": late_risers(by_label, overall.get("size_at_fraction")),
    }
    report["diminishing_returns"] = report.get("knee")  # the older name of the knee
    for key in ("knee", "size_at_fraction"):
        report[f"{key}_extrapolated"] = bool(report.get(key) and report[key] > report["largest_size"])
    return report


def _span(curve_: dict[str, Any], key: str) -> str:
    low, high = curve_.get(f"{key}_interval") or (None, None)
    if low is None and high is None:
        return ""
    return f" ({curve_.get('level', 0.9):.0%} interval {_num(low)} to {_num(high)})"


def _num(value: float | None) -> str:
    return "beyond 64x the largest size" if value is None else f"~{value:,.0f}"


def format_report(report: dict[str, Any]) -> str:
    """The report as terminal text."""
    lines = [f"{'size':>8}  {report['metric']:>12}  {'± std':>7}  {'min':>6}  {'max':>6}  seeds  converged  epochs"]
    for r in report["sizes"]:
        lines.append(f"{r['size']:>8}  {r['mean']:>12.4f}  {r['std']:>7.4f}  {r['min']:>6.3f}  {r['max']:>6.3f}  "
                     f"{r['seeds']:>5}  {r.get('converged', 0):>9}  {r.get('epochs', 0):>6}")
    if report.get("not_converged"):
        sizes = ", ".join(str(s) for s in report["not_converged"])
        lines.append(f"warning: runs at size {sizes} were still improving when they hit --max-epochs; "
                     "their scores are lower bounds: raise --max-epochs")
    fit = report.get("fit")
    if fit and not report.get("rising"):
        lines.append(f"the score does not rise above the untrained model's {report['floor']:.4f} "
                     f"({fit['kind']} fit): the task is not learned at these sizes")
    elif fit:
        lines.append(f"fit: {fit['kind']}, from {report['floor']:.4f} (untrained) to a plateau of {fit['plateau']:.4f}"
                     + (f" (interval {report['plateau_interval'][0]:.3f} to {report['plateau_interval'][1]:.3f})"
                        if report.get("plateau_interval") else ""))
        for key, text in (("knee", f"knee (gain per doubling < {report['threshold']:g}):"),
                          ("size_at_fraction", f"{report['fraction']:.0%} of the gain at:")):
            value = report.get(key)
            note = " (extrapolated beyond the largest size)" if report.get(f"{key}_extrapolated") else ""
            lines.append(f"{text} {_num(value)} records{note}{_span(report, key)}")
            if report.get(f"{key}_too_wide"):
                lines.append(f"  the interval is too wide to say where: seed-to-seed noise dominates; "
                             f"run more seeds (--seeds {2 * max(3, report['sizes'][0]['seeds'])})")
    for label, c in report.get("by_label", {}).items():
        points = ", ".join(f"{s}: {v:.3f}" for s, v in c["sizes"].items())
        flag = "  <- still rising" if c.get("rising_at_largest") else ""
        lines.append(f"  {label}: {points}{flag}")
    for label in report.get("late_risers") or []:
        at = report["by_label"][label].get("size_at_fraction")
        where = f"~{at:,.0f} records" if at else "beyond 64x the largest size"
        lines.append(f"rises late: {label} reaches {report['fraction']:.0%} of its gain at {where}, against "
                     f"~{report['size_at_fraction']:,.0f} for the whole set: gains there arrive late")
    if report.get("still_rising"):
        lines.append(f"still rising at {report['largest_size']:,} records: {', '.join(report['still_rising'])}: "
                     "more data for these is where more data pays")
    return "\n".join(lines)
