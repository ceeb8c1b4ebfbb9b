"""PNG plots (matplotlib, Agg backend): the loss curve and the saturation curve."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from datacraft.io.writers import atomic_write


def smooth(values: Sequence[float], window: int) -> list[float]:
    """Centred moving average over finite values (no lag, unlike an EMA); NaN where none are finite.

    >>> smooth([1.0, 3.0, 5.0, float("nan")], 3)
    [2.0, 3.0, 4.0, 5.0]
    """
    half = window // 2
    out = []
    for i in range(len(values)):
        near = [v for v in values[max(0, i - half): i + half + 1] if v is not None and math.isfinite(v)]
        out.append(sum(near) / len(near) if near else math.nan)
    return out


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_loss(rows: Sequence[dict[str, Any]], path: str, title: str = "training loss") -> str:
    """Raw and smoothed train loss, eval loss points, to a PNG."""
    plt = _figure()
    steps = [r["step"] for r in rows if "loss" in r]
    losses = [math.nan if r["loss"] is None else r["loss"] for r in rows if "loss" in r]
    evals = [(r["step"], r["eval_loss"]) for r in rows if "eval_loss" in r]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    if steps:
        ax.plot(steps, losses, color="tab:blue", alpha=0.3, linewidth=1, label="train (raw)")
        ax.plot(steps, smooth(losses, max(3, len(losses) // 25)), color="tab:blue",
                linewidth=2, label="train (smoothed)")
    if evals:
        ax.plot([s for s, _ in evals], [v for _, v in evals], "o-", color="tab:orange", label="eval")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (answer tokens)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png")
    plt.close(fig)
    return path


def plot_saturation(report: dict[str, Any], path: str) -> str:
    """Score vs training size (log axis): mean ± std over seeds, the fit with its bootstrap band,
    the knee and size-at-fraction with their intervals, and each label's points and fitted curve."""
    plt = _figure()
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    rows = report["sizes"]
    xs = [r["size"] for r in rows]
    ax.errorbar(xs, [r["mean"] for r in rows], yerr=[r["std"] for r in rows], fmt="o", color="black",
                capsize=3, label=f"all ({report['metric']}), mean ± std over seeds", zorder=3)
    grid = [xs[0] * (4 * xs[-1] / xs[0]) ** (i / 199) for i in range(200)]
    fit = report.get("fit")
    if fit:
        ax.plot(grid, [fit_value(fit, n) for n in grid], color="black", alpha=0.7,
                label=f"{fit['kind']} fit: {fit['floor']:.2f} -> plateau {fit['plateau']:.3f}")
    if report.get("band"):
        band = report["band"]
        ax.fill_between([b[0] for b in band], [b[1] for b in band], [b[2] for b in band], color="black",
                        alpha=0.12, label=f"{report.get('level', 0.9):.0%} bootstrap band (seeds)")
    names = {"knee": f"knee (gain/doubling < {report['threshold']:g})",
             "size_at_fraction": f"{report['fraction']:.0%} of the gain"}
    for key, style in (("knee", ":"), ("size_at_fraction", "--")):
        if report.get(key):
            ax.axvline(report[key], color="gray", linestyle=style, alpha=0.9, label=f"{names[key]}: {report[key]:,.0f}")
            low, high = report.get(f"{key}_interval") or (None, None)
            if low is not None:
                ax.axvspan(low, high if high is not None else grid[-1], color="gray", alpha=0.07)
    for i, (label, curve) in enumerate(sorted(report.get("by_label", {}).items())):
        pts = sorted((int(s), v) for s, v in curve["sizes"].items())
        rising = " (still rising)" if curve.get("rising_at_largest") else (
            " (rises late)" if label in (report.get("late_risers") or []) else "")
        ax.plot([s for s, _ in pts], [v for _, v in pts], "o", alpha=0.8, color=f"C{i}", label=f"{label}{rising}")
        if curve.get("fit"):
            ax.plot(grid, [fit_value(curve["fit"], n) for n in grid], color=f"C{i}", alpha=0.6, linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("training records")
    ax.set_ylabel(report["metric"])
    ax.set_title("data-size saturation")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    with atomic_write(path, "wb") as handle:
        fig.savefig(handle, format="png")
    plt.close(fig)
    return path


def fit_value(fit: dict[str, Any], n: float) -> float:
    """The fitted score at size n from a fit's dict form."""
    from datacraft.train.fit import Fit

    return Fit(**{k: fit[k] for k in ("kind", "floor", "top", "p", "q", "sse")}).predict(n)
