"""Saturating curves score(n) = a - b * f(n), fitted with larger sizes weighted more.

Two shapes: inverse power law f = n^-c, and exponential saturation f = exp(-n / c). For each c on a
log grid the model is linear in (a, b), so a weighted least-squares solve gives the best (a, b)
and the c with the lowest weighted error wins: no optimiser, no starting guesses, no scipy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

KINDS = ("power", "exponential")


@dataclass(frozen=True)
class Fit:
    """A fitted curve; `a` is the plateau (the score as n grows without bound)."""

    kind: str
    a: float
    b: float
    c: float
    sse: float  # weighted squared error

    def predict(self, n: float) -> float:
        return float(self.values(np.asarray([n], dtype=float))[0])

    def values(self, n: np.ndarray) -> np.ndarray:
        return self.a - self.b * _basis(self.kind, n, self.c)

    @property
    def plateau(self) -> float:
        return self.a

    def to_dict(self) -> dict:
        return {**asdict(self), "plateau": self.a}


def _basis(kind: str, n: np.ndarray, c: float) -> np.ndarray:
    return n ** -c if kind == "power" else np.exp(-n / c)


def weights_for(sizes: Sequence[float]) -> np.ndarray:
    """sqrt(n / n_max): larger runs count more (they are the ones that pin the plateau)."""
    n = np.asarray(sizes, dtype=float)
    return np.sqrt(n / n.max())


def fit_curve(sizes: Sequence[float], scores: Sequence[float], kind: str,
              weights: Sequence[float] | None = None, upper: float | None = None) -> Fit:
    """Weighted least-squares fit of one curve shape; `upper` caps the plateau (1.0 for a bounded score)."""
    n = np.asarray(sizes, dtype=float)
    y = np.asarray(scores, dtype=float)
    w = weights_for(n) if weights is None else np.asarray(weights, dtype=float)
    if kind == "power":
        grid = np.geomspace(0.01, 5.0, 400)
    else:
        grid = np.geomspace(n.min() / 20, n.max() * 20, 400)
    sw = np.sqrt(w)
    best: Fit | None = None
    for c in grid:
        design = np.stack([np.ones_like(n), -_basis(kind, n, c)], axis=1)
        coef, *_ = np.linalg.lstsq(design * sw[:, None], y * sw, rcond=None)
        if upper is not None and coef[0] > upper:
            # Plateau pinned at the cap: the best b for a fixed a has a closed form.
            f = -design[:, 1]
            coef = np.array([upper, float(np.sum(w * f * (upper - y)) / max(np.sum(w * f * f), 1e-300))])
        sse = float(np.sum(w * (design @ coef - y) ** 2))
        if best is None or sse < best.sse:
            best = Fit(kind, float(coef[0]), float(coef[1]), float(c), sse)
    assert best is not None
    return best


def best_fit(sizes: Sequence[float], scores: Sequence[float], upper: float | None = None) -> tuple[Fit, dict[str, Fit]]:
    """Both shapes fitted; the one with the lower weighted error first."""
    fits = {kind: fit_curve(sizes, scores, kind, upper=upper) for kind in KINDS}
    return min(fits.values(), key=lambda f: f.sse), fits


def _grid(sizes: Sequence[float], reach: float) -> np.ndarray:
    return np.geomspace(min(sizes), max(sizes) * reach, 4000)


def diminishing_returns(fit: Fit, sizes: Sequence[float], threshold: float, reach: float = 64) -> float | None:
    """Smallest n where doubling the data gains less than `threshold` by the fit (None: not within reach)."""
    grid = _grid(sizes, reach)
    gain = fit.values(2 * grid) - fit.values(grid)
    hit = np.flatnonzero(gain < threshold)
    return float(grid[hit[0]]) if len(hit) else None


def size_at_fraction(fit: Fit, sizes: Sequence[float], fraction: float = 0.95, reach: float = 64) -> float | None:
    """Smallest n whose fitted score reaches `fraction` of the plateau (None: not within reach)."""
    if fit.b <= 0 or not math.isfinite(fit.a):
        return None  # not a rising curve: there is no plateau to approach
    grid = _grid(sizes, reach)
    hit = np.flatnonzero(fit.values(grid) >= fraction * fit.a)
    return float(grid[hit[0]]) if len(hit) else None
