"""How the predictions are read: their domain (probabilities, logits, log-probabilities) checked
against what the loss takes, and the predicted class and confidence of each row.

:func:`check_domain` refuses values the loss cannot take (a "probability" of 1.4 is a logit) and
counts what the conventions treat specially: rows that do not sum to 1 (Keras renormalises
them), values at the clip bounds, rounding noise just outside [0, 1]. :func:`predicted` gives
the report and the per-sample rows their predicted class.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from lossctl.errors import DataError, opt
from lossctl.losses._numerics import row_max, row_min, row_sum
from lossctl.losses.spec import LossSpec
from lossctl.validation import Input, shown

__all__ = ["EPS", "PROB_TOLERANCE", "check_domain", "predicted", "probability_rows"]

#: Keras's epsilon; the clip bound lossctl reports as "clipped".
EPS = 1e-7
#: Probabilities up to this much above 1 (or below 0) are rounding noise: set to 1 (0) with a note.
PROB_TOLERANCE = 1e-6


def _not_probabilities(pred: np.ndarray, far: np.ndarray, inp: Input, start: int,
                       spec: LossSpec, convention: str) -> DataError:
    """The error for values outside [0, 1], with the fix that fits what they look like."""
    i = int(np.argmax(far.any(axis=1)))
    v = pred[i][far[i]][0]
    if (pred < -PROB_TOLERANCE).any():  # negative scores: logits
        hint = (f"these look like logits: add {opt('from_logits', True)}"
                if "from_logits" in spec.options else "give probabilities in [0, 1]")
    else:  # non-negative, some above 1: counts, percentages or unnormalised scores
        hint = ("none is negative, so these look like counts, percentages or unnormalised "
                "scores rather than logits: divide each row by its sum")
        if spec.keras_renormalises and convention == "torch":
            hint += f" (Keras renormalises such rows: {opt('convention', 'keras')})"
    return DataError(f"prediction {shown(v)} is not a probability (outside [0, 1])",
                     **inp.where(start + i), hint=hint)


def _probabilities(pred: np.ndarray, inp: Input, start: int, spec: LossSpec, convention: str,
                   counters: Any, details: bool, bounds: tuple[float, float] | None,
                   ) -> np.ndarray:
    # whole-array min/max are contiguous SIMD passes; per-row statistics are computed only
    # where something can need them (numpy's axis=1 reductions are slow on short rows)
    if bounds is not None:
        lo, hi = bounds
    else:
        lo = pred.min() if pred.size else 0.5  # an empty block is in range
        hi = pred.max() if pred.size else 0.5
    scores = False  # non-negative scores above 1, which Keras renormalises
    if lo < 0 or hi > 1:
        far = (pred < -PROB_TOLERANCE) | (pred > 1 + PROB_TOLERANCE)
        renormalised = (spec.keras_renormalises and convention != "torch"
                        and lo >= -PROB_TOLERANCE and pred.shape[1] > 1)
        if far.any() and not renormalised:
            raise _not_probabilities(pred, far, inp, start, spec, convention)
        scores = bool(far.any())
        near = (pred < 0) | ((pred > 1) & ~scores)
        counters.rounded += int(near.sum())
        pred = np.clip(pred, 0, None if scores else 1)
        lo, hi = max(lo, 0), hi if scores else min(hi, 1)
    if spec.target in ("dense", "index", "index_or_dense") and pred.shape[1] > 1:
        # row sums, for the warnings only; einsum is 4x faster than sum(axis=1) on short rows
        # and, unlike a BLAS matmul, starts no threads
        sums = np.einsum("ij->i", pred)
        if (sums <= 0).any():  # Keras would divide 0 by 0 (NaN), PyTorch take log(0)
            i = int(np.argmax(sums <= 0))
            raise DataError(
                f"every probability in this row is 0, so it is not a distribution over "
                f"the {pred.shape[1]} classes",
                **inp.where(start + i),
                hint=(f"each row must sum to 1; for scores or logits add "
                      f"{opt('from_logits', True)}") if "from_logits" in spec.options
                else "each row must sum to 1",
            )
        counters.renormalised += int((np.abs(sums - 1) > 1e-3).sum())
        counters.above_one += int((pred > 1).any(axis=1).sum()) if scores else 0
    # rows at the clip bounds (the report's count), and rows saturated at 0/1 (a warning when
    # all are): per-row extremes, only when a report wants them or 0/1 occur
    if (lo < EPS or hi > 1 - EPS) and (details or lo == 0 or hi == 1):
        rmin, rmax = row_min(pred), row_max(pred)
        counters.clipped += int(((rmin < EPS) | (rmax > 1 - EPS)).sum())
        cand = ((rmin == 0) | (rmin == 1)) & ((rmax == 0) | (rmax == 1))
        if cand.any():  # a saturated row has its min and max in {0, 1}
            sat = pred[cand]
            counters.saturated += int(((sat == 0) | (sat == 1)).all(axis=1).sum())
    return pred


def check_domain(pred: np.ndarray, inp: Input, start: int, *, spec: LossSpec,
                 options: dict[str, Any], convention: str, counters: Any,
                 details: bool, bounds: tuple[float, float] | None = None) -> np.ndarray:
    """Check the predictions against what the loss takes with these options; returns them
    (probabilities within rounding noise of [0, 1] clipped into it). ``bounds``: the
    predictions' smallest and largest value, when already known."""
    kind = spec.prediction_kind(options)
    if kind == "probabilities":
        return _probabilities(pred, inp, start, spec, convention, counters, details, bounds)
    if kind == "log-probabilities":
        pos = pred > PROB_TOLERANCE
        if pos.any():
            i = int(np.argmax(pos.any(axis=1)))
            raise DataError(
                f"prediction {shown(pred[i][pos[i]][0])} is not a log-probability (> 0)",
                **inp.where(start + i),
                hint="give log_softmax outputs; for logits use cross_entropy, for "
                "probabilities sparse_categorical_crossentropy",
            )
    return pred


def probability_rows(pred: np.ndarray) -> int:
    """How many rows look like probabilities: values in [0, 1] and, with several columns,
    rows summing to 1 (what a softmax or sigmoid gives, and logits almost never do)."""
    if pred.size == 0:
        return 0
    with np.errstate(over="ignore", invalid="ignore"):  # logits of +-1e308
        unit = ((pred >= 0) & (pred <= 1)).all(axis=1)
        if pred.shape[1] > 1:
            unit &= np.abs(np.einsum("ij->i", pred) - 1) < 1e-3
    return int(unit.sum())


def predicted(pred: np.ndarray, spec: LossSpec, options: dict[str, Any]
              ) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The predicted class of each row and its probability (None where not defined)."""
    if spec.task in ("regression", "similarity", "segmentation", "multi-label"):
        return None, None
    kind = spec.prediction_kind(options)
    p = np.asarray(pred, dtype=np.float64)
    if p.shape[1] == 1:
        x = p[:, 0]
        if kind == "probabilities":
            prob = x
        elif kind == "scores":
            return (x > 0).astype(np.int64), None
        else:
            prob = 1 / (1 + np.exp(-np.clip(x, -700, 700)))
        cls = (prob >= 0.5).astype(np.int64)
        return cls, np.where(cls == 1, prob, 1 - prob)
    if spec.task == "binary":
        return None, None
    cls = np.argmax(p, axis=1).astype(np.int64)
    top = p[np.arange(p.shape[0]), cls]
    if kind == "probabilities":
        s = row_sum(p)  # the same bits on column-major blocks
        conf = np.divide(top, s, out=np.zeros_like(top), where=s > 0)
    elif kind == "log-probabilities":
        conf = np.exp(top)
    elif kind == "scores":
        conf = None
    else:
        m = p.max(axis=1, keepdims=True)
        conf = 1.0 / row_sum(np.exp(p - m))
    return cls, conf
