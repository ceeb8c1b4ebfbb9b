"""Epoch guidance: how many passes over the data suit its size."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Guidance:
    """Whether the epoch count looks right for the data size, with a suggested value."""

    ok: bool
    epochs: float  # what the run uses (effective, when set by max_steps)
    suggested: float
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def suggested_epochs(n_samples: int) -> float:
    """Passes that usually suit LoRA on this many samples: more for small data, 1-2 for large.

    >>> [suggested_epochs(n) for n in (300, 5_000, 50_000, 500_000)]
    [5.0, 3.0, 2.0, 1.0]
    """
    if n_samples <= 1_000:
        return 5.0
    if n_samples <= 10_000:
        return 3.0
    if n_samples <= 100_000:
        return 2.0
    return 1.0


def epoch_guidance(n_samples: int, epochs: float, *, max_steps: int | None = None, batch_size: int = 8,
                   grad_accum: int = 1) -> Guidance:
    """Warn when epochs look too many (or too few) for the data size, and suggest a value.

    >>> epoch_guidance(20_000, 5).ok, epoch_guidance(20_000, 2).ok
    (False, True)
    """
    if max_steps:
        epochs = round(max_steps * batch_size * grad_accum / max(1, n_samples), 2)
    suggested = suggested_epochs(n_samples)
    if n_samples > 10_000 and epochs >= 5:
        return Guidance(False, epochs, suggested,
                        f"{epochs:g} epochs over {n_samples:,} samples is too many: above 10,000 samples use "
                        f"fewer than 5 (try {suggested:g}); extra passes mostly memorise the answers")
    if epochs > 2 * suggested:
        return Guidance(False, epochs, suggested,
                        f"{epochs:g} epochs over {n_samples:,} samples risks overfitting; try {suggested:g} "
                        "and watch the eval loss")
    if epochs < suggested / 2.5:
        return Guidance(False, epochs, suggested,
                        f"{epochs:g} epochs over only {n_samples:,} samples may be too few; try {suggested:g}")
    return Guidance(True, epochs, suggested,
                    f"{epochs:g} epochs over {n_samples:,} samples looks reasonable (suggested {suggested:g})")
