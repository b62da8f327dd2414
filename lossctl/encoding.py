"""One-hot encoding: integer/string labels -> one-hot (or multi-hot) rows, block by block.

Everything here is plain numpy and works on row *blocks*, so a file larger than memory can be
streamed through it (:class:`OneHotEncoder`); rows of more classes than a block holds are made
in column pieces (:meth:`OneHotEncoder.transform_rows`: zeros with the row's ones, never the
whole row); :func:`onehot` wraps the block API for whole arrays. The way back (one-hot rows
-> labels) is :mod:`lossctl.decoding`.

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
order, tie breaks) are reported once through :func:`lossctl.errors.note`. Label cells are
parsed by :mod:`lossctl.labels`; detecting what an array holds is :mod:`lossctl.detection`.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from lossctl.errors import DataError, UsageError, note, opt
from lossctl.labels import (
    ClassSpace,
    Location,
    NotAnInteger,
    as_2d,
    default_location,
    extract,
    fmt,
    is_text,
    numeric_to_int,
    plural,
    split_multi_label,
    tokens_to_int,
)

__all__ = ["ClassSpace", "OneHotEncoder", "onehot", "split_multi_label"]

#: Output cells per converted chunk: a (rows, C) one-hot chunk is cut so rows * C stays below this.
MAX_CHUNK_CELLS = 1 << 22
#: Inferring more classes than this from the largest label is refused (almost always a data error).
MAX_INFERRED_CLASSES = 1_000_000
#: Class names listed in full in a note; longer mappings are cut (write them with a mapping file).
_NOTE_CLASSES = 20
#: Labels that mark elements to ignore in segmentation masks (Pascal VOC's and Cityscapes' 255).
_VOID = (255, 65535)


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
        ignore_class: a raw label value (before ``offset``) that marks a row or element to
            ignore (255 for void pixels): it becomes an all-zero vector, even with ``smooth``,
            as PyTorch's ``ignore_index`` leaves it out of the loss; counted in a note. Not with
            ``multi_label``.
    """

    #: What a label belongs to, in messages: "row" (a label column), "element" (label maps).
    unit = "row"

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
        ignore_class: int | None = None,
    ) -> None:
        if ignore_class is not None and multi_label:
            raise UsageError(f"{opt('ignore_class')} applies to one label per row, not to "
                             f"{opt('multi_label', True)}", hint="drop one of them",
                             option="ignore_class")
        if dtype not in ("int", "float"):
            raise UsageError(f"unknown dtype {dtype!r}", hint=f"use {opt('dtype', 'int')} or {opt('dtype', 'float')}")
        if not (0.0 <= smooth <= 1.0) or math.isnan(smooth):
            raise UsageError(
                f"{opt('smooth')} must be between 0 and 1, got {smooth!r}",
                hint="typical values are 0.05 or 0.1",
            )
        if smooth > 0 and dtype == "int":
            dtype = "float"
        if classes is not None:
            classes = tuple(str(c).strip() for c in classes)
            if not classes or any(c == "" for c in classes):
                raise UsageError(f"{opt('classes')} has an empty class name",
                                 hint=f"give names separated by commas: {opt('classes', ['cat', 'dog', 'fish'])}")
            dup = sorted({c for c in classes if classes.count(c) > 1})
            if dup:
                raise UsageError(f"{opt('classes')} names {fmt(dup[0])} more than once",
                                 hint="give each class once")
            if offset:
                raise UsageError(f"{opt('offset')} applies to integer labels without {opt('classes')}",
                                 hint=f"drop {opt('offset')}: with {opt('classes')} the labels are matched "
                                 "by name")
        self.offset = int(offset)
        self.dtype = dtype
        self.smooth = float(smooth)
        self.multi_label = multi_label
        self.location: Location = location or default_location
        self.report_mapping = report_mapping
        self.ignore_class = None if ignore_class is None else int(ignore_class)
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
        self._ints_all = True  # _ints holds every distinct value seen
        self._strings: set[str] = set()
        self._first_text: tuple[str, int] | None = None
        self._scanned_labels = 0
        # conversion state (for the closing notes)
        self._empty_rows = 0
        self._first_empty: int | None = None
        self._dup_rows = 0
        self._first_dup: int | None = None
        self._ignored = 0
        self._first_ignored: int | None = None

    # -- first pass ------------------------------------------------------------------------
    @property
    def needs_scan(self) -> bool:
        """True when the classes must be inferred from all the data before converting."""
        return self.space is None

    def _drop_ignored(self, rows: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, ...]:
        """The labels that are not ``ignore_class``, and the rows of those that are."""
        if self.ignore_class is None or not len(vals):
            return rows, vals, rows[:0]
        k = self.ignore_class
        hit = vals == str(k) if is_text(vals) else vals == k
        if not hit.any():
            return rows, vals, rows[:0]
        return rows[~hit], vals[~hit], rows[hit]

    def scan(self, data: np.ndarray, start: int = 0) -> None:
        """First pass over one block: validate the labels and record what inference needs."""
        rows, vals, _ = extract(data, multi_label=self.multi_label, start=start,
                                 location=self.location)
        rows, vals, _ = self._drop_ignored(rows, vals)
        self._scanned_labels += len(vals)
        if len(vals) == 0:
            return
        if is_text(vals):
            uniq = np.unique(vals)
            self._strings.update(uniq.tolist())
            if self._first_text is None:
                try:
                    ints = tokens_to_int(vals, rows, start=start, location=self.location)
                except NotAnInteger as exc:
                    self._first_text = (exc.token, exc.row)
                    return
                self._record_ints(ints, rows, start)
            return
        ints = numeric_to_int(vals, rows, start=start, location=self.location)
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
        if self._ints.size <= 4096:  # the values matter if strings turn up, or for a void label
            self._ints = np.union1d(self._ints, np.unique(ints))
        else:
            self._ints_all = False

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
                hint=f"give {opt('num_classes')} (or {opt('classes')} for string labels)",
            )
        if self._first_text is not None:
            tok, row = self._first_text
            if self.offset:
                raise UsageError(
                    f"{opt('offset')} applies to integer labels, but the labels are strings "
                    f"({fmt(tok)} at {self.location(row)})",
                    hint=f"drop {opt('offset')}",
                )
            names = set(self._strings)
            names.update(str(i) for i in self._ints.tolist())
            ordered = tuple(sorted(names))
            self.space = ClassSpace(len(ordered), names=ordered)
            self._lookup = {n: j for j, n in enumerate(ordered)}
            if self.report_mapping:
                shown = ", ".join(f"{n}={j}" for j, n in enumerate(ordered[:_NOTE_CLASSES]))
                more = "" if len(ordered) <= _NOTE_CLASSES else (
                    f", ... ({len(ordered)} in all; write them with {opt('mapping')} FILE)")
                note(f"string labels: {len(ordered)} classes in sorted order -> column: "
                     f"{shown}{more} (give {opt('classes')} to choose the order)")
            return self.space
        assert self._max is not None and self._min is not None
        c = self._max - self.offset + 1
        void = self._void_label()
        if void is not None and self.unit == "element":
            raise DataError(
                f"label {self._max} stands alone above the labels {self.offset}..{void}: it "
                f"would mean {c} classes", location=self.location(self._max_row),
                hint=f"if {self._max} marks elements to ignore (void pixels), use "
                f"{opt('ignore_class', self._max)}; to keep it as a class, give "
                f"{opt('num_classes', c)}")
        if c > MAX_INFERRED_CLASSES:
            raise DataError(
                f"label {self._max} would mean {c} classes",
                location=self.location(self._max_row),
                hint=f"check the label column, or give {opt('num_classes')} explicitly",
            )
        self.space = ClassSpace(c, offset=self.offset)
        msg = (f"inferred {c} classes from the largest label {self._max} "
               f"(labels {self.offset}..{self._max} -> columns 0..{c - 1}); "
               f"give {opt('num_classes')} to set it")
        if self._min > self.offset:
            missing = f"{self.offset}" if self._min == self.offset + 1 \
                else f"{self.offset}..{self._min - 1}"
            msg += f". No label is {missing}"
            if self.offset == 0 and self._min == 1:
                msg += f": if the labels are 1-based, use {opt('offset', 1)}"
        if void is not None:
            msg += (f". Label {self._max} stands alone above {void}: if it marks rows to ignore, "
                    f"use {opt('ignore_class', self._max)}")
        note(msg)
        return self.space

    def _void_label(self) -> int | None:
        """The largest label below a void label (255) that stands alone above the others, or
        None."""
        u = self._ints
        if self._ints_all and len(u) >= 2 and int(u[-1]) in _VOID and u[-2] < u[-1] - 1:
            return int(u[-2])
        return None

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
                f"label {value} is below {opt('offset')} {self.offset}",
                location=self.location(row),
                hint=f"labels must start at {self.offset}; drop or lower {opt('offset')} "
                "if the labels are 0-based",
            )
        hint = f"labels must be 0..C-1; use {opt('offset')} K if the labels start at a negative K"
        if self.ignore_class is None and (value == -100 or self.unit == "element"):
            hint = (f"if {value} marks {self.unit}s to ignore (PyTorch's ignore_index is -100), "
                    f"use {opt('ignore_class', value)}")
        elif value == -1:
            hint = ("labels must be 0..C-1; if the labels are -1/+1 (signed binary) map them "
                    f"to 0/1 first, or use {opt('offset', -1)} if -1 is the first class")
        elif self.offset:
            hint = f"labels must start at {self.offset}; lower {opt('offset')}"
        raise DataError(
            f"label {value} is negative" if self.offset == 0
            else f"label {value} is below {opt('offset')} {self.offset}",
            location=self.location(row), hint=hint,
        )

    def _columns(self, rows: np.ndarray, vals: np.ndarray, start: int) -> np.ndarray:
        """Column index for every label value (validated against the class space)."""
        space = self.space
        assert space is not None
        if self._lookup is not None:  # named classes: match labels by text
            if is_text(vals):
                keys = vals
            else:
                keys = numeric_to_int(vals, rows, start=start, location=self.location).astype(str)
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
                        f"label {fmt(k)} is not one of the {space.num_classes} classes "
                        f"({shown}{',...' if space.num_classes > _NOTE_CLASSES else ''})",
                        location=self.location(start + int(rows[i])),
                        hint=f"add it to {opt('classes')}, or fix the label",
                    )
                cols_u[j] = c
            return cols_u[inverse.reshape(-1)]
        if is_text(vals):
            try:
                ints = tokens_to_int(vals, rows, start=start, location=self.location)
            except NotAnInteger as exc:
                raise DataError(
                    f"label {fmt(exc.token)} is not an integer",
                    location=self.location(exc.row),
                    hint=f"for string labels give {opt('classes', ['a', 'b', 'c'])} (or drop {opt('num_classes')} "
                    "to infer the classes from the data)",
                ) from None
        else:
            ints = numeric_to_int(vals, rows, start=start, location=self.location)
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
            lone = self.unit == "element" and len(np.unique(ints[above])) == 1
            if self.ignore_class is None and not below[i] and (value in _VOID or lone):
                hint = (f"if {value} marks elements to ignore (void pixels, as 255 in Pascal "
                        f"VOC masks), use {opt('ignore_class', value)}; or give "
                        f"{opt('num_classes', need)} if there are more classes")
            elif value == self.offset + c and self.offset == 0:
                hint = (f"use {opt('offset', 1)} if the labels are 1..{c}, "
                        f"or {opt('num_classes', need)} if there are more classes")
            else:
                hint = f"give {opt('num_classes', need)} (or more) if there are more classes"
            raise DataError(
                f"label {value} is out of range [{self.offset}, {self.offset + c}) "
                f"for {plural(c, 'class', 'classes')}",
                location=self.location(row),
                hint=hint,
            )
        return ints - self.offset

    def _encode(self, data: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
        """(row, column) of every label of a block, validated, its number of rows, and the rows
        of ``ignore_class``; counts the notes."""
        if self.space is None:
            raise RuntimeError("the classes are not known yet: call fit() or scan()/finish_scan()")
        rows, vals, n = extract(data, multi_label=self.multi_label, start=start,
                                 location=self.location)
        rows, vals, ignored = self._drop_ignored(rows, vals)
        if len(ignored):
            self._ignored += len(ignored)
            if self._first_ignored is None:
                self._first_ignored = start + int(ignored[0])
        cols = self._columns(rows, vals, start)
        if self.multi_label:
            c = self.space.num_classes
            per_row = np.bincount(rows, minlength=n) if n else np.zeros(0, dtype=np.int64)
            distinct = np.bincount(np.unique(rows.astype(np.int64) * c + cols) // c, minlength=n) \
                if len(rows) else np.zeros(n, dtype=np.int64)
            empty = per_row == 0
            if empty.any():
                self._empty_rows += int(empty.sum())
                if self._first_empty is None:
                    self._first_empty = start + int(np.flatnonzero(empty)[0])
            dup = per_row > distinct
            if dup.any():
                self._dup_rows += int(dup.sum())
                if self._first_dup is None:
                    self._first_dup = start + int(np.flatnonzero(dup)[0])
        return rows, cols, n, ignored

    def _values(self, out: np.ndarray) -> np.ndarray:
        """0/1 int64 cells -> the output values (smoothed, or float)."""
        if self.smooth > 0:
            eps = self.smooth
            denom = 2.0 if self.multi_label else float(self.space.num_classes)  # type: ignore[union-attr]
            vals = out.astype(np.float64)
            vals *= 1.0 - eps
            vals += eps / denom
            return vals
        if self.dtype == "float":
            return out.astype(np.float64)
        return out

    def transform(self, data: np.ndarray, start: int = 0) -> np.ndarray:
        """Convert one block of labels to (n, C) one-hot rows (int64 or float64)."""
        rows, cols, n, ignored = self._encode(data, start)
        out = np.zeros((n, self.space.num_classes), dtype=np.int64)  # type: ignore[union-attr]
        out[rows, cols] = 1
        out = self._values(out)
        if len(ignored) and self.smooth > 0:
            out[ignored] = 0.0
        return out

    def transform_blocks(
        self, blocks: Iterable[tuple[np.ndarray, int]], *, max_cells: int = MAX_CHUNK_CELLS
    ) -> Iterator[tuple[np.ndarray, int]]:
        """Convert ``(data, start)`` blocks, yielding ``(onehot_chunk, start)``.

        Blocks are cut so a chunk holds at most ``max_cells`` cells (many classes stay in
        memory), but at least one row: for more than ``max_cells`` classes use
        :meth:`transform_rows`. Calls :meth:`finish` at the end.
        """
        assert self.space is not None
        step = max(1, max_cells // self.space.num_classes)
        for data, start in blocks:
            arr = as_2d(data)
            for i in range(0, len(arr), step):
                yield self.transform(arr[i:i + step], start + i), start + i
        self.finish()

    def transform_rows(
        self, blocks: Iterable[tuple[np.ndarray, int]], *, max_cells: int = MAX_CHUNK_CELLS
    ) -> Iterator[tuple[int, Iterator[np.ndarray]]]:
        """Convert ``(data, start)`` blocks row by row, for rows wider than ``max_cells``:
        yields ``(row, pieces)``, where ``pieces`` yields the row's values in 1-D column pieces
        of at most ``max_cells`` (zeros with the row's ones, smoothed as :meth:`transform`
        does), made when asked for; consume them before the next row. Calls :meth:`finish` at
        the end.
        """
        assert self.space is not None
        width = max(1, int(max_cells))
        for data, start in blocks:
            rows, cols, n, ignored = self._encode(as_2d(data), start)
            order = np.lexsort((cols, rows))
            rows, cols = rows[order], cols[order]
            ends = np.searchsorted(rows, np.arange(n), side="right")
            skip = set(ignored.tolist()) if self.smooth > 0 else ()
            begin = 0
            for r in range(n):
                yield start + r, self._row_pieces(cols[begin:ends[r]], width, r in skip)
                begin = int(ends[r])
        self.finish()

    def _row_pieces(self, cols: np.ndarray, width: int, zero: bool = False) -> Iterator[np.ndarray]:
        """One row's values in pieces of ``width`` columns (``cols``: its ones, sorted; ``zero``:
        an ignored row, zeros even when smoothed)."""
        c = self.space.num_classes  # type: ignore[union-attr]
        for a in range(0, c, width):
            b = min(c, a + width)
            out = np.zeros(b - a, dtype=np.int64)
            lo, hi = np.searchsorted(cols, [a, b])
            out[cols[lo:hi] - a] = 1
            yield np.zeros(b - a) if zero else self._values(out)

    def finish(self) -> None:
        """Emit the closing notes (ignored labels, rows without labels, repeated labels); once."""
        if self._ignored:
            k = self.ignore_class
            became = "an all-zero vector" if self._ignored == 1 else "all-zero vectors"
            note(f"{plural(self._ignored, self.unit)} had the label {k} "
                 f"({opt('ignore_class', k)}) and became {became} "
                 f"(first: {self.location(self._first_ignored or 0)})")
        if self._empty_rows:
            note(f"{plural(self._empty_rows, 'row')} had no label and became all-zero rows "
                 f"(first: {self.location(self._first_empty or 0)})")
        if self._dup_rows:
            note(f"{plural(self._dup_rows, 'row')} repeated a label; it was counted once "
                 f"(first: {self.location(self._first_dup or 0)})")
        if self.smooth > 0 and self.multi_label:
            note(f"multi-label smoothing treats each column as a binary target: "
                 f"y*(1-{self.smooth!r}) + {self.smooth!r}/2")
        self._empty_rows = self._dup_rows = self._ignored = 0
        self._first_empty = self._first_dup = self._first_ignored = None


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
    ignore_class: int | None = None,
    class_axis: int | None = None,
) -> np.ndarray:
    """One-hot encode a whole array of labels.

    ``onehot([1, 2], 3)`` is ``[[0, 1, 0], [0, 0, 1]]``. See :class:`OneHotEncoder` for the
    options and the errors. A label map ``(N, d1, ..., dk)`` (N-D, or 2-D with ``class_axis``)
    gives one-hot maps ``(N, d1, ..., dk, C)``, or the class axis at ``class_axis``
    (:func:`lossctl.labelmaps.onehot_map`).

    Args:
        labels: (N,) or (N, 1) integer/whole-float/string labels; (N, k) with ``multi_label``.
        num_classes: C, or ``None`` to infer it (a note says what was inferred).

    Returns:
        (N, C) int64 one-hot rows (float64 with ``dtype="float"`` or ``smooth > 0``).
    """
    arr = np.asarray(labels)
    if arr.ndim >= 3 or (class_axis is not None and not multi_label):
        from lossctl.labelmaps import onehot_map

        return onehot_map(arr, num_classes, class_axis=class_axis, offset=offset,
                          classes=classes, dtype=dtype, smooth=smooth, location=location,
                          ignore_class=ignore_class, multi_label=multi_label)
    if arr.ndim == 1 and multi_label and not is_text(arr):
        arr = arr[:, None]
    enc = OneHotEncoder(num_classes, offset=offset, classes=classes, dtype=dtype, smooth=smooth,
                        multi_label=multi_label, location=location, ignore_class=ignore_class)
    enc.fit([(arr, 0)])
    out = enc.transform(arr, 0)
    enc.finish()
    return out
