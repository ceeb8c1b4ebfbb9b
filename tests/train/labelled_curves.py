"""A labelled set of loss curves for judging `diagnose`: synthetic shapes with realistic noise.

Each generator returns (train losses, eval points, extra keyword arguments for diagnose). Healthy
curves span what normal SFT looks like: a fast drop then a plateau, 10-15% multiplicative step
noise, various lengths, levels and eval cadences. Problem curves are the failures a practitioner
must hear about. The set is deterministic (seeded).
"""

from __future__ import annotations

import math

import numpy as np

VOCAB = 32000


def _sft(rng, n, start, floor, tau, noise):
    t = np.arange(1, n + 1)
    clean = floor + (start - floor) * np.exp(-t / tau)
    return clean * (1 + noise * rng.standard_normal(n)), clean


def healthy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(60, 400))
    noise = float(rng.uniform(0.10, 0.15))
    floor = float(rng.uniform(0.5, 1.4))
    y, clean = _sft(rng, n, float(rng.uniform(2.0, 3.5)), floor, float(rng.uniform(n / 25, n / 6)), noise)
    every = max(1, n // 8)
    evals = [(s, float(clean[s - 1] * 1.08 + 0.02)) for s in range(every, n + 1, every)]
    return y, (evals if seed % 2 else []), {}


def oscillating(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(100, 300))
    t = np.arange(n)
    level = float(rng.uniform(1.2, 2.0))
    return level + 0.5 * level * np.sin(t * rng.uniform(0.8, 1.6)) + rng.normal(0, 0.1 * level, n), [], {}


def spiking(seed):
    rng = np.random.default_rng(seed)
    y, _ = _sft(rng, 200, 3.0, 0.8, 30, 0.03)
    for at in rng.choice(np.arange(40, 190), 3, replace=False):
        y[at] *= 3.0
    return y, [], {}


def diverging(seed):
    rng = np.random.default_rng(seed)
    y, _ = _sft(rng, 200, 2.5, 0.9, 25, 0.05)
    y[120:] = np.linspace(1.0, 8.0 + seed, 80) * (1 + 0.05 * rng.standard_normal(80))
    return y, [], {}


def nan(seed):
    rng = np.random.default_rng(seed)
    y, _ = _sft(rng, 150, 2.5, 0.9, 25, 0.1)
    y[100 + seed] = math.nan
    return y, [], {}


def rebound(seed):
    """Falls to its minimum, then climbs back to about 4x it (still below the start)."""
    rng = np.random.default_rng(seed)
    n = 240
    t = np.arange(n)
    low = 0.5
    clean = np.where(t < 100, low + 2.5 * np.exp(-t / 20), low + (4 * low - low) * (t - 100) / 140)
    return clean * (1 + 0.1 * rng.standard_normal(n)), [], {}


def overfitting(seed):
    rng = np.random.default_rng(seed)
    y, _ = _sft(rng, 200, 3.0, 0.25, 30, 0.08)
    evals = [(s, 1.3 + 1.5 * math.exp(-s / 30) + 0.006 * max(0, s - 60) * (1 + 0.2 * seed)) for s in range(20, 201, 20)]
    return y, evals, {}


def collapsed(seed):
    """Stuck at ln(vocab): uniform predictions."""
    rng = np.random.default_rng(seed)
    n = 150
    return math.log(VOCAB) * (1 + 0.01 * rng.standard_normal(n)) + 0.05 * np.exp(-np.arange(n) / 5), [], \
        {"vocab_size": VOCAB}


def collapsed_repeating(seed):
    """A loss that looks fine, but every answer is one token over and over."""
    rng = np.random.default_rng(seed)
    y, _ = _sft(rng, 150, 2.5, 1.2, 20, 0.1)
    return y, [], {"predictions": ["the the the the the"] * 9 + ["answer"]}


def too_low(seed):
    """Train loss near 0.05 and no eval set: memorising."""
    rng = np.random.default_rng(seed)
    y, _ = _sft(rng, 200, 2.5, 0.05, 25, 0.1)
    return y, [], {}


def underfitting(seed):
    rng = np.random.default_rng(seed)
    n = 200
    return 2.5 - 0.1 * np.arange(n) / n + rng.normal(0, 0.02, n), [], {}


SHAPES = {"healthy": (healthy, 20), "oscillating": (oscillating, 3), "spiking": (spiking, 3),
          "diverging": (diverging, 2), "nan": (nan, 2), "rebound": (rebound, 3), "overfitting": (overfitting, 3),
          "collapsed": (collapsed, 2), "collapsed_repeating": (collapsed_repeating, 1), "low_train_loss": (too_low, 2),
          "underfitting": (underfitting, 2)}
EXPECTED = {"nan": "diverging", "collapsed_repeating": "collapsed"}  # labels diagnose uses for these shapes


def labelled_set():
    """[(name, expected label, train losses, eval points, kwargs)] for every curve of the set."""
    out = []
    for shape, (make, count) in SHAPES.items():
        for seed in range(count):
            y, evals, kwargs = make(seed)
            out.append((f"{shape}-{seed}", EXPECTED.get(shape, shape), list(y), evals, kwargs))
    return out


def rates(results):
    """False-alarm rate (healthy called a problem), miss rate (problem called healthy), label accuracy."""
    healthy_runs = [r for r in results if r[0] == "healthy"]
    problems = [r for r in results if r[0] != "healthy"]
    false_alarms = sum(got != "healthy" for _, got in healthy_runs)
    misses = sum(got == "healthy" for _, got in problems)
    exact = sum(want == got for want, got in results)
    return {"curves": len(results), "healthy": len(healthy_runs), "problems": len(problems),
            "false_alarm_rate": false_alarms / max(1, len(healthy_runs)), "miss_rate": misses / max(1, len(problems)),
            "label_accuracy": exact / max(1, len(results))}
