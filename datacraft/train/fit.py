"""Bounded saturating curves for score(n), with the floor fixed at the untrained model's score.

Two shapes, both equal to `floor` at n -> 0 and rising to a plateau `top` (never above `upper`,
1.0 for a bounded metric), so neither can go negative at small sizes or past 1 at large ones:

    logistic     floor + (top - floor) / (1 + exp(-k (ln n - m)))     (sigmoid in log n)
    exponential  floor + (top - floor) (1 - exp(-n / c))

For each point of a grid over the shape parameters the curve is linear in (top - floor), so a
weighted least-squares solve, clipped to [0, upper - floor], gives it; the grid point with the
lowest weighted error wins. No optimiser, no starting guesses, no scipy. Larger sizes weigh more
(sqrt(n / n_max)): they are the runs that pin the plateau.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

KINDS = ("logistic", "exponential")


@dataclass(frozen=True)
class Fit:
    """A fitted curve: floor (untrained score), top (the plateau) and the shape parameters p, q."""

    kind: str
    floor: float
    top: float
    p: float  # logistic: slope k; exponential: scale c
    q: float  # logistic: midpoint m = ln n at half the gain; exponential: unused
    sse: float  # weighted squared error

    def predict(self, n: float) -> float:
        return float(self.values(np.asarray([n], dtype=float))[0])

    def values(self, n: np.ndarray) -> np.ndarray:
        return self.floor + (self.top - self.floor) * _shape(self.kind, np.asarray(n, dtype=float), self.p, self.q)

    @property
    def plateau(self) -> float:
        return self.top

    def to_dict(self) -> dict:
        return {**asdict(self), "plateau": self.top}


def _shape(kind: str, n: np.ndarray, p: float | np.ndarray, q: float | np.ndarray) -> np.ndarray:
    if kind == "logistic":
        return 1.0 / (1.0 + np.exp(-p * (np.log(n) - q)))
    return 1.0 - np.exp(-n / p)


def weights_for(sizes: Sequence[float]) -> np.ndarray:
    """sqrt(n / n_max): larger runs count more."""
    n = np.asarray(sizes, dtype=float)
    return np.sqrt(n / n.max())


def _grid(kind: str, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if kind == "logistic":
        k = np.geomspace(0.3, 12.0, 48)
        m = np.linspace(math.log(n.min()) - 3.0, math.log(n.max()) + 3.0, 90)
        kk, mm = np.meshgrid(k, m, indexing="ij")
        return kk.ravel(), mm.ravel()
    c = np.geomspace(n.min() / 20, n.max() * 20, 400)
    return c, np.zeros_like(c)


def fit_curve(sizes: Sequence[float], scores: Sequence[float], kind: str, *, floor: float = 0.0,
              upper: float | None = None, weights: Sequence[float] | None = None) -> Fit:
    """Weighted least-squares fit of one bounded shape with its floor fixed; `upper` caps the plateau."""
    n = np.asarray(sizes, dtype=float)
    y = np.asarray(scores, dtype=float) - floor
    w = weights_for(n) if weights is None else np.asarray(weights, dtype=float)
    p, q = _grid(kind, n)
    g = _shape(kind, n[None, :], p[:, None], q[:, None])  # [grid, sizes]
    amp = (g * w * y).sum(1) / np.maximum((g * g * w).sum(1), 1e-300)
    amp = np.clip(amp, 0.0, math.inf if upper is None else max(0.0, upper - floor))
    sse = ((amp[:, None] * g - y) ** 2 * w).sum(1)
    best = int(sse.argmin())
    return Fit(kind, float(floor), float(floor + amp[best]), float(p[best]), float(q[best]), float(sse[best]))


def best_fit(sizes: Sequence[float], scores: Sequence[float], *, floor: float = 0.0,
             upper: float | None = None) -> tuple[Fit, dict[str, Fit]]:
    """Both shapes fitted; the one with the lower weighted error first."""
    fits = {kind: fit_curve(sizes, scores, kind, floor=floor, upper=upper) for kind in KINDS}
    return min(fits.values(), key=lambda f: f.sse), fits


def _reach(sizes: Sequence[float], reach: float) -> np.ndarray:
    return np.geomspace(min(sizes), max(sizes) * reach, 4000)


def gain_per_doubling(fit: Fit, n: float) -> float:
    """Fitted score gained by doubling the data from n."""
    return fit.predict(2 * n) - fit.predict(n)


def diminishing_returns(fit: Fit, sizes: Sequence[float], threshold: float, reach: float = 64) -> float | None:
    """The knee: smallest n past the steepest part where doubling gains less than `threshold` (None: not in reach)."""
    if fit.top - fit.floor <= threshold:
        return None  # nothing to gain at all: no knee to speak of
    grid = _reach(sizes, reach)
    gain = fit.values(2 * grid) - fit.values(grid)
    steepest = int(gain.argmax())
    hit = np.flatnonzero(gain[steepest:] < threshold)
    return float(grid[steepest + hit[0]]) if len(hit) else None


def size_at_fraction(fit: Fit, sizes: Sequence[float], fraction: float = 0.95, reach: float = 64) -> float | None:
    """Smallest n whose fitted score covers `fraction` of the way from floor to plateau (None: not in reach)."""
    if fit.top <= fit.floor or not math.isfinite(fit.top):
        return None  # not a rising curve: there is no plateau to approach
    grid = _reach(sizes, reach)
    hit = np.flatnonzero(fit.values(grid) >= fit.floor + fraction * (fit.top - fit.floor))
    return float(grid[hit[0]]) if len(hit) else None


def interval(values: Sequence[float | None], level: float = 0.9) -> tuple[float | None, float | None]:
    """Central interval of bootstrap values; None stands for "beyond reach" and sorts above every number.

    >>> interval([1.0, 2.0, 3.0, 4.0, None], 0.5)
    (2.0, 4.0)
    """
    if not values:
        return None, None
    ranked = sorted(values, key=lambda v: math.inf if v is None else v)
    lo = ranked[int(math.floor((1 - level) / 2 * (len(ranked) - 1)))]
    hi = ranked[int(math.ceil((1 + level) / 2 * (len(ranked) - 1)))]
    return lo, hi
