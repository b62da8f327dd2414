"""The loss report: where the loss comes from, built from per-sample blocks in bounded memory.

:class:`ReportBuilder` is fed the :class:`~lossctl.engine.BlockResult` of every block by the
pipeline (:mod:`lossctl.pipeline`, ``report=True``) and keeps:

- the ``top`` worst samples (index, true class, predicted class, confidence, loss);
- per-class running sums (count, loss, correct predictions) for classification losses;
- a histogram of per-sample losses over log-spaced (or, for signed losses, linear) bins, from a
  bounded reservoir of values (exact when N <= ``reservoir``).

What "worst" means follows ``LossSpec.per_sample``: the highest losses; the wrong rows of an
accuracy (its per-sample values are 1 right, 0 wrong; per class: the error rate and the share
of the errors); nothing for a ranking (ROC AUC, average precision), whose per-sample values are
the scores it ranks: a high score is bad for a negative row and good for a positive one.

:meth:`ReportBuilder.build` returns a plain :class:`Report` (records and lists: JSON-able,
rendered by :mod:`lossctl.render`). No rich here.
"""
from __future__ import annotations

from collections.abc import Sequence
from lossctl.record import field, record
from typing import Any

import numpy as np

from lossctl.result import class_label


@record
class Worst:
    index: int
    true: str | None
    predicted: str | None
    confidence: float | None
    loss: float


@record
class ClassRow:
    label: str
    count: int
    mean_loss: float
    share: float  # share of the total (unweighted) loss
    accuracy: float | None


@record
class Bin:
    lo: float
    hi: float
    count: int


#: per ``LossSpec.per_sample``: the name of a sample's value, of a class's mean of them, and
#: of a class's share of their total (None: not shown)
LABELS = {
    "loss": ("loss", "mean loss", "share of loss"),
    "correct": ("correct", "error rate", "share of errors"),
    "score": ("score", "mean score", None),
}


@record
class Report:
    loss: str
    alias: str | None
    convention: str
    reduction: str
    value: float | None
    samples: int
    classes: int | None
    options: dict[str, Any]
    counts: dict[str, int]
    worst: list[Worst] = field(default_factory=list)
    per_class: list[ClassRow] = field(default_factory=list)
    histogram: list[Bin] = field(default_factory=list)
    nonfinite: int = 0
    predictions: str = ""  # how the predictions were read, and why
    #: N-D inputs: elements (pixels, tokens) in all, and one sample's shape of y_pred; the
    #: per-class rows are then over elements, the worst rows are samples
    elements: int | None = None
    shape: tuple[int, ...] | None = None
    #: the bootstrap interval of the value (``Result.ci`` without its replicate values)
    ci: dict[str, Any] | None = None
    #: what a per-sample value is (``LossSpec.per_sample``; its names in :data:`LABELS`)
    per_sample: str = "loss"

    @property
    def labels(self) -> tuple[str, str, str | None]:
        """The names of a sample's value, of a class's mean and of its share (:data:`LABELS`)."""
        return LABELS[self.per_sample]


class ReportBuilder:
    """Accumulates what the report shows, block by block."""

    @classmethod
    def of(cls, req: Any, comp: Any) -> ReportBuilder:
        """The builder of a request's report, whose values ``comp`` (its first computation)
        computes."""
        return cls(top=req.top, class_names=req.classes, offset=comp.offset,
                   per_sample=comp.spec.per_sample)

    def __init__(self, *, top: int = 10, class_names: Sequence[str] | None = None,
                 offset: int = 0, reservoir: int = 200_000, seed: int = 0,
                 per_sample: str = "loss") -> None:
        self.per_sample = per_sample
        # a ranking's scores say nothing about which sample is worst
        self.top = 0 if per_sample == "score" else max(int(top), 0)
        self.class_names = list(class_names) if class_names else None
        self.offset = offset
        #: (key, row, true class, predicted class, confidence, value), worst first
        self._worst: list[tuple[float, int, int | None, int | None, float | None, float]] = []
        self._cls_count = np.zeros(0, dtype=np.int64)
        self._cls_loss = np.zeros(0, dtype=np.float64)
        self._cls_correct = np.zeros(0, dtype=np.int64)
        self._has_pred = False
        self._has_classes = False
        self._res = np.empty(0, dtype=np.float64)
        self._cap = reservoir
        self._seen = 0
        self._seed = seed
        self._rng: np.random.Generator | None = None  # numpy.random is imported only if needed
        self._nonfinite = 0

    def feed(self, block: Any) -> None:
        v = np.asarray(block.per_sample, dtype=np.float64)
        n = v.shape[0]
        idx = np.arange(block.start, block.start + n)
        finite = np.isfinite(v)
        self._nonfinite += int((~finite).sum())
        # top-K worst (NaN/inf first: they are what the user must see); a wrong row (0) is
        # the worst of an accuracy's
        if self.top:
            key = np.where(finite, -v if self.per_sample == "correct" else v, np.inf)
            k = min(self.top, n)
            cand = np.argpartition(-key, k - 1)[:k] if k < n else np.arange(n)
            for i in cand:
                t = None if block.true_class is None else int(block.true_class[i])
                p = None if block.pred_class is None else int(block.pred_class[i])
                c = None if block.confidence is None else float(block.confidence[i])
                self._worst.append((float(key[i]), int(idx[i]), t, p, c, float(v[i])))
            self._worst.sort(key=lambda r: (-r[0], r[1]))
            del self._worst[self.top:]
        # per class: over the rows, or over the elements (pixels, tokens) of N-D samples
        el = getattr(block, "elements", None)
        if el is not None:
            self._per_class(el.true_class, el.pred_class, np.asarray(el.values, np.float64))
        else:
            self._per_class(block.true_class, block.pred_class, v)
        # reservoir of values for the histogram
        fv = v[finite]
        room = self._cap - self._res.shape[0]
        if room > 0:
            self._res = np.concatenate([self._res, fv[:room]])
            fv = fv[room:]
        if fv.size:  # Algorithm R, vectorised per block
            if self._rng is None:
                self._rng = np.random.default_rng(self._seed)
            pos = self._seen + (finite.sum() - fv.size) + np.arange(fv.size)
            j = (self._rng.random(fv.size) * (pos + 1)).astype(np.int64)
            keep = j < self._cap
            self._res[j[keep]] = fv[keep]
        self._seen += int(finite.sum())

    def _per_class(self, true_class: Any, pred_class: Any, v: np.ndarray) -> None:
        finite = np.isfinite(v)
        if true_class is None:
            return
        self._has_classes = True
        tc = np.asarray(true_class)
        ok = tc >= 0
        tc_ok = tc[ok]
        size = int(tc_ok.max(initial=-1)) + 1
        if pred_class is not None:
            size = max(size, int(np.asarray(pred_class).max(initial=-1)) + 1)
        self._grow(size)
        np.add.at(self._cls_count, tc_ok, 1)
        np.add.at(self._cls_loss, tc_ok, np.where(finite[ok], v[ok], 0.0))
        if pred_class is not None:
            self._has_pred = True
            hit = np.asarray(pred_class)[ok] == tc_ok
            np.add.at(self._cls_correct, tc_ok[hit], 1)

    def _grow(self, size: int) -> None:
        if size > self._cls_count.shape[0]:
            pad = size - self._cls_count.shape[0]
            self._cls_count = np.concatenate([self._cls_count, np.zeros(pad, np.int64)])
            self._cls_loss = np.concatenate([self._cls_loss, np.zeros(pad)])
            self._cls_correct = np.concatenate([self._cls_correct, np.zeros(pad, np.int64)])

    def label(self, cls: int | None) -> str | None:
        return class_label(cls, self.class_names, self.offset)

    def build(self, result: Any, *, bins: int = 12) -> Report:
        counters = result.counters
        rep = Report(
            loss=result.loss,
            alias=result.alias,
            convention=result.convention,
            reduction=result.reduction,
            value=result.value,
            ci=None if result.ci is None else {k: v for k, v in result.ci.items()
                                               if k != "values"},
            samples=result.samples,
            classes=result.classes,
            options=dict(result.options),
            counts={
                "clipped": counters.clipped,
                "renormalised": counters.renormalised,
                "ignored": counters.ignored,
                "rounded": counters.rounded,
            },
            nonfinite=self._nonfinite,
            predictions=getattr(result, "reading", ""),
            elements=getattr(result, "elements", None),
            shape=getattr(result, "shape", None),
            per_sample=self.per_sample,
        )
        for _, i, t, p, c, v in self._worst:
            rep.worst.append(Worst(i, self.label(t), self.label(p), c, v))
        if self._has_classes:
            rep.per_class = self._class_rows()
        if self.per_sample != "correct":  # a histogram of 0s and 1s says nothing
            rep.histogram = histogram(self._res, bins=bins)
        return rep

    def _class_rows(self) -> list[ClassRow]:
        """Per class: the mean value (an accuracy's: the error rate) and the share of the total
        (of the errors); a ranking's predicted classes are not defined: no accuracy."""
        sums, counts = self._cls_loss, self._cls_count
        if self.per_sample == "correct":
            sums = counts - sums  # the wrong rows
        total = float(sums[counts > 0].sum()) if counts.size else 0.0
        rows = []
        for cls in range(counts.shape[0]):
            cnt = int(counts[cls])
            if cnt == 0:
                continue
            part = float(sums[cls])
            rows.append(ClassRow(
                label=self.label(cls) or str(cls), count=cnt, mean_loss=part / cnt,
                share=part / (total or 1.0),
                accuracy=(int(self._cls_correct[cls]) / cnt)
                if self._has_pred and self.per_sample != "score" else None))
        return rows


def histogram(values: np.ndarray, *, bins: int = 12) -> list[Bin]:
    """Bins for a terminal histogram: log-spaced when the values are positive and span more
    than two decades (cross-entropy typically does), linear otherwise."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return []
    lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        return [Bin(lo, hi, int(v.size))]
    pos = v[v > 0]
    if lo >= 0 and pos.size and pos.max() / pos.min() > 100:
        small = float(pos.min())
        edges = np.geomspace(small, hi, bins)
        edges = np.concatenate([[lo], edges]) if lo < small else np.concatenate([[small], edges[1:]])
        edges = np.unique(edges)
    else:
        edges = np.linspace(lo, hi, bins + 1)
    counts, edges = np.histogram(v, bins=edges)
    return [Bin(float(a), float(b), int(c)) for a, b, c in zip(edges[:-1], edges[1:], counts)]


def bar(count: int, biggest: int, width: int = 30) -> str:
    """A text bar proportional to count (used by the renderer; plain text, no markup)."""
    if biggest <= 0:
        return ""
    full = count * width / biggest
    n = int(full)
    frac = full - n
    s = "█" * n
    if frac >= 0.5 and n < width:
        s += "▌"
    if count and not s:
        s = "▏"
    return s

