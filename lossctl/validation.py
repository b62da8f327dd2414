"""Checks on the inputs of a computation, each naming the file, the row and the fix.

The engine calls these on every block before a loss function sees it: shapes (``as_2d``), text
where numbers belong, NaN and infinities, class-index labels (whole numbers in range, string
labels through the class names, ``offset``, ``ignore_class``), dense targets, sample weights.
Every error names its input through :class:`Input` (its role, the source it was read from and
how to locate a row there) and options through :func:`lossctl.errors.opt`.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from lossctl.record import record
from typing import Any

import numpy as np

from lossctl.errors import DataError, ShapeError, opt
from lossctl.losses.spec import LossSpec

__all__ = [
    "Input",
    "as_2d",
    "check_finite",
    "dense_target",
    "finite_bounds",
    "index_labels",
    "sample_weights",
    "shown",
    "text_error",
    "whole_labels",
]

#: The column-selection option of each input role (named in "select the columns" hints).
COLUMN_OPTION = {"y_true": "true_cols", "y_pred": "pred_cols", "sample_weight": "weight_cols"}


@record
class Input:
    """One input of a computation: its role, the source it came from, how to locate a row."""

    role: str
    name: str | None = None
    locate: Callable[[int], str] | None = None

    def where(self, row: int) -> dict[str, Any]:
        """The ``source``, ``row`` and ``location`` fields of an error about ``row``."""
        row = int(row)
        return {
            "source": self.name,
            "row": row,
            "location": self.locate(row) if self.locate else f"row {row}",
        }

    @property
    def label(self) -> str:
        """How messages refer to it: the source name, or the role for arrays."""
        return self.name or self.role


def shown(v: Any) -> str:
    """A value as a message shows it: exactly (2.9999999999 is not rounded to 3), whole numbers
    without a fraction (2.0 -> 2)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if f.is_integer() and abs(f) < 2**63:
        return str(int(f))
    return repr(f)


def as_2d(a: Any, inp: Input) -> np.ndarray:
    """An input as a 2-D ``(N, C)`` array (a 1-D array is one column; bools become 0/1)."""
    arr = np.asarray(a)
    what = opt(inp.role)
    if arr.ndim == 0:
        raise ShapeError(f"{what} is a single value, not one row per sample", source=inp.name,
                         hint="give an (N,) or (N, C) array")
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ShapeError(f"{what} has shape {arr.shape}; lossctl takes (N,) or (N, C)",
                         source=inp.name, hint="give an (N,) or (N, C) array")
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    return arr


_NUMBER = re.compile(
    r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*"
    r"|\s*[+-]?(nan|inf|infinity)\s*"
    r"|\s*(na|n/a|null|none)?\s*",  # the readers' missing values
    re.ASCII | re.IGNORECASE,
)


def text_error(a: np.ndarray, inp: Input, start: int, what: str) -> DataError:
    """The error for text where numbers belong, naming the first cell that is not a number."""
    option = COLUMN_OPTION.get(inp.role, "cols")
    for i, row in enumerate(np.asarray(a).reshape(a.shape[0], -1)):
        for v in row:
            if not _NUMBER.fullmatch(str(v)):  # stricter than float(): no '1_000', no '١'
                return DataError(
                    f"{what} {str(v)!r} is not a number",
                    **inp.where(start + i),
                    hint=f"fix or remove the row, or select the numeric columns with {opt(option)}",
                )
    return DataError(f"{what}s must be numbers, found text", source=inp.name,
                     hint=f"select the numeric columns with {opt(option)}")


def check_finite(a: np.ndarray, inp: Input, start: int, what: str) -> None:
    """Raise for the first NaN/inf, naming its row. One sum first: NaN and +-inf propagate
    into it, so the (N, C) boolean mask is built only when something is wrong."""
    if a.dtype.kind != "f" or a.size == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(a, axis=None)):  # NaN/inf propagate into a sum
            return  # (an overflowing sum of finite values falls through to the mask)
    bad = ~np.isfinite(a)
    if bad.any():
        i = int(np.argmax(bad.any(axis=1)))
        v = a[i][bad[i]][0]
        raise DataError(
            f"{what} {v} is not a finite number",
            **inp.where(start + i),
            hint="remove or fix the row; NaN usually means the model diverged upstream",
        )


def finite_bounds(a: np.ndarray, inp: Input, start: int, what: str) -> tuple[float, float] | None:
    """:func:`check_finite`, returning the smallest and largest value (``None`` for an empty
    or non-float array): NaN and +-inf propagate into the minimum or maximum, so the two
    passes that find the range also find a value that is not finite."""
    if a.dtype.kind != "f" or a.size == 0:
        return None
    lo, hi = a.min(), a.max()
    if not (np.isfinite(lo) and np.isfinite(hi)):
        check_finite(a, inp, start, what)
    return float(lo), float(hi)


def _first_row(mask: np.ndarray) -> int:
    return int(np.argmax(mask.reshape(mask.shape[0], -1).any(axis=1)))


def whole_labels(a: np.ndarray, inp: Input, start: int) -> np.ndarray:
    """Float labels that are whole numbers -> int64; anything else is an error."""
    if a.dtype.kind in "iu":
        return a.astype(np.int64)
    if a.dtype.kind != "f":
        raise DataError("labels must be numbers", source=inp.name)
    flat = a.reshape(a.shape[0], -1)
    too_large = "class labels are small integers 0..C-1: check the label column"
    bad = ~np.isfinite(a)
    if bad.any():
        i = _first_row(bad)
        if np.isinf(flat[i][0]):  # 'inf', or an integer of 400 digits
            raise DataError(f"label {flat[i][0]} is too large to be a class index",
                            **inp.where(start + i), hint=too_large)
        raise DataError(f"label {flat[i][0]} is missing or not a number",
                        **inp.where(start + i), hint="every row needs a class label")
    frac = a != np.round(a)
    if frac.any():
        i = _first_row(frac)
        v = flat[i][frac.reshape(a.shape[0], -1)[i]][0]
        raise DataError(
            f"label {shown(v)} is not a whole number",
            **inp.where(start + i),
            hint="class labels must be integers (Keras would truncate it, PyTorch refuses it)",
        )
    if np.abs(a).max(initial=0) > 2**53:
        i = _first_row(np.abs(a) > 2**53)
        raise DataError(f"label {shown(flat[i][0])} is too large to be a class index",
                        **inp.where(start + i), hint=too_large)
    return a.astype(np.int64)


def _string_labels(col: np.ndarray, classes: Sequence[str] | None, inp: Input,
                   start: int) -> np.ndarray:
    if not classes:
        _mostly_numbers(col, inp, start)
        raise DataError(
            "labels are strings but the class names are unknown",
            source=inp.name,
            hint=f"give {opt('classes')} in the order of the prediction columns, or a "
            "prediction file whose header names the classes",
        )
    lookup = {name: i for i, name in enumerate(classes)}
    out = np.empty(col.shape[0], dtype=np.int64)
    for i, v in enumerate(col):
        s = str(v).strip()
        if s not in lookup:
            raise DataError(
                f"label {s!r} is not one of the classes {', '.join(classes)}",
                **inp.where(start + i),
                hint=f"check {opt('classes')} or the prediction header",
            )
        out[i] = lookup[s]
    return out


def _mostly_numbers(col: np.ndarray, inp: Input, start: int) -> None:
    """Labels that are numbers but for some cells (``1_000``, ``3 ``x``) are a bad cell, not
    string labels: the error names the first such cell."""
    from lossctl.io.cells import cell_class

    uniq, first = np.unique(np.char.strip(col.astype(str)), return_index=True)
    numeric = np.array([cell_class(u) in ("int", "float") for u in uniq.tolist()])
    if not numeric.any() or numeric.all():
        return
    j = int(np.argmin(np.where(numeric, len(col), first)))
    raise DataError(
        f"label {str(uniq[j])!r} is not a number, but the other labels are",
        **inp.where(start + int(first[j])),
        hint="fix this cell (digit grouping such as 1_000 or 1,000 is not read as a number)",
    )


def _index_shape_error(spec: LossSpec, true: np.ndarray, c: int, inp: Input) -> ShapeError:
    if true.shape[1] == c and c > 1:
        hint = ("use categorical_crossentropy for one-hot labels, or convert them with "
                "`lossctl sparse`")
        if spec.target == "index_or_dense":
            hint = f"{spec.name} takes them as probability targets only when they have C columns"
        return ShapeError(
            f"{spec.name} takes one column of class indices, but {opt('y_true')} has {c} "
            "columns (it looks one-hot): Keras would fail with 'logits and labels must have "
            "the same first dimension'",
            source=inp.name,
            hint=hint,
        )
    return ShapeError(
        f"{spec.name} takes one column of class indices, but {opt('y_true')} has "
        f"{true.shape[1]} columns",
        source=inp.name,
        hint=f"select the label column with {opt('true_cols')}",
    )


def index_labels(
    true: np.ndarray,
    c: int,
    inp: Input,
    start: int,
    *,
    spec: LossSpec,
    classes: Sequence[str] | None,
    offset: int,
    ignore_class: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """One column of class labels -> (int64 indices in [0, c), valid mask).

    Ignored rows (``ignore_class``) are valid=False and index 0. A label out of range is an
    error whose hint is the fix that fits: ``offset=1`` for 1..C labels, ``ignore_class`` for
    a negative padding value.
    """
    if true.shape[1] != 1:
        raise _index_shape_error(spec, true, c, inp)
    if c == 1:
        raise ShapeError(
            f"{spec.name} needs one prediction column per class, but {opt('y_pred')} has 1 "
            "column",
            hint="for a binary problem with P(positive) in one column use binary_crossentropy",
        )
    col = true[:, 0]
    if col.dtype.kind in "US":
        raw = labels = _string_labels(col, classes, inp, start)
    else:
        raw = whole_labels(col, inp, start)
        labels = raw - offset if offset else raw
    valid = np.ones(labels.shape[0], dtype=bool) if ignore_class is None else raw != ignore_class
    bad = (labels < 0) | (labels >= c)
    if ignore_class is not None:
        bad &= valid
    if bad.any():
        i = int(np.argmax(bad))
        v = int(raw[i])
        lo, hi = offset, offset + c
        if v == 255 and "ignore_class" in spec.features and ignore_class is None:
            hint = ("255 marks void pixels (unlabelled or object borders) in segmentation "
                    f"masks such as Pascal VOC's: use {opt('ignore_class', 255)}")
        elif labels[i] == c and offset == 0:
            hint = f"labels look like 1..{c}: use {opt('offset', 1)}"
        elif labels[i] < 0 and offset == 0:
            hint = (f"if {v} marks padding or unlabelled rows, use {opt('ignore_class', v)}"
                    if "ignore_class" in spec.features else "class labels must be 0 or more")
        else:
            hint = f"{opt('y_pred')} has {c} columns, so labels must lie in [{lo}, {hi})"
        raise DataError(f"label {v} is out of range [{lo}, {hi})", **inp.where(start + i),
                        hint=hint)
    return (labels if ignore_class is None else np.where(valid, labels, 0)), valid


def _dense_width_error(spec: LossSpec, true: np.ndarray, c: int, inp: Input) -> ShapeError:
    if true.shape[1] == 1 and c > 1:
        t = np.asarray(true)
        whole = t.dtype.kind in "iu" or bool(np.all(t == np.round(t.astype(float))))
        kind = "class indices" if whole else "values"
        alt = spec.index_alternative or "sparse_categorical_crossentropy"
        return ShapeError(
            f"these labels are one column of {kind}, while the predictions have {c} "
            f"columns: {spec.name} would fail with 'Shapes (N, 1) and (N, {c}) are "
            f"incompatible'",
            source=inp.name,
            hint=f"use {alt}, or convert with `lossctl onehot {inp.name or 'LABELS'} -n {c}`",
        )
    return ShapeError(
        f"{opt('y_true')} has {true.shape[1]} columns but {opt('y_pred')} has {c}",
        source=inp.name,
        hint=f"select matching columns with {opt('true_cols')} / {opt('pred_cols')}",
    )


def dense_target(
    true: np.ndarray,
    c: int,
    inp: Input,
    start: int,
    *,
    spec: LossSpec,
    dtype: np.dtype,
    options: dict[str, Any],
) -> np.ndarray:
    """Targets with one column per prediction column, as floats; values the loss cannot
    take (labels outside [0, 1] for binary and probability targets) are errors."""
    if true.dtype.kind in "US":
        raise DataError(
            f"{spec.name} takes numeric targets, but {opt('y_true')} holds text labels",
            source=inp.name,
            hint=f"use sparse_categorical_crossentropy with {opt('classes')}, or convert with "
            "`lossctl onehot`",
        )
    if true.shape[1] != c:
        raise _dense_width_error(spec, true, c, inp)
    t = true.astype(dtype, copy=False)
    check_finite(t, inp, start, "label")
    check_unit = spec.target == "binary" or (
        spec.target == "dense" and spec.prediction == "probabilities"
    )
    if options.get("log_target"):
        check_unit = False  # y_true holds log-probabilities (PyTorch kl_div log_target=True)
    if check_unit:
        out = (t < 0) | (t > 1)
        if out.any():
            i = int(np.argmax(out.any(axis=1)))
            v = t[i][out[i]][0]
            hint = ("binary labels must be 0/1 (or probabilities)" if spec.target == "binary"
                    else "targets must be one-hot or probability rows")
            if spec.target == "binary" and c == 1 and v == int(v) and v > 1:
                hint = ("several classes in one column are class indices: use "
                        "sparse_categorical_crossentropy")
            raise DataError(f"label {shown(v)} is outside [0, 1]", **inp.where(start + i), hint=hint)
    return t


def sample_weights(sw: Any, n: int, inp: Input, start: int) -> np.ndarray:
    """One finite, non-negative weight per row, as float64."""
    arr = np.asarray(sw)
    if arr.dtype.kind not in "fiub":
        raise text_error(arr.reshape(arr.shape[0] if arr.ndim else 1, -1), inp, start,
                         "sample weight")
    w = np.asarray(arr, dtype=np.float64).reshape(-1)
    if w.shape[0] != n:
        from lossctl import mismatch

        raise mismatch.rows([("y_pred", None, n), ("sample_weight", inp.name, w.shape[0])])
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"sample weight {shown(w[i])} is not a finite non-negative number",
                        **inp.where(start + i), hint="weights must be 0 or more")
    return w
