"""Label encodings: integer/string labels <-> one-hot, and label/prediction detection.

Everything here is plain numpy and works on row *blocks*, so a file larger than memory can be
streamed through it (see :class:`OneHotEncoder` and :class:`SparseDecoder`). The whole-array
helpers :func:`onehot` and :func:`sparse` wrap the block API for library users.

Unlike the framework utilities this module is strict where they are silent (see section 7 of the
reference on label encodings): an out-of-range or negative label is an error, never a row of
zeros (``tf.one_hot``, ``jax.nn.one_hot``) or a wrap-around (``keras.utils.to_categorical`` maps
``-1`` to the last class); string classes are ordered by their sorted values and the mapping is
reported, never a silent rank mapping (``sklearn.preprocessing.LabelBinarizer``); float labels
must be whole numbers (``to_categorical`` truncates ``1.7`` to ``1``).

Errors are :class:`lossctl.errors.DataError` (bad values), :class:`~lossctl.errors.ShapeError`
(wrong number of columns) or :class:`~lossctl.errors.UsageError` (options that contradict each
other). They name the row through the ``location`` callable the caller passes (for example
``Source.location``, which turns a 0-based data row into ``"line 12"`` or ``"row 11"``), the
offending value, and the fix. Decisions taken for the user (inferred number of classes, class
order, tie breaks) are reported once through :func:`lossctl.errors.note`.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from lossctl.errors import DataError, ShapeError, UsageError, note

__all__ = [
    "ClassSpace",
    "LabelInfo",
    "OneHotEncoder",
    "PredInfo",
    "SparseDecoder",
    "describe_labels",
    "describe_predictions",
    "onehot",
    "sparse",
    "split_multi_label",
]

Location = Callable[[int], str]

#: Largest integer a float64 holds exactly; whole floats beyond it are refused as labels.
MAX_EXACT_FLOAT = 2**53
#: Output cells per converted chunk: a (rows, C) one-hot chunk is cut so rows * C stays below this.
MAX_CHUNK_CELLS = 1 << 22
#: Inferring more classes than this from the largest label is refused (almost always a data error).
MAX_INFERRED_CLASSES = 1_000_000
#: Separators between labels inside one multi-label cell.
_MULTI_SEP = re.compile(r"[;\s]+")
#: Class names listed in full in a note; longer mappings are cut (use --mapping FILE).
_NOTE_CLASSES = 20


def _default_location(row: int) -> str:
    return f"row {row}"


def _fmt(value) -> str:
    """A value as the user would recognise it in a message (floats round-trip, strings quoted)."""
    if isinstance(value, (str, np.str_)):
        return repr(str(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))  # round-trips; 3.0 stays 3.0 so the user sees it was a float
    return str(int(value)) if isinstance(value, (int, np.integer)) else str(value)


def _plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {words or word + 's'}"


# ------------------------------------------------------------------------------------------------
# Class spaces
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
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
                hint="give -n/--num-classes N with N >= 1",
            )
        if self.names is not None and len(self.names) != self.num_classes:
            raise UsageError(
                f"{_plural(len(self.names), 'class name')} given for {self.num_classes} classes",
                hint="give as many --classes names as -n/--num-classes, or only one of them",
            )

    @property
    def column_names(self) -> list[str]:
        """The label each output column stands for (header of ``onehot --header``)."""
        if self.names is not None:
            return list(self.names)
        return [str(self.offset + j) for j in range(self.num_classes)]

    def mapping(self) -> list[tuple[str, int]]:
        """``(class, column)`` pairs, column 0-based (what ``sparse`` returns for that class)."""
        return [(name, j) for j, name in enumerate(self.column_names)]


# ------------------------------------------------------------------------------------------------
# Parsing label cells
# ------------------------------------------------------------------------------------------------


class _NotAnInteger(Exception):
    """A string token that is not a number (so the labels are string labels)."""

    def __init__(self, token: str, row: int) -> None:
        super().__init__(token)
        self.token = token
        self.row = row


def split_multi_label(cell: str) -> list[str]:
    """Split one multi-label cell (``"1;3"``, ``"cat dog"``) into its labels; empty -> []."""
    return [t for t in _MULTI_SEP.split(cell.strip()) if t]


def _as_2d(data: np.ndarray) -> np.ndarray:
    arr = np.asarray(data)
    if arr.ndim == 1:
        return arr[:, None]
    if arr.ndim != 2:
        raise ShapeError(
            f"labels must be a column (N,) or (N, 1), got an array of shape {arr.shape}",
            hint="select the label column with --cols",
        )
    return arr


def _is_text(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "USO"


def _extract(
    data: np.ndarray, *, multi_label: bool, start: int, location: Location
) -> tuple[np.ndarray, np.ndarray, int]:
    """Flatten a label block to (rows, values, n).

    ``rows`` (m,) are block-relative row numbers, ``values`` (m,) the labels: int64 or float64 for
    numeric blocks (validated to be whole numbers by :func:`_numeric_to_int`), stripped ``str``
    tokens for text blocks. Single-label mode has exactly one value per row.
    """
    arr = _as_2d(data)
    n, k = arr.shape
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    if not multi_label:
        if k != 1:
            raise ShapeError(
                f"onehot needs one label column, the input has {k}",
                hint="select the label column with --cols, or use --multi-label for several "
                "label columns per row",
            )
        col = arr[:, 0]
        rows = np.arange(n, dtype=np.int64)
        if _is_text(arr):
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
    if _is_text(arr):
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


def _numeric_to_int(
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
                f"label {_fmt(v[i])} is too large to be an exact integer (beyond 2^53 as a float)",
                location=where,
                hint="write labels as plain integers (no decimal point or exponent) "
                "and check the column",
            )
        raise DataError(
            f"label {_fmt(v[i])} is not an integer",
            location=where,
            hint="class labels must be whole numbers; use sparse --argmax to turn "
            "scores into labels",
        )
    return v.astype(np.int64)


_INT_RE = re.compile(r"[+-]?\d+")


def _tokens_to_int(
    vals: np.ndarray, rows: np.ndarray, *, start: int, location: Location
) -> np.ndarray:
    """String tokens -> int64 labels; raises :class:`_NotAnInteger` for the first non-number."""
    if vals.size == 0:
        return np.empty(0, dtype=np.int64)
    uniq, inverse = np.unique(vals, return_inverse=True)
    inverse = inverse.reshape(-1)
    out = np.empty(len(uniq), dtype=np.int64)
    floats: dict[int, float] = {}
    text: list[int] = []
    for j, tok in enumerate(uniq.tolist()):
        if _INT_RE.fullmatch(tok) and -(2**63) <= int(tok) < 2**63:
            out[j] = int(tok)
            continue
        try:  # beyond int64 too: float() makes it huge or inf, refused below as too large
            floats[j] = float(tok)
        except ValueError:
            text.append(j)
    if text:  # any non-number makes these string labels: report the first one in row order
        first = {j: int(np.flatnonzero(inverse == j)[0]) for j in text}
        j = min(text, key=first.__getitem__)
        raise _NotAnInteger(str(uniq[j]), start + int(rows[first[j]]))
    if floats:  # "3.0" is 3; "2.5", "nan" and "1e20" are errors naming their first row
        js = sorted(floats, key=lambda j: int(np.flatnonzero(inverse == j)[0]))
        pos = np.array([int(np.flatnonzero(inverse == j)[0]) for j in js])
        out[js] = _numeric_to_int(np.array([floats[j] for j in js]), rows[pos], start=start,
                                  location=location)
    return out[inverse]


# ------------------------------------------------------------------------------------------------
# One-hot encoding
# ------------------------------------------------------------------------------------------------


class OneHotEncoder:
    """Integer or string labels -> one-hot (or multi-hot) rows, block by block.

    With ``num_classes`` or ``classes`` known, every block converts on its own
    (:meth:`transform`). Otherwise the classes are inferred from a first pass over all blocks
    (:meth:`scan` each block, then :meth:`finish_scan`); the caller reads a file twice, or keeps
    the label blocks of a stream (labels are small: 8 bytes per integer label).

    Integer labels ``offset .. offset+C-1`` become columns ``0 .. C-1``. Whole floats such as
    ``3.0`` are accepted; ``2.5``, NaN, empty cells, negative labels (after the offset),
    labels >= C and floats beyond 2^53 are errors naming the row. String labels (any
    non-numeric token) are ordered by ``classes`` or, by default, sorted; the inferred order is
    reported in a note (unless ``report_mapping=False``, when the caller writes it elsewhere).

    Args:
        num_classes: number of classes C; ``None`` infers ``max - offset + 1`` (integers) or the
            number of distinct strings.
        offset: the smallest label value (``1`` for labels 1..C).
        classes: class names in column order; labels are matched by their text (integers as
            written, e.g. ``"3"``). An unknown label is an error.
        dtype: ``"int"`` (int64 0/1) or ``"float"`` (float64).
        smooth: label smoothing epsilon in [0, 1]: ``y*(1-eps) + eps/C`` (float output). In
            multi-label mode every column is an independent binary target and ``eps/2`` is used,
            as Keras ``binary_crossentropy(label_smoothing=eps)`` does.
        multi_label: several labels per row (a cell ``"1;3"`` or ``"cat dog"``, or several label
            columns) -> multi-hot rows. A row without labels becomes a row of zeros (counted in a
            note); a label repeated in one row is counted once (noted).
        location: maps a 0-based data row to the text used in messages (``Source.location``).
        report_mapping: report inferred string classes in a note.
    """

    def __init__(
        self,
        num_classes: int | None = None,
        *,
        offset: int = 0,
        classes: Sequence[str] | None = None,
        dtype: str = "int",
        smooth: float = 0.0,
        multi_label: bool = False,
        location: Location | None = None,
        report_mapping: bool = True,
    ) -> None:
        if dtype not in ("int", "float"):
            raise UsageError(f"unknown dtype {dtype!r}", hint="use --dtype int or --dtype float")
        if not (0.0 <= smooth <= 1.0) or math.isnan(smooth):
            raise UsageError(
                f"--smooth must be between 0 and 1, got {smooth!r}",
                hint="typical values are 0.05 or 0.1",
            )
        if smooth > 0 and dtype == "int":
            dtype = "float"
        if classes is not None:
            classes = tuple(str(c).strip() for c in classes)
            if not classes or any(c == "" for c in classes):
                raise UsageError("--classes has an empty class name",
                                 hint="give names separated by commas: --classes cat,dog,fish")
            dup = sorted({c for c in classes if classes.count(c) > 1})
            if dup:
                raise UsageError(f"--classes names {_fmt(dup[0])} more than once",
                                 hint="give each class once")
            if offset:
                raise UsageError("--offset applies to integer labels without --classes",
                                 hint="drop --offset: with --classes the labels are matched "
                                 "by name")
        self.offset = int(offset)
        self.dtype = dtype
        self.smooth = float(smooth)
        self.multi_label = multi_label
        self.location: Location = location or _default_location
        self.report_mapping = report_mapping
        self.space: ClassSpace | None = None
        if classes is not None:
            self.space = ClassSpace(len(classes), names=tuple(classes)) if num_classes is None \
                else ClassSpace(int(num_classes), names=tuple(classes))
        elif num_classes is not None:
            self.space = ClassSpace(int(num_classes), offset=self.offset)
        self._lookup: dict[str, int] | None = (
            {n: j for j, n in enumerate(self.space.names)}
            if self.space is not None and self.space.names is not None else None
        )
        # first-pass state
        self._min: int | None = None
        self._max: int | None = None
        self._max_row: int = 0
        self._ints: np.ndarray = np.empty(0, dtype=np.int64)
        self._strings: set[str] = set()
        self._first_text: tuple[str, int] | None = None
        self._scanned_labels = 0
        # conversion state (for the closing notes)
        self._empty_rows = 0
        self._first_empty: int | None = None
        self._dup_rows = 0
        self._first_dup: int | None = None

    # -- first pass ------------------------------------------------------------------------
    @property
    def needs_scan(self) -> bool:
        """True when the classes must be inferred from all the data before converting."""
        return self.space is None

    def scan(self, data: np.ndarray, start: int = 0) -> None:
        """First pass over one block: validate the labels and record what inference needs."""
        rows, vals, _ = _extract(data, multi_label=self.multi_label, start=start,
                                 location=self.location)
        self._scanned_labels += len(vals)
        if len(vals) == 0:
            return
        if _is_text(vals):
            uniq = np.unique(vals)
            self._strings.update(uniq.tolist())
            if self._first_text is None:
                try:
                    ints = _tokens_to_int(vals, rows, start=start, location=self.location)
                except _NotAnInteger as exc:
                    self._first_text = (exc.token, exc.row)
                    return
                self._record_ints(ints, rows, start)
            return
        ints = _numeric_to_int(vals, rows, start=start, location=self.location)
        self._record_ints(ints, rows, start)

    def _record_ints(self, ints: np.ndarray, rows: np.ndarray, start: int) -> None:
        if ints.size == 0:
            return
        below = ints < self.offset
        if below.any():  # the first bad row
            i = int(np.flatnonzero(below)[0])
            self._raise_below(int(ints[i]), start + int(rows[i]))
        lo = int(ints.min())
        hi_i = int(np.argmax(ints))
        hi = int(ints[hi_i])
        if self._max is None or hi > self._max:
            self._max, self._max_row = hi, start + int(rows[hi_i])
        self._min = lo if self._min is None else min(self._min, lo)
        if self._ints.size <= 4096:  # the values themselves only matter if strings turn up
            self._ints = np.union1d(self._ints, np.unique(ints))

    def finish_scan(self) -> ClassSpace:
        """Infer the class space from the scanned blocks (emits a note saying what was inferred).

        Raises:
            DataError: no labels at all.
            UsageError: ``--offset`` with string labels.
        """
        if self.space is not None:
            return self.space
        if self._scanned_labels == 0:
            raise DataError(
                "no labels in the input, so the number of classes cannot be inferred",
                hint="give -n/--num-classes (or --classes for string labels)",
            )
        if self._first_text is not None:
            tok, row = self._first_text
            if self.offset:
                raise UsageError(
                    f"--offset applies to integer labels, but the labels are strings "
                    f"({_fmt(tok)} at {self.location(row)})",
                    hint="drop --offset",
                )
            names = set(self._strings)
            names.update(str(i) for i in self._ints.tolist())
            ordered = tuple(sorted(names))
            self.space = ClassSpace(len(ordered), names=ordered)
            self._lookup = {n: j for j, n in enumerate(ordered)}
            if self.report_mapping:
                shown = ", ".join(f"{n}={j}" for j, n in enumerate(ordered[:_NOTE_CLASSES]))
                more = "" if len(ordered) <= _NOTE_CLASSES else (
                    f", ... ({len(ordered)} in all; write them with --mapping FILE)")
                note(f"string labels: {len(ordered)} classes in sorted order -> column: "
                     f"{shown}{more} (give --classes to choose the order)")
            return self.space
        assert self._max is not None and self._min is not None
        c = self._max - self.offset + 1
        if c > MAX_INFERRED_CLASSES:
            raise DataError(
                f"label {self._max} would mean {c} classes",
                location=self.location(self._max_row),
                hint="check the label column, or give -n/--num-classes explicitly",
            )
        self.space = ClassSpace(c, offset=self.offset)
        msg = (f"inferred {c} classes from the largest label {self._max} "
               f"(labels {self.offset}..{self._max} -> columns 0..{c - 1}); "
               f"give -n/--num-classes to set it")
        if self._min > self.offset:
            missing = f"{self.offset}" if self._min == self.offset + 1 \
                else f"{self.offset}..{self._min - 1}"
            msg += f". No label is {missing}"
            if self.offset == 0 and self._min == 1:
                msg += ": if the labels are 1-based, use --offset 1"
        note(msg)
        return self.space

    def fit(self, blocks: Iterable[tuple[np.ndarray, int]]) -> ClassSpace:
        """Scan ``(data, start)`` blocks and infer the class space (no-op if already known)."""
        if self.space is None:
            for data, start in blocks:
                self.scan(data, start)
        return self.finish_scan()

    # -- conversion ------------------------------------------------------------------------
    def _raise_below(self, value: int, row: int) -> None:
        if self.offset > 0:
            raise DataError(
                f"label {value} is below --offset {self.offset}",
                location=self.location(row),
                hint=f"labels must start at {self.offset}; drop or lower --offset "
                "if the labels are 0-based",
            )
        hint = "labels must be 0..C-1; use --offset K if the labels start at a negative K"
        if value == -1:
            hint = ("labels must be 0..C-1; if the labels are -1/+1 (signed binary) map them "
                    "to 0/1 first, or use --offset -1 if -1 is the first class")
        elif self.offset:
            hint = f"labels must start at {self.offset}; lower --offset"
        raise DataError(
            f"label {value} is negative" if self.offset == 0
            else f"label {value} is below --offset {self.offset}",
            location=self.location(row), hint=hint,
        )

    def _columns(self, rows: np.ndarray, vals: np.ndarray, start: int) -> np.ndarray:
        """Column index for every label value (validated against the class space)."""
        space = self.space
        assert space is not None
        if self._lookup is not None:  # named classes: match labels by text
            if _is_text(vals):
                keys = vals
            else:
                keys = _numeric_to_int(vals, rows, start=start, location=self.location).astype(str)
            if keys.size == 0:
                return np.empty(0, dtype=np.int64)
            uniq, inverse = np.unique(keys, return_inverse=True)
            cols_u = np.empty(len(uniq), dtype=np.int64)
            for j, k in enumerate(uniq.tolist()):
                c = self._lookup.get(k)
                if c is None:
                    i = int(np.flatnonzero(inverse.reshape(-1) == j)[0])
                    shown = ",".join(space.names[:_NOTE_CLASSES])  # type: ignore[index]
                    raise DataError(
                        f"label {_fmt(k)} is not one of the {space.num_classes} classes "
                        f"({shown}{',...' if space.num_classes > _NOTE_CLASSES else ''})",
                        location=self.location(start + int(rows[i])),
                        hint="add it to --classes, or fix the label",
                    )
                cols_u[j] = c
            return cols_u[inverse.reshape(-1)]
        if _is_text(vals):
            try:
                ints = _tokens_to_int(vals, rows, start=start, location=self.location)
            except _NotAnInteger as exc:
                raise DataError(
                    f"label {_fmt(exc.token)} is not an integer",
                    location=self.location(exc.row),
                    hint="for string labels give --classes a,b,c (or drop -n/--num-classes "
                    "to infer the classes from the data)",
                ) from None
        else:
            ints = _numeric_to_int(vals, rows, start=start, location=self.location)
        if ints.size == 0:
            return ints
        c = space.num_classes
        below = ints < self.offset
        above = ints >= min(self.offset + c, np.iinfo(np.int64).max)
        bad = below | above
        if bad.any():  # report the first bad row
            i = int(np.flatnonzero(bad)[0])
            value, row = int(ints[i]), start + int(rows[i])
            if below[i]:
                self._raise_below(value, row)
            need = int(ints.max()) - self.offset + 1
            if value == self.offset + c and self.offset == 0:
                hint = (f"use --offset 1 if the labels are 1..{c}, "
                        f"or -n {need} if there are more classes")
            else:
                hint = f"give -n {need} (or more) if there are more classes"
            raise DataError(
                f"label {value} is out of range [{self.offset}, {self.offset + c}) "
                f"for {_plural(c, 'class', 'classes')}",
                location=self.location(row),
                hint=hint,
            )
        return ints - self.offset

    def transform(self, data: np.ndarray, start: int = 0) -> np.ndarray:
        """Convert one block of labels to (n, C) one-hot rows (int64 or float64)."""
        if self.space is None:
            raise RuntimeError("the classes are not known yet: call fit() or scan()/finish_scan()")
        rows, vals, n = _extract(data, multi_label=self.multi_label, start=start,
                                 location=self.location)
        cols = self._columns(rows, vals, start)
        c = self.space.num_classes
        out = np.zeros((n, c), dtype=np.int64)
        out[rows, cols] = 1
        if self.multi_label:
            per_row = np.bincount(rows, minlength=n) if n else np.zeros(0, dtype=np.int64)
            empty = per_row == 0
            if empty.any():
                self._empty_rows += int(empty.sum())
                if self._first_empty is None:
                    self._first_empty = start + int(np.flatnonzero(empty)[0])
            dup = per_row > out.sum(axis=1)
            if dup.any():
                self._dup_rows += int(dup.sum())
                if self._first_dup is None:
                    self._first_dup = start + int(np.flatnonzero(dup)[0])
        if self.smooth > 0:
            eps = self.smooth
            denom = 2.0 if self.multi_label else float(c)
            return out.astype(np.float64) * (1.0 - eps) + eps / denom
        if self.dtype == "float":
            return out.astype(np.float64)
        return out

    def transform_blocks(
        self, blocks: Iterable[tuple[np.ndarray, int]], *, max_cells: int = MAX_CHUNK_CELLS
    ) -> Iterator[tuple[np.ndarray, int]]:
        """Convert ``(data, start)`` blocks, yielding ``(onehot_chunk, start)``.

        Blocks are cut so a chunk holds at most ``max_cells`` cells (many classes stay in
        memory). Calls :meth:`finish` at the end.
        """
        assert self.space is not None
        step = max(1, max_cells // self.space.num_classes)
        for data, start in blocks:
            arr = _as_2d(data)
            for i in range(0, len(arr), step):
                yield self.transform(arr[i:i + step], start + i), start + i
        self.finish()

    def finish(self) -> None:
        """Emit the closing notes (rows without labels, repeated labels); once."""
        if self._empty_rows:
            note(f"{_plural(self._empty_rows, 'row')} had no label and became all-zero rows "
                 f"(first: {self.location(self._first_empty or 0)})")
        if self._dup_rows:
            note(f"{_plural(self._dup_rows, 'row')} repeated a label; it was counted once "
                 f"(first: {self.location(self._first_dup or 0)})")
        if self.smooth > 0 and self.multi_label:
            note(f"multi-label smoothing treats each column as a binary target: "
                 f"y*(1-{self.smooth!r}) + {self.smooth!r}/2")
        self._empty_rows = self._dup_rows = 0
        self._first_empty = self._first_dup = None


def onehot(
    labels,
    num_classes: int | None = None,
    *,
    offset: int = 0,
    classes: Sequence[str] | None = None,
    dtype: str = "int",
    smooth: float = 0.0,
    multi_label: bool = False,
    location: Location | None = None,
) -> np.ndarray:
    """One-hot encode a whole array of labels.

    ``onehot([1, 2], 3)`` is ``[[0, 1, 0], [0, 0, 1]]``. See :class:`OneHotEncoder` for the
    options and the errors.

    Args:
        labels: (N,) or (N, 1) integer/whole-float/string labels; (N, k) with ``multi_label``.
        num_classes: C, or ``None`` to infer it (a note says what was inferred).

    Returns:
        (N, C) int64 one-hot rows (float64 with ``dtype="float"`` or ``smooth > 0``).
    """
    arr = np.asarray(labels)
    if arr.ndim == 1 and multi_label and not _is_text(arr):
        arr = arr[:, None]
    enc = OneHotEncoder(num_classes, offset=offset, classes=classes, dtype=dtype, smooth=smooth,
                        multi_label=multi_label, location=location)
    enc.fit([(arr, 0)])
    out = enc.transform(arr, 0)
    enc.finish()
    return out


# ------------------------------------------------------------------------------------------------
# One-hot -> labels
# ------------------------------------------------------------------------------------------------


_SPARSE_HINT = "use --argmax for probabilities or scores, or --threshold T for multi-hot rows"


class SparseDecoder:
    """One-hot (or score / multi-hot) rows -> labels, block by block.

    Modes:
        * strict (default): every row must be exactly one-hot: one value within ``tol`` of 1, the
          rest within ``tol`` of 0. A row of zeros, several ones, a value outside {0, 1} or NaN is
          a :class:`DataError` naming the row and suggesting ``--argmax``.
        * ``argmax=True``: the column of the largest value; ties go to the lowest index and are
          counted in a note (as ``np.argmax``). NaN is an error.
        * ``threshold=T``: every column with a value ``> T`` (the rule of Keras
          ``binary_accuracy``) -> the labels joined by ``;`` in one text cell (empty if none,
          counted in a note).

    Labels are column indices plus ``offset``, or ``classes[j]`` when class names are given
    (``--classes`` or the header of the one-hot input). Names that are all plain integers
    (``"1"``, ``"10"``, as ``onehot --header`` writes for integer labels) give int64 labels.

    Args:
        argmax: arg-max mode.
        threshold: threshold mode (exclusive with ``argmax``).
        offset: added to the column index (inverse of ``onehot --offset``).
        classes: names for the columns, in column order (exclusive with a non-zero ``offset``).
        tol: tolerance of the strict check.
        location: maps a 0-based data row to the text used in messages.
    """

    def __init__(
        self,
        *,
        argmax: bool = False,
        threshold: float | None = None,
        offset: int = 0,
        classes: Sequence[str] | None = None,
        tol: float = 1e-6,
        location: Location | None = None,
    ) -> None:
        if argmax and threshold is not None:
            raise UsageError("--argmax and --threshold exclude each other",
                             hint="use --argmax for one label per row, --threshold T for several")
        if threshold is not None and math.isnan(threshold):
            raise UsageError("--threshold must be a number, got nan")
        if classes is not None and offset:
            raise UsageError("--classes and --offset exclude each other",
                             hint="--classes names the columns; --offset numbers them from K")
        self.argmax = argmax
        self.threshold = threshold
        self.offset = int(offset)
        self.classes = None if classes is None else [str(c).strip() for c in classes]
        self.tol = float(tol)
        self.location: Location = location or _default_location
        self.num_classes: int | None = None
        self._ties = 0
        self._first_tie: int | None = None
        self._none = 0
        self._first_none: int | None = None

    @property
    def multi(self) -> bool:
        """True in threshold mode (output cells are ';'-joined label lists)."""
        return self.threshold is not None

    def _names(self, c: int) -> np.ndarray | None:
        if self.classes is None:
            return None
        if len(self.classes) != c:
            raise ShapeError(
                f"{_plural(len(self.classes), 'class name')} for {_plural(c, 'column')}",
                hint="give one --classes name per column of the one-hot input",
            )
        if all(_INT_RE.fullmatch(c) and str(int(c)) == c for c in self.classes):
            return np.asarray([int(c) for c in self.classes], dtype=np.int64)  # "1".."10"
        return np.asarray(self.classes, dtype=str)

    def _numeric(self, arr: np.ndarray, start: int) -> np.ndarray:
        if arr.dtype.kind in "biuf":
            return arr.astype(np.float64, copy=False)
        try:
            return np.char.strip(arr.astype(str)).astype(np.float64)
        except ValueError:
            pass
        for i in range(arr.shape[0]):
            for j in range(arr.shape[1]):
                cell = str(arr[i, j]).strip()
                try:
                    float(cell)
                except ValueError:
                    raise DataError(
                        f"value {_fmt(cell)} in column {j + 1} is not a number",
                        location=self.location(start + i),
                        hint="sparse reads one-hot rows of numbers; select the class columns "
                        "with --cols",
                    ) from None
        raise DataError("the one-hot input is not numeric",
                        hint="select the class columns with --cols")

    def transform(self, data: np.ndarray, start: int = 0) -> np.ndarray:
        """Convert one (n, C) block to (n,) labels: int64, or str with names / threshold."""
        arr = np.asarray(data)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise ShapeError(f"one-hot input must be 2-D (N, C), got shape {arr.shape}")
        n, c = arr.shape
        if self.num_classes is None:
            self.num_classes = c
        names = self._names(c)
        x = self._numeric(arr, start)
        nan = np.isnan(x)
        if nan.any():
            i, j = (int(v) for v in np.argwhere(nan)[0])
            raise DataError(
                f"value nan in column {j + 1} (class {self._label(j)})",
                location=self.location(start + i),
                hint="fill in the value or remove the row",
            )
        if self.threshold is not None:
            return self._threshold(x, start, names)
        if self.argmax:
            idx = np.argmax(x, axis=1) if n else np.zeros(0, dtype=np.int64)
            if n:
                rowmax = x[np.arange(n), idx]
                tied = (x == rowmax[:, None]).sum(axis=1) > 1
                if tied.any():
                    self._ties += int(tied.sum())
                    if self._first_tie is None:
                        self._first_tie = start + int(np.flatnonzero(tied)[0])
        else:
            idx = self._strict(x, start)
        return self._out(idx.astype(np.int64), names)

    def _label(self, j: int) -> str:
        if self.classes is not None and j < len(self.classes):
            return self.classes[j]
        return str(j + self.offset)

    def _out(self, idx: np.ndarray, names: np.ndarray | None) -> np.ndarray:
        if names is not None:
            return names[idx] if len(idx) else np.empty(0, dtype=names.dtype)
        return idx + self.offset

    def _strict(self, x: np.ndarray, start: int) -> np.ndarray:
        tol = self.tol
        is1 = np.abs(x - 1.0) <= tol
        is0 = np.abs(x) <= tol
        bad = ~(is0 | is1)
        if bad.any():
            i, j = (int(v) for v in np.argwhere(bad)[0])
            raise DataError(
                f"value {_fmt(x[i, j])} in column {j + 1} is not 0 or 1, so the row is not one-hot",
                location=self.location(start + i), hint=_SPARSE_HINT,
            )
        ones = is1.sum(axis=1)
        zero = ones == 0
        if zero.any():
            i = int(np.flatnonzero(zero)[0])
            raise DataError(
                "the row is all zeros, so it has no class",
                location=self.location(start + i),
                hint="use --argmax to take the first column for such rows, or --threshold T "
                "to allow rows without a class",
            )
        many = ones > 1
        if many.any():
            i = int(np.flatnonzero(many)[0])
            cols = ", ".join(str(j + 1) for j in np.flatnonzero(is1[i])[:5])
            raise DataError(
                f"the row has {int(ones[i])} ones (columns {cols}), so it is not one-hot",
                location=self.location(start + i),
                hint="use --threshold 0.5 for multi-hot rows (all active classes), or --argmax "
                "for the first one",
            )
        return np.argmax(is1, axis=1)

    def _threshold(self, x: np.ndarray, start: int, names: np.ndarray | None) -> np.ndarray:
        active = x > self.threshold
        labels = (names.tolist() if names is not None
                  else [str(j + self.offset) for j in range(x.shape[1])])
        out = [";".join(labels[j] for j in np.flatnonzero(row)) for row in active]
        none = ~active.any(axis=1)
        if none.any():
            self._none += int(none.sum())
            if self._first_none is None:
                self._first_none = start + int(np.flatnonzero(none)[0])
        return np.asarray(out, dtype=str) if out else np.empty(0, dtype="<U1")

    def finish(self) -> None:
        """Emit the closing notes (ties resolved, rows without an active class); once."""
        if self._ties:
            note(f"{_plural(self._ties, 'row')} had tied maxima, resolved to the lowest column "
                 f"(first: {self.location(self._first_tie or 0)})")
        if self._none:
            note(f"{_plural(self._none, 'row')} had no value above the threshold "
                 f"{self.threshold!r} and became empty cells "
                 f"(first: {self.location(self._first_none or 0)})")
        self._ties = self._none = 0
        self._first_tie = self._first_none = None


def sparse(
    onehot_rows,
    *,
    argmax: bool = False,
    threshold: float | None = None,
    offset: int = 0,
    classes: Sequence[str] | None = None,
    tol: float = 1e-6,
    location: Location | None = None,
) -> np.ndarray:
    """Turn a whole (N, C) one-hot / score / multi-hot array into labels.

    ``sparse([[0, 1, 0], [0, 0, 1]])`` is ``[1, 2]``. See :class:`SparseDecoder` for the modes.

    Returns:
        (N,) int64 labels (plus ``offset``); str labels with ``classes``; with ``threshold``,
        (N,) str cells of ``;``-joined labels.
    """
    dec = SparseDecoder(argmax=argmax, threshold=threshold, offset=offset, classes=classes,
                        tol=tol, location=location)
    out = dec.transform(np.asarray(onehot_rows), 0)
    dec.finish()
    return out


# ------------------------------------------------------------------------------------------------
# Detection (for inspect / compute diagnostics)
# ------------------------------------------------------------------------------------------------

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
    if _is_text(a):
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
    if _is_text(a):
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
