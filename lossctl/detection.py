"""What an array holds: label encodings and prediction kinds, detected from their values.

:func:`describe_labels` tells class indices (from 0 or 1) from 0/1 columns, -1/+1, one-hot,
multi-hot, soft (probability) rows, string labels and real values; :func:`describe_predictions`
tells probabilities from independent probabilities, log-probabilities, logits and real values.
``inspect`` reports them, and the pipeline's diagnostics use the same statistics.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lossctl.labels import is_text, split_multi_label

__all__ = ["LabelInfo", "PredInfo", "describe_labels", "describe_predictions"]

_SUM_TOL = 1e-4


@dataclass
class LabelInfo:
    """What a label array looks like. JSON-able through :func:`dataclasses.asdict`.

    Attributes:
        encoding: one of ``"index"`` (integers 0..C-1), ``"index_offset"`` (integers from
            ``offset``, e.g. 1-based), ``"binary"`` (one 0/1 column), ``"signed"`` (-1/+1),
            ``"onehot"``, ``"multihot"``, ``"soft"`` (probability rows, or one column of values
            in [0, 1]), ``"string"``, ``"real"`` (anything else), ``"empty"`` (no values).
        rows: N.
        columns: number of columns (1 for a 1-D array).
        num_classes: C implied by the encoding (None for real/soft single column/empty).
        offset: the first label for ``index_offset`` (0 otherwise).
        classes: the classes found (label values, or column indices for one/multi-hot/soft).
        counts: rows per class, aligned with ``classes`` (column sums for one/multi-hot;
            arg-max counts for soft rows).
        nan: number of NaN cells (ignored by the detection).
        reason: one sentence explaining the decision.
    """

    encoding: str
    rows: int
    columns: int
    num_classes: int | None = None
    offset: int = 0
    classes: list = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    nan: int = 0
    reason: str = ""


def _py(v):
    if isinstance(v, np.generic):
        return v.item()
    return v


def describe_labels(arr) -> LabelInfo:
    """Detect the encoding of a label array (see :class:`LabelInfo` for the encodings).

    Args:
        arr: (N,) or (N, k) labels: numbers or strings.

    Returns:
        A :class:`LabelInfo`.
    """
    a = np.asarray(arr)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    a = a.reshape(a.shape[0], -1) if a.ndim != 2 else a
    n, k = a.shape
    if a.dtype.kind == "b":
        a = a.astype(np.int64)
    if a.size == 0:
        return LabelInfo("empty", n, k, reason="the array has no values")
    if is_text(a):
        toks: list[str] = []
        for cell in a.reshape(-1).tolist():
            toks.extend(split_multi_label(str(cell)))
        toks = [t for t in toks if t]
        uniq, counts = np.unique(np.asarray(toks, dtype=str), return_counts=True) if toks \
            else (np.empty(0, dtype=str), np.empty(0, dtype=np.int64))
        return LabelInfo("string", n, k, num_classes=len(uniq), classes=uniq.tolist(),
                         counts=[int(c) for c in counts],
                         reason=f"text labels: {len(uniq)} distinct values")
    x = a.astype(np.float64)
    nan_mask = np.isnan(x)
    nan = int(nan_mask.sum())
    ok_rows = ~nan_mask.any(axis=1)
    xv = x[ok_rows]
    if xv.size == 0:
        return LabelInfo("empty", n, k, nan=nan, reason="every row has a NaN")
    finite = bool(np.isfinite(xv).all())
    integral = finite and bool((xv == np.floor(xv)).all())
    if k == 1:
        v = xv[:, 0]
        if integral:
            vals, counts = np.unique(v.astype(np.int64), return_counts=True)
            lo, hi = int(vals[0]), int(vals[-1])
            classes = [int(c) for c in vals]
            cnt = [int(c) for c in counts]
            if set(classes) <= {0, 1}:
                return LabelInfo("binary", n, k, num_classes=2, classes=classes, counts=cnt,
                                 nan=nan, reason="one column of 0/1 values")
            if set(classes) <= {-1, 1}:
                return LabelInfo("signed", n, k, num_classes=2, classes=classes, counts=cnt,
                                 nan=nan, reason="one column of -1/+1 values")
            if lo == 0:
                return LabelInfo("index", n, k, num_classes=hi + 1, classes=classes, counts=cnt,
                                 nan=nan, reason=f"integers 0..{hi}")
            if lo >= 1 and (lo == 1 or len(classes) == hi - lo + 1):
                return LabelInfo("index_offset", n, k, num_classes=hi - lo + 1, offset=lo,
                                 classes=classes, counts=cnt, nan=nan,
                                 reason=f"integers {lo}..{hi}: labels start at {lo}")
            if lo > 1:
                return LabelInfo("index", n, k, num_classes=hi + 1, classes=classes, counts=cnt,
                                 nan=nan, reason=f"integers {lo}..{hi} with gaps; "
                                 f"classes 0..{lo - 1} absent")
            return LabelInfo("real", n, k, classes=[], counts=[], nan=nan,
                             reason=f"integers with negative values (down to {lo})")
        if finite and v.min() >= 0 and v.max() <= 1:
            return LabelInfo("soft", n, k, nan=nan,
                             reason="one column of values in [0, 1], not all 0/1 "
                             "(soft binary targets)")
        return LabelInfo("real", n, k, nan=nan, reason="real values")
    # several columns
    if integral:
        uniq = set(np.unique(xv).tolist())
        if uniq <= {0.0, 1.0}:
            col_counts = [int(c) for c in xv.sum(axis=0)]
            sums = xv.sum(axis=1)
            if bool((sums == 1).all()):
                return LabelInfo("onehot", n, k, num_classes=k, classes=list(range(k)),
                                 counts=col_counts, nan=nan,
                                 reason="every row has exactly one 1")
            return LabelInfo("multihot", n, k, num_classes=k, classes=list(range(k)),
                             counts=col_counts, nan=nan,
                             reason=f"0/1 rows; {int((sums != 1).sum())} rows have no or "
                             "several ones")
        if uniq <= {-1.0, 1.0}:
            return LabelInfo("signed", n, k, num_classes=k, classes=list(range(k)),
                             counts=[int(c) for c in (xv == 1).sum(axis=0)], nan=nan,
                             reason="-1/+1 values in every column")
    if finite and xv.min() >= 0 and xv.max() <= 1:
        sums = xv.sum(axis=1)
        if bool((np.abs(sums - 1) <= _SUM_TOL).all()):
            am = np.argmax(xv, axis=1)
            return LabelInfo("soft", n, k, num_classes=k, classes=list(range(k)),
                             counts=[int(c) for c in np.bincount(am, minlength=k)], nan=nan,
                             reason="rows of values in [0, 1] summing to 1 (probability rows)")
        return LabelInfo("real", n, k, nan=nan,
                         reason="values in [0, 1] whose rows do not sum to 1")
    return LabelInfo("real", n, k, nan=nan, reason="real values")


@dataclass
class PredInfo:
    """What a prediction array looks like. JSON-able through :func:`dataclasses.asdict`.

    Attributes:
        kind: ``"probabilities"`` (values in [0, 1], rows of >= 2 columns summing to 1),
            ``"independent_probabilities"`` (values in [0, 1], rows not summing to 1, or a
            single column), ``"log_probabilities"`` (values <= 0 whose rows have logsumexp ~ 0),
            ``"logits"`` (scores outside [0, 1]: several columns, or one column with both signs),
            ``"real"`` (anything else, e.g. a positive regression output), ``"empty"``.
        rows, columns: the shape (a 1-D array is one column).
        min, max: over the finite values (None if there are none).
        nan, posinf, neginf: counts of non-finite cells (the detection ignores rows holding
            NaN or +inf; -inf is a valid log-probability).
        rows_not_summing_to_one: finite rows (>= 2 columns) whose sum differs from 1 by more
            than 1e-4; None for one column.
        first_row_not_summing_to_one: 0-based index of the first such row.
        reason: one sentence explaining the decision.
    """

    kind: str
    rows: int
    columns: int
    min: float | None = None
    max: float | None = None
    nan: int = 0
    posinf: int = 0
    neginf: int = 0
    rows_not_summing_to_one: int | None = None
    first_row_not_summing_to_one: int | None = None
    reason: str = ""


def describe_predictions(arr) -> PredInfo:
    """Detect what kind of predictions an array holds (see :class:`PredInfo`).

    Args:
        arr: (N,) or (N, C) numeric predictions.

    Returns:
        A :class:`PredInfo`.
    """
    a = np.asarray(arr)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    a = a.reshape(a.shape[0], -1) if a.ndim != 2 else a
    n, k = a.shape
    if is_text(a):
        return PredInfo("real", n, k, reason="text values; predictions must be numbers")
    x = a.astype(np.float64)
    info = PredInfo("empty", n, k, nan=int(np.isnan(x).sum()),
                    posinf=int(np.isposinf(x).sum()), neginf=int(np.isneginf(x).sum()))
    fin = np.isfinite(x)
    if fin.any():
        info.min = float(x[fin].min())
        info.max = float(x[fin].max())
    if x.size == 0:
        info.reason = "the array has no values"
        return info
    usable = ~(np.isnan(x) | np.isposinf(x)).any(axis=1)
    if k >= 2:
        rows_fin = fin.all(axis=1)
        s = x[rows_fin].sum(axis=1)
        off = np.abs(s - 1.0) > _SUM_TOL
        info.rows_not_summing_to_one = int(off.sum())
        if off.any():
            first = np.flatnonzero(off)[0]
            info.first_row_not_summing_to_one = int(np.flatnonzero(rows_fin)[first])
    xv = x[usable]
    if xv.size == 0:
        info.reason = "no row is free of NaN/+inf"
        return info
    has_neginf = bool(np.isneginf(xv).any())
    if not has_neginf and xv.min() >= 0 and xv.max() <= 1:
        if k >= 2 and bool((np.abs(xv.sum(axis=1) - 1.0) <= _SUM_TOL).all()):
            info.kind, info.reason = "probabilities", "values in [0, 1], rows sum to 1"
        else:
            info.kind = "independent_probabilities"
            info.reason = ("one column of values in [0, 1]" if k == 1
                           else "values in [0, 1], rows do not all sum to 1")
        return info
    if k >= 2 and xv.max() <= 0:
        m = xv.max(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lse = (m + np.log(np.exp(xv - m).sum(axis=1, keepdims=True)))[:, 0]
        if bool((np.abs(lse) <= _SUM_TOL).all()):
            info.kind, info.reason = "log_probabilities", "values <= 0, rows have logsumexp 0"
            return info
    fv = xv[np.isfinite(xv)]
    if k >= 2:
        info.kind, info.reason = "logits", "scores outside [0, 1] in several columns"
    elif fv.size and fv.min() < 0 < fv.max():
        info.kind, info.reason = "logits", "one column with negative and positive scores"
    else:
        info.kind, info.reason = "real", "one column of values outside [0, 1] of one sign"
    return info
