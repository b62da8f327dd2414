"""Label cells as class labels: parsing and validating the values of a label column.

Shared by the converters (:mod:`lossctl.encoding`): a block of label cells becomes row numbers
and values (:func:`extract`), numbers become int64 labels when they are whole
(:func:`numeric_to_int`), text tokens when they are integers (:func:`tokens_to_int`; anything
else means string labels). Every bad value is a :class:`~lossctl.errors.DataError` naming its
row through the ``location`` callable the caller passes (``Source.location``).
:class:`ClassSpace` is the set of classes a one-hot matrix has columns for.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from lossctl.record import record

import numpy as np

from lossctl.errors import DataError, ShapeError, UsageError, opt

__all__ = [
    "ClassSpace",
    "INT_RE",
    "MAX_EXACT_FLOAT",
    "Location",
    "NotAnInteger",
    "as_2d",
    "default_location",
    "extract",
    "fmt",
    "is_text",
    "numeric_to_int",
    "plural",
    "split_multi_label",
    "tokens_to_int",
]

Location = Callable[[int], str]

#: Largest integer a float64 holds exactly; whole floats beyond it are refused as labels.
MAX_EXACT_FLOAT = 2**53
#: Separators between labels inside one multi-label cell.
_MULTI_SEP = re.compile(r"[;\s]+")


def default_location(row: int) -> str:
    return f"row {row}"


def fmt(value) -> str:
    """A value as the user would recognise it in a message (floats round-trip, strings quoted)."""
    if isinstance(value, (str, np.str_)):
        return repr(str(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))  # round-trips; 3.0 stays 3.0 so the user sees it was a float
    return str(int(value)) if isinstance(value, (int, np.integer)) else str(value)


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {words or word + 's'}"


@record(frozen=True)
class ClassSpace:
    """The set of classes a one-hot matrix has columns for.

    Attributes:
        num_classes: number of columns C.
        offset: integer labels ``offset .. offset+C-1`` map to columns ``0 .. C-1`` (integer mode).
        names: class names in column order (string mode, or integer labels with ``--classes``);
            ``None`` in integer mode.
    """

    num_classes: int
    offset: int = 0
    names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.num_classes < 1:
            raise UsageError(
                f"the number of classes must be at least 1, got {self.num_classes}",
                hint=f"give {opt('num_classes')} N with N >= 1",
            )
        if self.names is not None and len(self.names) != self.num_classes:
            raise UsageError(
                f"{plural(len(self.names), 'class name')} given for {self.num_classes} classes",
                hint=f"give as many {opt('classes')} names as {opt('num_classes')}, or only one of them",
            )

    @property
    def column_names(self) -> Sequence[str]:
        """The label each output column stands for (header of ``onehot --header``): a list, or
        lazily numbered names beyond :data:`~lossctl.io.source.WIDE_COLUMNS` classes."""
        from lossctl.io.source import WIDE_COLUMNS, NumberedNames

        if self.names is not None:
            return list(self.names)
        if self.num_classes > WIDE_COLUMNS:
            return NumberedNames(self.num_classes, self.offset)
        return [str(self.offset + j) for j in range(self.num_classes)]

    def mapping(self) -> list[tuple[str, int]]:
        """``(class, column)`` pairs, column 0-based (what ``sparse`` returns for that class)."""
        return [(name, j) for j, name in enumerate(self.column_names)]


class NotAnInteger(Exception):
    """A string token that is not a number (so the labels are string labels)."""

    def __init__(self, token: str, row: int) -> None:
        super().__init__(token)
        self.token = token
        self.row = row


def split_multi_label(cell: str) -> list[str]:
    """Split one multi-label cell (``"1;3"``, ``"cat dog"``) into its labels; empty -> []."""
    return [t for t in _MULTI_SEP.split(cell.strip()) if t]


def as_2d(data: np.ndarray) -> np.ndarray:
    arr = np.asarray(data)
    if arr.ndim == 1:
        return arr[:, None]
    if arr.ndim != 2:
        raise ShapeError(
            f"labels must be a column (N,) or (N, 1), got an array of shape {arr.shape}",
            hint=f"select the label column with {opt('cols')}",
        )
    return arr


def is_text(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "USO"


def extract(
    data: np.ndarray, *, multi_label: bool, start: int, location: Location
) -> tuple[np.ndarray, np.ndarray, int]:
    """Flatten a label block to (rows, values, n).

    ``rows`` (m,) are block-relative row numbers, ``values`` (m,) the labels: int64 or float64 for
    numeric blocks (validated to be whole numbers by :func:`numeric_to_int`), stripped ``str``
    tokens for text blocks. Single-label mode has exactly one value per row.
    """
    arr = as_2d(data)
    n, k = arr.shape
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if not multi_label:
        if k != 1:
            raise ShapeError(
                f"onehot needs one label column, the input has {k}",
                hint=f"select the label column with {opt('cols')}, use {opt('multi_label', True)} for several "
                f"labels per row, or {opt('class_axis', -1)} to read each row as a sequence of "
                f"{k} labels (one-hot maps (N, {k}, C))",
            )
        col = arr[:, 0]
        rows = np.arange(n, dtype=np.int64)
        if is_text(arr):
            vals = np.char.strip(col.astype(str))
            empty = vals == ""
            if empty.any():
                i = int(np.flatnonzero(empty)[0])
                raise DataError(
                    "missing label (empty cell)",
                    location=location(start + i),
                    hint="fill in the label or remove the row",
                )
            return rows, vals, n
        return rows, col, n
    # multi-label: every non-empty cell of the row, each cell split on ';' and whitespace
    if is_text(arr):
        rows_l: list[int] = []
        vals_l: list[str] = []
        for i in range(n):
            for cell in arr[i]:
                for tok in split_multi_label(str(cell)):
                    rows_l.append(i)
                    vals_l.append(tok)
        return (
            np.asarray(rows_l, dtype=np.int64),
            np.asarray(vals_l, dtype=str) if vals_l else np.empty(0, dtype="<U1"),
            n,
        )
    if arr.dtype.kind == "f":
        present = ~np.isnan(arr)  # empty cells of a numeric label column arrive as NaN
    else:
        present = np.ones(arr.shape, dtype=bool)
    r, c = np.nonzero(present)
    return r.astype(np.int64), arr[r, c], n


def numeric_to_int(
    vals: np.ndarray, rows: np.ndarray, *, start: int, location: Location
) -> np.ndarray:
    """Numeric label values -> int64, refusing NaN, fractions and inexact huge floats."""
    if vals.dtype.kind in "iu":
        return vals.astype(np.int64, copy=False)
    if vals.dtype.kind == "b":
        return vals.astype(np.int64)
    if vals.dtype.kind != "f":
        raise DataError(f"labels of type {vals.dtype} are not supported")
    v = vals.astype(np.float64, copy=False)
    nan = np.isnan(v)
    with np.errstate(invalid="ignore"):
        huge = ~nan & (~np.isfinite(v) | (np.abs(v) > MAX_EXACT_FLOAT))
        frac = ~nan & ~huge & (v != np.floor(v))
    bad = nan | huge | frac
    if bad.any():  # report the first bad row, whatever is wrong with it
        i = int(np.flatnonzero(bad)[0])
        where = location(start + int(rows[i]))
        if nan[i]:
            raise DataError("missing label (empty cell or NaN)", location=where,
                            hint="fill in the label or remove the row")
        if huge[i]:
            raise DataError(
                f"label {fmt(v[i])} is too large to be an exact integer (beyond 2^53 as a float)",
                location=where,
                hint="write labels as plain integers (no decimal point or exponent) "
                "and check the column",
            )
        raise DataError(
            f"label {fmt(v[i])} is not an integer",
            location=where,
            hint=f"class labels must be whole numbers; use sparse {opt('argmax', True)} to turn "
            "scores into labels",
        )
    return v.astype(np.int64)


INT_RE = re.compile(r"[+-]?[0-9]+")


def tokens_to_int(
    vals: np.ndarray, rows: np.ndarray, *, start: int, location: Location
) -> np.ndarray:
    """String tokens -> int64 labels; raises :class:`NotAnInteger` for the first non-number."""
    if vals.size == 0:
        return np.empty(0, dtype=np.int64)
    from lossctl.io.cells import cell_class

    uniq, inverse = np.unique(vals, return_inverse=True)
    inverse = inverse.reshape(-1)
    out = np.empty(len(uniq), dtype=np.int64)
    floats: dict[int, float] = {}
    text: list[int] = []
    for j, tok in enumerate(uniq.tolist()):
        if INT_RE.fullmatch(tok) and -(2**63) <= int(tok) < 2**63:
            out[j] = int(tok)
            continue
        if cell_class(tok.strip()) == "float":  # also beyond int64: refused below as too large
            floats[j] = float(tok)
        else:  # (not float(): Python's also reads 1_000 and other scripts' digits)
            text.append(j)
    if text:  # any non-number makes these string labels: report the first one in row order
        first = {j: int(np.flatnonzero(inverse == j)[0]) for j in text}
        j = min(text, key=first.__getitem__)
        raise NotAnInteger(str(uniq[j]), start + int(rows[first[j]]))
    if floats:  # "3.0" is 3; "2.5", "nan" and "1e20" are errors naming their first row
        js = sorted(floats, key=lambda j: int(np.flatnonzero(inverse == j)[0]))
        pos = np.array([int(np.flatnonzero(inverse == j)[0]) for j in js])
        out[js] = numeric_to_int(np.array([floats[j] for j in js]), rows[pos], start=start,
                                  location=location)
    return out[inverse]

