"""Dice and Tversky over Keras's ``axis``, streamed: :class:`Overlap`.

Keras's ``Dice(axis=None)`` / ``Tversky(axis=None)`` (their default) sum the overlap over every
element of the batch and return ONE ratio; ``axis=(1, 2)`` sums within each sample over those
axes and averages the ratios that remain (one per sample, or per sample and class). Both are
rebuilt from running sums, so any number of samples streams in bounded memory:

- ``axis`` none: the five overlap sums (:func:`lossctl.losses.segmentation.overlap_sums`) of
  every sample are added up exactly; the value is the ratio of the totals, whatever the
  reduction (Keras reduces the scalar it returns to itself).
- ``axis`` numbers: each sample's ratios over those axes are the rows of an
  :class:`~lossctl.losses.reduction.Accumulator` (``mean`` divides by their number, as Keras's
  ``sum_over_batch_size`` does; ``sum`` adds them).

A sample's own value (the per-sample rows) is its ratio alone: the batch of that one sample.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from lossctl.errors import ShapeError, UsageError, opt
from lossctl.losses import segmentation
from lossctl.losses.reduction import Accumulator, ExactSum
from lossctl.losses.spec import LossSpec

__all__ = ["Overlap"]


class Overlap:
    """The running state of one Dice or Tversky computation (see the module docstring)."""

    def __init__(self, spec: LossSpec, options: dict[str, Any]) -> None:
        self.spec = spec
        self._options = options
        self.axis: tuple[int, ...] | None = options.get("axis")
        params = {k: options[k] for k in ("alpha", "beta") if k in options}
        if spec.name == "tversky" or params:
            self._ratio = lambda s: segmentation.tversky_from_sums(s, **params)
        else:
            self._ratio = segmentation.dice_from_sums
        self._totals = [ExactSum() for _ in segmentation.OVERLAP_COLUMNS]
        self.acc = Accumulator()
        self._dtype: np.dtype | None = None

    def fresh(self) -> Overlap:
        """An empty overlap of the same loss (for another part of the rows)."""
        return Overlap(self.spec, self._options)

    def merge(self, other: Overlap) -> None:
        """Add another part's sums."""
        for mine, theirs in zip(self._totals, other._totals):
            mine.merge(theirs)
        self.acc.merge(other.acc)
        self._dtype = self._dtype if other._dtype is None else other._dtype

    def feed(self, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray | None,
             reduction: str) -> np.ndarray:
        """Add one block of samples ``(n, ...)``; returns each sample's own value ``(n,)``."""
        n = y_pred.shape[0]
        self._dtype = y_pred.dtype
        if self.axis is None:
            if weights is not None:
                raise UsageError(
                    f"{opt('sample_weight')} does not combine with {opt('axis', 'none')}: the "
                    "loss is one ratio over the whole batch (Keras multiplies that one value "
                    "by every weight)",
                    hint=f"give {opt('axis')} axis numbers (e.g. 1,2) for one ratio per sample",
                    option="sample_weight")
            sums = segmentation.overlap_sums(y_true.reshape(n, -1), y_pred.reshape(n, -1))
            for k, total in enumerate(self._totals):
                total.add(sums[:, k])
            return np.asarray(self._ratio(sums), dtype=np.float64)
        ratios = self._ratios(y_true, y_pred)  # (n, R)
        r = ratios.shape[1]
        w = None if weights is None else self._weights(np.asarray(weights, np.float64), n, r)
        flat = ratios.reshape(-1)
        self.acc.add(flat, weights=w)
        wl = flat if w is None else flat * w
        per = wl.reshape(n, r)
        return per.sum(axis=1) if reduction == "sum" else per.mean(axis=1)

    @staticmethod
    def _weights(w: np.ndarray, n: int, r: int) -> np.ndarray:
        """Weights for the ``n * r`` ratios: one per sample (repeated over its ratios), or one
        per ratio."""
        if w.size == n:
            return np.repeat(w.reshape(n), r)
        if w.size == n * r:
            return w.reshape(-1)
        raise ShapeError(f"{opt('sample_weight')} has {w.size // n} values per sample, but the "
                         f"loss has {r} per sample over {opt('axis')}",
                         hint="give one weight per sample", option="sample_weight")

    def _ratios(self, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
        """One ratio per sample and per index of the axes not summed over: ``(n, R)``."""
        ndim = y_pred.ndim
        axes = sorted({a + ndim if a < 0 else a for a in self.axis})
        if any(not 1 <= a < ndim for a in axes):
            raise ShapeError(
                f"{opt('axis', ','.join(map(str, self.axis)))} is not an axis of the samples of "
                f"shape {y_pred.shape[1:]}",
                hint=f"axes 1 to {ndim - 1} (0 is the batch), or {opt('axis', 'none')}",
                option="axis")
        rest = [a for a in range(1, ndim) if a not in axes]
        order = [0, *rest, *axes]
        k = math.prod(y_pred.shape[a] for a in axes)
        yt = np.transpose(y_true, order).reshape(-1, k)
        yp = np.transpose(y_pred, order).reshape(-1, k)
        sums = segmentation.overlap_sums(yt, yp)
        return np.asarray(self._ratio(sums), dtype=np.float64).reshape(y_pred.shape[0], -1)

    def value(self, reduction: str, *, samples: int) -> float:
        """The reduced value."""
        if self.axis is None:
            totals = np.array([t.total() for t in self._totals], dtype=self._dtype or np.float64)
            return float(self._ratio(totals)) if samples else 0.0
        if reduction == "sum":
            return self.acc.reduce(None)
        if reduction == "mean_with_sample_weight":
            return self.acc.reduce("weights")
        if reduction == "batchmean":
            return self.acc.reduce("rows", divisor=samples)
        return self.acc.reduce("rows")
