"""What an array holds: label encodings and prediction kinds, detected from their values.

:func:`describe_labels` tells class indices (from 0 or 1) from 0/1 columns, -1/+1, one-hot,
multi-hot, soft (probability) rows, string labels and real values; :func:`describe_predictions`
tells probabilities from independent probabilities, log-probabilities, logits and real values.
``inspect`` reports them, and the pipeline's diagnostics use the same statistics.

Both are computed in one pass over row blocks of any size, in memory bounded by the block and
the number of classes: :class:`LabelStats` and :class:`PredStats` are fed the blocks of a source
(``feed``) and give the description at the end (``info``); the result does not depend on how the
rows were cut into blocks, and the whole-array functions are the one-block case. The statistics
are counts, minima and maxima, per-column and per-class counts, the rows that do not sum to 1
or whose logsumexp is not 0, and the distinct label values, of which at most
:data:`MAX_CLASSES` (the smallest) are kept: a label column with more is reported with
``classes_truncated`` set and says so in its reason.

Blocks follow the dtype rule of the readers (:mod:`lossctl.io.source`): a text block among
numeric ones makes the whole column text, as joining the blocks would. A label stream that turns
to text after numeric blocks needs a second pass in text mode (:attr:`LabelStats.needs_text_pass`,
done by :func:`describe_label_stream`); without one (standard input is read once) the rows
before the first text block are not counted, and the description says so.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from lossctl.labels import is_text, split_multi_label

__all__ = [
    "MAX_CLASSES",
    "LabelInfo",
    "LabelStats",
    "PredInfo",
    "PredStats",
    "describe_label_stream",
    "describe_labels",
    "describe_predictions",
]

_SUM_TOL = 1e-4
#: Distinct label values kept (the smallest): more than this is not a set of classes.
MAX_CLASSES = 1 << 16
#: Characters of text labels kept (the smallest labels that fit): a bound on their memory.
MAX_CLASS_CHARS = 4 << 20
#: Integer labels spanning fewer values than this are counted with bincount, not a sort.
_BINCOUNT_SPAN = 1 << 20


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
        num_classes: C implied by the encoding (None for real/soft single column/empty, and for
            text labels not all counted: more distinct values than are kept, or rows uncounted).
        offset: the first label for ``index_offset`` (0 otherwise).
        classes: the classes found (label values, or column indices for one/multi-hot/soft).
        counts: rows per class, aligned with ``classes`` (column sums for one/multi-hot;
            arg-max counts for soft rows).
        nan: number of NaN cells (ignored by the detection).
        reason: one sentence explaining the decision.
        classes_truncated: ``classes`` and ``counts`` hold only the smallest
            :data:`MAX_CLASSES` label values (the column has more), or leave rows uncounted.
        void: a label apart from the classes, likely marking rows (pixels) to ignore: 255 or
            65535 above a gap (masks), or the one negative -100 or -1; in ``classes`` and
            ``counts``, not in ``num_classes`` nor the range of ``reason``. Else None.
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
    classes_truncated: bool = False
    void: int | None = None


_VOID_HIGH = (255, 65535)  # labels of pixels to ignore in masks, when they stand above a gap


def _void(classes: list[int], cut: bool) -> int | None:
    """The label of ``classes`` (sorted, complete unless ``cut``) that stands apart, if any
    (:attr:`LabelInfo.void`); it needs two other labels, so 0/255 masks stay two classes."""
    if cut or len(classes) < 3:
        return None
    if classes[-1] in _VOID_HIGH and classes[-2] < classes[-1] - 1:
        return classes[-1]
    neg = classes[0]
    if neg < 0 <= classes[1] and (neg == -100 or (neg == -1 and len(classes) >= 4)):
        return neg
    return None


def _as_2d(arr) -> np.ndarray:
    """An array as ``(rows, columns)``: a scalar is one cell, a 1-D array one column, more
    dimensions are flattened into the columns."""
    a = np.asarray(arr)
    if a.ndim <= 1:
        return a.reshape(-1, 1)
    return a if a.ndim == 2 else a.reshape(a.shape[0], int(np.prod(a.shape[1:])))


def _block_rows(stats, block) -> np.ndarray:
    """A block (an array, or a reader's block with ``.data``) as 2-D rows; every block fed to
    one ``stats`` must have the same number of columns."""
    a = _as_2d(block.data if hasattr(block, "data") and not isinstance(block, np.ndarray)
               else block)
    k = a.shape[1]
    if stats.columns is None:
        stats.columns = k
    elif k != stats.columns:
        raise ValueError(f"a block of {k} columns after blocks of {stats.columns}")
    return a


def _count_ints(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values of an int64 array and their counts."""
    lo, hi = int(v.min()), int(v.max())
    if hi - lo < _BINCOUNT_SPAN:
        cnt = np.bincount(v - lo)
        nz = np.flatnonzero(cnt)
        return nz.astype(np.int64) + lo, cnt[nz].astype(np.int64)
    keys, cnt = np.unique(v, return_counts=True)
    return keys, cnt.astype(np.int64)


class _IntCounts:
    """Counts of integer values, keeping the ``cap`` smallest (exactly, whatever the blocks)."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.keys = np.empty(0, dtype=np.int64)
        self.counts = np.empty(0, dtype=np.int64)
        self.cut = False

    def add(self, v: np.ndarray) -> None:
        if not v.size:
            return
        keys, cnt = _count_ints(v)
        if self.keys.size:
            keys, inv = np.unique(np.concatenate([self.keys, keys]), return_inverse=True)
            total = np.zeros(keys.size, dtype=np.int64)
            np.add.at(total, inv.reshape(-1), np.concatenate([self.counts, cnt]))
            cnt = total
        if keys.size > self.cap:  # a dropped value is larger than every kept one: never back
            self.cut = True
            keys, cnt = keys[: self.cap], cnt[: self.cap]
        self.keys, self.counts = keys, cnt


class _TextCounts:
    """Counts of text labels, keeping the longest prefix (in sorted order) of every label seen
    that holds at most ``cap`` labels of at most ``chars`` characters in all."""

    def __init__(self, cap: int, chars: int) -> None:
        self.cap, self.max_chars = cap, chars
        self.counts: dict[str, int] = {}
        self.chars = 0
        self.bound: str | None = None  # the smallest label ever dropped: it and larger stay out
        self.cut = False

    def add_cells(self, a: np.ndarray) -> None:
        flat = a.reshape(-1)
        if flat.dtype.kind in "US":
            cells, cnt = np.unique(flat, return_counts=True)
            pairs = zip(cells.tolist(), cnt.tolist())
        else:  # objects: compared as their text, as the whole-array description did
            pairs = {}
            for c in flat.tolist():
                s = str(c)
                pairs[s] = pairs.get(s, 0) + 1
            pairs = pairs.items()
        for cell, n in pairs:
            for tok in split_multi_label(str(cell)):
                self._add(tok, n)
        if len(self.counts) > self.cap or self.chars > self.max_chars:
            self._trim()

    def _add(self, tok: str, n: int) -> None:
        if self.bound is not None and tok >= self.bound:
            return
        if tok in self.counts:
            self.counts[tok] += n
        else:
            self.counts[tok] = n
            self.chars += len(tok)

    def _trim(self) -> None:
        kept, chars = {}, 0
        for tok in sorted(self.counts):
            if len(kept) == self.cap or chars + len(tok) > self.max_chars:
                self.bound, self.cut = tok, True
                break
            kept[tok] = self.counts[tok]
            chars += len(tok)
        self.counts, self.chars = kept, chars

    def result(self) -> tuple[list, list[int]]:
        """Sorted labels and counts, grouped as numpy groups them (a NumPy string drops
        trailing NULs, so two Python strings may be one label)."""
        if not self.counts:
            return [], []
        toks = np.asarray(list(self.counts), dtype=str)
        uniq, inv = np.unique(toks, return_inverse=True)
        total = np.zeros(uniq.size, dtype=np.int64)
        np.add.at(total, inv.reshape(-1), np.fromiter(self.counts.values(), dtype=np.int64))
        return uniq.tolist(), [int(c) for c in total]


class LabelStats:
    """The statistics of :func:`describe_labels`, accumulated over row blocks.

    ``feed`` every block in order, then ``info()``. ``text=True`` reads every block as text
    (numbers as the readers write them), for the second pass :attr:`needs_text_pass` asks for.
    """

    def __init__(self, *, text: bool = False, max_classes: int = MAX_CLASSES,
                 max_chars: int = MAX_CLASS_CHARS) -> None:
        self.rows = 0
        self.columns: int | None = None
        self.text = text
        self.uncounted = 0  # rows read as numbers before the first text block (no second pass)
        self._numeric_rows = 0
        self.nan = 0
        self.ok_rows = 0  # rows without NaN
        self.lo, self.hi = np.inf, -np.inf
        self.finite = True
        self.integral = True
        self.ints = _IntCounts(max_classes)  # one column of whole numbers
        self.ilo: int | None = None
        self.ihi: int | None = None
        self.zeros = 0  # several columns of whole numbers: zero cells, and ones per column
        self.ones: np.ndarray | None = None
        self.rows_not_one = 0  # rows of 0/1 values without exactly one 1
        self.soft_bad = 0  # rows of values in [0, 1] not summing to 1
        self.argmax: np.ndarray | None = None
        self.strings = _TextCounts(max_classes, max_chars)

    @property
    def needs_text_pass(self) -> bool:
        """True when a text block came after numeric ones: feed every block again to a
        ``LabelStats(text=True)`` for the description of the whole column as text."""
        return self.uncounted > 0

    def feed(self, block) -> None:
        """Add a block of rows (``(n,)`` or ``(n, k)``; numbers or text)."""
        a = _block_rows(self, block)
        n, k = a.shape
        self.rows += n
        if not a.size:
            return
        if is_text(a) and not self.text:
            self.text = True
            self.uncounted = self._numeric_rows
        if self.text:
            self.strings.add_cells(a if is_text(a) else a.astype(str))
            return
        self._numeric_rows += n
        self._numbers(a.astype(np.int64) if a.dtype.kind == "b" else a)

    def _numbers(self, a: np.ndarray) -> None:
        x = np.ascontiguousarray(a, dtype=np.float64)  # C order: row sums as the whole array's
        nan_mask = np.isnan(x)
        nan = int(nan_mask.sum())
        self.nan += nan
        xv = x[~nan_mask.any(axis=1)] if nan else x
        if not xv.size:
            return
        self.ok_rows += xv.shape[0]
        lo, hi = float(xv.min()), float(xv.max())
        self.lo, self.hi = min(self.lo, lo), max(self.hi, hi)
        if self.finite and not (np.isfinite(lo) and np.isfinite(hi)):
            self.finite = False
        if self.integral and not (self.finite and bool((xv == np.floor(xv)).all())):
            self.integral = False
        if self.columns == 1:
            if self.integral:
                v = xv[:, 0].astype(np.int64)
                self.ints.add(v)
                vlo, vhi = int(v.min()), int(v.max())
                self.ilo = vlo if self.ilo is None else min(self.ilo, vlo)
                self.ihi = vhi if self.ihi is None else max(self.ihi, vhi)
            return
        self._columns(xv)

    def _columns(self, xv: np.ndarray) -> None:
        """Several columns: the one-hot, -1/+1 and probability-row statistics, while the
        values seen so far allow each."""
        k = xv.shape[1]
        if self.integral and self.lo >= -1 and self.hi <= 1:
            ones = xv == 1
            per_col = ones.sum(axis=0)
            self.ones = per_col if self.ones is None else self.ones + per_col
            self.zeros += int((xv == 0).sum())
            if self.lo >= 0:
                self.rows_not_one += int((ones.sum(axis=1) != 1).sum())
        if self.finite and self.lo >= 0 and self.hi <= 1:
            sums = xv.sum(axis=1)
            self.soft_bad += int((np.abs(sums - 1) > _SUM_TOL).sum())
            am = np.bincount(np.argmax(xv, axis=1), minlength=k)
            self.argmax = am if self.argmax is None else self.argmax + am

    # ------------------------------------------------------------------------------ result
    def info(self) -> LabelInfo:
        """The description of every row fed so far."""
        n, k = self.rows, self.columns if self.columns is not None else 1
        if not n * k:
            return LabelInfo("empty", n, k, reason="the array has no values")
        if self.text:
            return self._text_info(n, k)
        if not self.ok_rows:
            return LabelInfo("empty", n, k, nan=self.nan, reason="every row has a NaN")
        if k == 1:
            if self.integral:
                return self._int_info(n)
            if self.finite and self.lo >= 0 and self.hi <= 1:
                return LabelInfo("soft", n, k, nan=self.nan,
                                 reason="one column of values in [0, 1], not all 0/1 "
                                 "(soft binary targets)")
            return LabelInfo("real", n, k, nan=self.nan, reason="real values")
        return self._dense_info(n, k)

    def _text_info(self, n: int, k: int) -> LabelInfo:
        classes, counts = self.strings.result()
        cut = self.strings.cut
        if cut:
            reason = (f"text labels: more than {len(classes)} distinct values (the first "
                      f"{len(classes)} in sorted order are counted)")
        else:
            reason = f"text labels: {len(classes)} distinct values"
        if self.uncounted:
            reason += (f"; the first {self.uncounted} rows were read as numbers and are not "
                       "counted (the input could be read only once)")
        return LabelInfo("string", n, k,
                         num_classes=None if cut or self.uncounted else len(classes),
                         classes=classes, counts=counts, reason=reason,
                         classes_truncated=cut or bool(self.uncounted))

    def _int_info(self, n: int) -> LabelInfo:
        ints = self.ints
        lo, hi = int(self.ilo), int(self.ihi)
        classes = [int(c) for c in ints.keys]
        cnt = [int(c) for c in ints.counts]
        nan, cut = self.nan, ints.cut
        more = f" (more than {len(classes)} distinct values: the smallest are listed)" if cut else ""
        void = _void(classes, cut)
        rest = classes
        if void is not None:
            rest = [c for c in classes if c != void]
            lo, hi = rest[0], rest[-1]
            more += f", and {void} apart from them (a label of rows or pixels to ignore?)"

        def label(encoding: str, reason: str, **kw) -> LabelInfo:
            return LabelInfo(encoding, n, 1, classes=classes, counts=cnt, nan=nan,
                             reason=reason + more, classes_truncated=cut, void=void, **kw)

        if not cut and void is None and set(rest) <= {0, 1}:
            return label("binary", "one column of 0/1 values", num_classes=2)
        if not cut and void is None and set(rest) <= {-1, 1}:
            return label("signed", "one column of -1/+1 values", num_classes=2)
        if lo == 0:
            return label("index", f"integers 0..{hi}", num_classes=hi + 1)
        if lo >= 1 and (lo == 1 or (not cut and len(rest) == hi - lo + 1)):
            return label("index_offset", f"integers {lo}..{hi}: labels start at {lo}",
                         num_classes=hi - lo + 1, offset=lo)
        if lo > 1:
            return label("index", f"integers {lo}..{hi} with gaps; classes 0..{lo - 1} absent",
                         num_classes=hi + 1)
        return LabelInfo("real", n, 1, classes=[], counts=[], nan=nan,
                         reason=f"integers with negative values (down to {lo})")

    def _dense_info(self, n: int, k: int) -> LabelInfo:
        nan = self.nan
        if self.integral and self.lo >= 0 and self.hi <= 1:
            col_counts = [int(c) for c in self.ones]
            if not self.rows_not_one:
                return LabelInfo("onehot", n, k, num_classes=k, classes=list(range(k)),
                                 counts=col_counts, nan=nan, reason="every row has exactly one 1")
            return LabelInfo("multihot", n, k, num_classes=k, classes=list(range(k)),
                             counts=col_counts, nan=nan,
                             reason=f"0/1 rows; {self.rows_not_one} rows have no or several ones")
        if self.integral and self.lo >= -1 and self.hi <= 1 and not self.zeros:
            return LabelInfo("signed", n, k, num_classes=k, classes=list(range(k)),
                             counts=[int(c) for c in self.ones], nan=nan,
                             reason="-1/+1 values in every column")
        if self.finite and self.lo >= 0 and self.hi <= 1:
            if not self.soft_bad:
                return LabelInfo("soft", n, k, num_classes=k, classes=list(range(k)),
                                 counts=[int(c) for c in self.argmax], nan=nan,
                                 reason="rows of values in [0, 1] summing to 1 (probability rows)")
            return LabelInfo("real", n, k, nan=nan,
                             reason="values in [0, 1] whose rows do not sum to 1")
        return LabelInfo("real", n, k, nan=nan, reason="real values")


def describe_labels(arr) -> LabelInfo:
    """Detect the encoding of a label array (see :class:`LabelInfo` for the encodings).

    Args:
        arr: (N,) or (N, k) labels: numbers or strings.

    Returns:
        A :class:`LabelInfo`.
    """
    stats = LabelStats()
    stats.feed(arr)
    return stats.info()


def describe_label_stream(blocks: Callable[[], Iterable], *, again: bool = True,
                          max_classes: int = MAX_CLASSES) -> LabelInfo:
    """Describe the labels of a stream of row blocks.

    Args:
        blocks: called for each pass; returns the blocks (arrays, or objects with ``.data``).
        again: whether ``blocks`` may be called a second time (False for standard input).
            A second pass is made only when a text block follows numeric ones.
        max_classes: distinct label values kept.
    """
    stats = LabelStats(max_classes=max_classes)
    for b in blocks():
        stats.feed(b)
    if stats.needs_text_pass and again:
        stats = LabelStats(text=True, max_classes=max_classes)
        for b in blocks():
            stats.feed(b)
    return stats.info()


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


class PredStats:
    """The statistics of :func:`describe_predictions`, accumulated over row blocks
    (``feed`` every block in order, then ``info()``)."""

    def __init__(self) -> None:
        self.rows = 0
        self.columns: int | None = None
        self.text = False
        self.nan = self.posinf = self.neginf = 0
        self.fmin, self.fmax = np.inf, -np.inf  # over the finite cells
        self.any_finite = False
        self.usable = 0  # rows free of NaN and +inf
        self.umin, self.umax = np.inf, -np.inf  # over those rows (-inf included)
        self.off = 0  # finite rows not summing to 1
        self.first_off: int | None = None
        self.lse_bad = 0  # usable rows whose logsumexp is not 0 (while every value is <= 0)

    def feed(self, block) -> None:
        """Add a block of rows (``(n,)`` or ``(n, k)``)."""
        a = _block_rows(self, block)
        n, k = a.shape
        start = self.rows
        self.rows += n
        if is_text(a):
            self.text = True
        if self.text or not a.size:
            return
        self._numbers(np.ascontiguousarray(a, dtype=np.float64), start)

    def _numbers(self, x: np.ndarray, start: int) -> None:
        k = x.shape[1]
        fin = np.isfinite(x)
        if fin.all():  # the usual block: no mask to build, every row usable
            rows_fin = None
            xv = x
            lo, hi = float(x.min()), float(x.max())
            self.any_finite = True
            self.fmin, self.fmax = min(self.fmin, lo), max(self.fmax, hi)
        else:
            rows_fin, xv = self._non_finite(x, fin)
            if not xv.size:
                return
            lo, hi = float(xv.min()), float(xv.max())
        del fin
        if k >= 2:
            s = (x if rows_fin is None else x[rows_fin]).sum(axis=1)
            off = np.abs(s - 1.0) > _SUM_TOL
            n_off = int(off.sum())
            if n_off and self.first_off is None:
                i = int(np.flatnonzero(off)[0])
                self.first_off = start + (i if rows_fin is None
                                          else int(np.flatnonzero(rows_fin)[i]))
            self.off += n_off
        self.usable += xv.shape[0]
        self.umin, self.umax = min(self.umin, lo), max(self.umax, hi)
        if k >= 2 and self.umax <= 0:
            m = xv.max(axis=1, keepdims=True)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                lse = (m + np.log(np.exp(xv - m).sum(axis=1, keepdims=True)))[:, 0]
            self.lse_bad += int((~(np.abs(lse) <= _SUM_TOL)).sum())

    def _non_finite(self, x: np.ndarray, fin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Count the NaN and infinite cells of a block that has some; its finite rows, and its
        rows free of NaN and +inf (-inf is a valid log-probability)."""
        nan_mask, pinf = np.isnan(x), np.isposinf(x)
        self.nan += int(nan_mask.sum())
        self.posinf += int(pinf.sum())
        self.neginf += int(np.isneginf(x).sum())
        if fin.any():
            self.any_finite = True
            self.fmin = min(self.fmin, float(np.min(x, where=fin, initial=np.inf)))
            self.fmax = max(self.fmax, float(np.max(x, where=fin, initial=-np.inf)))
        usable = ~(nan_mask | pinf).any(axis=1)
        return fin.all(axis=1), x[usable]

    def info(self) -> PredInfo:
        """The description of every row fed so far."""
        n, k = self.rows, self.columns if self.columns is not None else 1
        if self.text:
            return PredInfo("real", n, k, reason="text values; predictions must be numbers")
        info = PredInfo("empty", n, k, nan=self.nan, posinf=self.posinf, neginf=self.neginf)
        if self.any_finite:
            info.min, info.max = self.fmin, self.fmax
        if not n * k:
            info.reason = "the array has no values"
            return info
        if k >= 2:
            info.rows_not_summing_to_one = self.off
            info.first_row_not_summing_to_one = self.first_off
        if not self.usable:
            info.reason = "no row is free of NaN/+inf"
            return info
        has_neginf = self.umin == -np.inf
        if not has_neginf and self.umin >= 0 and self.umax <= 1:
            if k >= 2 and not self.off:
                info.kind, info.reason = "probabilities", "values in [0, 1], rows sum to 1"
            else:
                info.kind = "independent_probabilities"
                info.reason = ("one column of values in [0, 1]" if k == 1
                               else "values in [0, 1], rows do not all sum to 1")
            return info
        if k >= 2 and self.umax <= 0 and not self.lse_bad:
            info.kind, info.reason = "log_probabilities", "values <= 0, rows have logsumexp 0"
            return info
        if k >= 2:
            info.kind, info.reason = "logits", "scores outside [0, 1] in several columns"
        elif self.any_finite and self.fmin < 0 < self.fmax:
            info.kind, info.reason = "logits", "one column with negative and positive scores"
        else:
            info.kind, info.reason = "real", "one column of values outside [0, 1] of one sign"
        return info


def describe_predictions(arr) -> PredInfo:
    """Detect what kind of predictions an array holds (see :class:`PredInfo`).

    Args:
        arr: (N,) or (N, C) numeric predictions.

    Returns:
        A :class:`PredInfo`.
    """
    stats = PredStats()
    stats.feed(arr)
    return stats.info()
