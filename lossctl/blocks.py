"""What one block of a computation gives: :class:`BlockResult` (per sample), :class:`Elements`
(per element of N-D samples), and the conditions counted over all blocks (:class:`Counters`)."""
from __future__ import annotations

from typing import Any

from lossctl.record import record

import numpy as np

__all__ = ["BlockResult", "Counters", "Elements", "Rows"]


@record
class BlockResult:
    """What ``feed`` returns for one block: per-sample values and what the report needs."""

    start: int
    per_sample: np.ndarray  # (n,) float64: weighted like the frameworks' reduction="none"
    elementwise: np.ndarray | None  # (n, C) before the class axis is reduced, or None
    true_class: np.ndarray | None  # (n,) int64 (-1 for ignored rows), classification only
    pred_class: np.ndarray | None  # (n,) int64
    confidence: np.ndarray | None  # (n,) probability of the predicted class
    valid: np.ndarray  # (n,) bool, False for ignored rows
    #: N-D inputs: the same per element (pixel, token), for the report's per-class figures
    elements: Elements | None = None
    #: several losses in one pass: the per-sample values of the others, in request order
    others: list | None = None
    #: ``id_cols``: the block's identifier columns ``(n, k)``, carried into per-sample rows
    ids: Any = None


@record
class Elements:
    """One block of an N-D computation, per element (``n * P`` of them): the weighted loss,
    the true and predicted class, and whether it was ignored."""

    values: np.ndarray
    true_class: np.ndarray | None
    pred_class: np.ndarray | None
    valid: np.ndarray


@record
class Rows:
    """What one block's rows gave, before they become per-sample values."""

    values: np.ndarray  # (rows,) the loss per row, 0 where ignored
    elementwise: np.ndarray | None  # (rows, C) before the class axis is reduced
    weights: np.ndarray | None  # (rows,) sample (and Keras class) weights
    valid: np.ndarray
    class_weights: np.ndarray | None  # PyTorch: the class weight of each row's target
    true_class: np.ndarray | None
    pred: np.ndarray


@record
class Counters:
    """Conditions counted over all blocks, reported once at the end."""

    renormalised: int = 0  # probability rows not summing to 1 (Keras renormalises them)
    clipped: int = 0  # rows with a probability clipped/clamped by the convention
    rounded: int = 0  # probabilities within 1e-6 outside [0, 1], set to the bound
    ignored: int = 0
    above_one: int = 0  # rows of non-negative scores above 1 (Keras renormalises them)
    saturated: int = 0  # rows whose every prediction sits at 0 or 1
    nonfinite: int = 0  # per-sample losses that are inf/NaN (overflow, or log(0) under torch)

    def merge(self, other: Counters) -> None:
        """Add another part's counts."""
        for name, value in vars(other).items():
            setattr(self, name, getattr(self, name) + value)
