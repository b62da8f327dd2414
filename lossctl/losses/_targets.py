"""Shared helpers of the classification losses: targets, per-class vectors, label smoothing.

Private to :mod:`lossctl.losses.binary` and :mod:`lossctl.losses.categorical`.
"""
from __future__ import annotations

import numpy as np

from lossctl.errors import DataError, ShapeError, UsageError, opt
from lossctl.losses._numerics import xlogy_from_log

#: ``keras.backend.epsilon()``: probabilities are clipped to ``[1e-7, 1 - 1e-7]``.
KERAS_EPSILON = 1e-7
#: ``torch.nn.functional.binary_cross_entropy`` clamps each log term at ``-100``.
TORCH_LOG_CLAMP = -100.0



def _check_smoothing(label_smoothing: float) -> float:
    ls = float(label_smoothing)
    if not 0.0 <= ls <= 1.0:
        raise UsageError(
            f"{opt('label_smoothing')} must be in [0, 1], got {label_smoothing}",
            hint="Keras and PyTorch both require 0 <= label_smoothing <= 1",
        )
    return ls


def _dense(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Dense targets in the dtype of ``y_pred`` (index targets are one-hot encoded)."""
    y_true = np.asarray(y_true)
    n, c = y_pred.shape
    if y_true.ndim == 1:
        return _one_hot(_indices(y_true, c), c, y_pred.dtype)
    if y_true.shape != y_pred.shape:
        raise ShapeError(
            f"targets have shape {y_true.shape} but predictions have shape {y_pred.shape}",
            hint="dense targets need one column per class",
        )
    return y_true.astype(y_pred.dtype, copy=False)


def _indices(y_true: np.ndarray, num_classes: int) -> np.ndarray:
    """Index targets as a 1-D int64 array; a (N, 1) column is accepted."""
    y_true = np.asarray(y_true)
    if y_true.ndim == 2 and y_true.shape[1] == 1:
        y_true = y_true[:, 0]
    if y_true.ndim != 1:
        raise ShapeError(
            f"this loss takes class indices of shape (N,), got targets of shape {y_true.shape}",
            hint="convert one-hot targets to indices with `lossctl sparse`, "
            "or use the categorical form of the loss",
        )
    if not np.issubdtype(y_true.dtype, np.integer):
        raise ShapeError(
            f"class indices must be integers, got dtype {y_true.dtype}",
        )
    y_true = y_true.astype(np.int64, copy=False)
    # The engine validates labels first; this guard only stops numpy from silently wrapping a
    # negative index (or raising IndexError) if an unvalidated label ever gets here.
    if y_true.size and (y_true.min() < 0 or y_true.max() >= num_classes):
        bad = int(y_true[(y_true < 0) | (y_true >= num_classes)][0])
        raise DataError(
            f"class index {bad} is out of range [0, {num_classes})",
            hint=f"labels must be 0..C-1 (use {opt('offset', 1)} for labels 1..C)",
        )
    return y_true


def _one_hot(idx: np.ndarray, num_classes: int, dtype) -> np.ndarray:
    out = np.zeros((idx.shape[0], num_classes), dtype=dtype)
    out[np.arange(idx.shape[0]), idx] = 1
    return out


def _per_class(value, num_classes: int, dtype, name: str) -> np.ndarray | None:
    """A scalar or a length-C vector as a (C,) array in ``dtype`` (None stays None)."""
    if value is None:
        return None
    arr = np.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return np.full(num_classes, arr, dtype=dtype)
    arr = arr.reshape(-1)
    if arr.shape[0] != num_classes:
        raise UsageError(
            f"{opt(name)} has {arr.shape[0]} values but the predictions have {num_classes} "
            "classes", hint=f"give one {opt(name)} value per class (or a single value for all)",
            option=name)
    return arr


def _keras_clip(p: np.ndarray) -> np.ndarray:
    """``np.clip(p, 1e-7, 1 - 1e-7)``, or ``p`` itself when no value lies outside (two
    reductions over a block in cache cost less than the copy a clip that changes nothing
    writes: 10M x 10 probabilities, a tenth of the loss's time)."""
    lo, hi = (p.min(), p.max()) if p.size else (KERAS_EPSILON, KERAS_EPSILON)
    if KERAS_EPSILON <= lo and hi <= 1.0 - KERAS_EPSILON:  # False for NaN: clipped (kept NaN)
        return p
    return np.clip(p, KERAS_EPSILON, 1.0 - KERAS_EPSILON)


def _gather(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[i, idx[i]]`` for each row: one ``take`` from the flat array when ``a`` is
    contiguous, row- or column-major (twice as fast as the two-array fancy index)."""
    n, c = a.shape
    if a.flags.c_contiguous and n:
        flat = np.arange(0, n * c, c, dtype=np.intp)
        flat += idx
        return a.reshape(-1).take(flat)
    if a.flags.f_contiguous and n:
        flat = idx * n
        flat += np.arange(n, dtype=np.intp)
        return a.T.reshape(-1).take(flat)
    return a[np.arange(n), idx]


def _wmul(w: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``w * v`` where a zero weight contributes exactly 0 (even against an infinite ``v``)."""
    return xlogy_from_log(w, v)
