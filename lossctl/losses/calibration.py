"""Calibration metrics: expected and maximum calibration error with their reliability table,
and the Murphy decomposition of the Brier score.

Top-label calibration: a row's confidence is its largest probability and it is correct when
that class (the argmax, the first of equal maxima) is the true class; one column of P(positive)
is read as ``[1 - p, p]``, so its confidence is ``max(p, 1 - p)`` and it predicts class 1 when
``p > 0.5``. The rows are binned by confidence (``bins``, default 15): equal-width bins
``(b/B, (b+1)/B]`` (a confidence of 0 in the first), or equal-mass bins (``binning``), each
holding as many rows of the confidences sorted ascending (ties in row order; the first
``N mod B`` bins one row more), which needs every confidence: they are held within the memory
limit (:class:`~lossctl.losses.reduction.Held`) and fail clearly beyond it.

Equal-width bins and the Brier decomposition keep, per bin, an integer count and exact sums
(in the integer units of :mod:`lossctl.losses.exact`) of the weights, the weighted confidences
and the weighted correct rows (forecasts, outcomes and their products for Brier). Every value
is then computed in exact rational arithmetic from those integers and rounded once: the same
bits for any split of the rows, and aggregates fed later rows merge by adding.

scikit-learn has no calibration error; lossctl registers these under its convention (sample
weights as ``np.average``: ``sum(w x) / sum(w)``), and its fixtures are computed in plain numpy
from the textbook definitions (Guo et al. 2017, "On Calibration of Modern Neural Networks";
Murphy 1973, "A new vector partition of the probability score").
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from lossctl.errors import UsageError, opt
from lossctl.losses._numerics import check_convention
from lossctl.losses.exact import _UNIT
from lossctl.losses.metrics import (binary_labels, group_units, ratio, true_classes,
                                    whole_labels)
from lossctl.losses.reduction import Aggregate, Held
from lossctl.losses.scores import brier_terms

__all__ = ["BINNINGS", "BrierDecomposition", "ExpectedCalibration", "MaximumCalibration",
           "brier_decomposition", "expected_calibration_error", "maximum_calibration_error",
           "top_label"]

BINNINGS = ("equal-width", "equal-mass")
#: More bins than this are refused (a reliability table of a million bins is a mistake).
MAX_BINS = 100_000
_ONE = 1 << _UNIT  # an exact sum's units of the number 1


def top_label(y_true, y_pred, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, correct) of each row: the largest probability, and 1.0 where its class is
    the true class (see the module docstring)."""
    p = np.asarray(y_pred, dtype=np.float64)
    n, c = p.shape
    if c == 1:
        t = whole_labels(np.asarray(y_true).reshape(-1), name)
        binary_labels(t, name)
        x = p[:, 0]
        return np.maximum(x, 1 - x), ((x > 0.5) == (t == 1)).astype(np.float64)
    t = true_classes(y_true, c, name)
    predicted = np.argmax(p, axis=1)
    return p[np.arange(n), predicted], (predicted == t).astype(np.float64)


def _bins(options: dict, default: int) -> int:
    bins = int(options.get("bins", default))
    if not 1 <= bins <= MAX_BINS:
        raise UsageError(f"{opt('bins', bins)} is outside [1, {MAX_BINS}]",
                         hint="a reliability table has a few bins (10 or 15 are usual)",
                         option="bins")
    return bins


def equal_width(values: np.ndarray, bins: int) -> np.ndarray:
    """The bin of each value in [0, 1]: ``(b/B, (b+1)/B]``, 0 in the first."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    return np.searchsorted(edges[1:-1], values, side="left")


def expected_calibration_error(y_true, y_pred, *, convention: str = "sklearn", bins: int = 15,
                               binning: str = "equal-width") -> np.ndarray:
    """Expected calibration error (ECE) of the top label: the weighted mean over confidence
    bins of the gap between accuracy and confidence.

    Formula: ``ECE = sum_b (W_b / W) |acc_b - conf_b|`` with ``W_b`` the (weighted) rows of
    bin b, ``conf_b`` their mean confidence (largest probability) and ``acc_b`` the fraction
    whose argmax is the true class; per sample ``|conf - correct|`` (the ECE of one row alone,
    an upper bound of the ECE of any binning).

    Args:
        bins: the number of bins (default 15).
        binning: ``equal-width`` (default) or ``equal-mass`` (bins holding as many rows).

    Returns:
        (N,) PER-SAMPLE values in [0, 1] (float64).

    Conventions:
        scikit-learn has no ECE (torchmetrics' ``CalibrationError(norm="l1")`` is this for
        equal-width bins). The reliability table (per bin: range, rows, mean confidence,
        accuracy, gap = confidence - accuracy) comes with the result (``details``). Equal-width
        bins use running sums (any number of rows); equal-mass bins hold every confidence
        within the memory limit.
    """
    check_convention(convention)
    conf, correct = top_label(y_true, y_pred, "expected_calibration_error")
    return np.abs(conf - correct)


def maximum_calibration_error(y_true, y_pred, *, convention: str = "sklearn", bins: int = 15,
                              binning: str = "equal-width") -> np.ndarray:
    """Maximum calibration error (MCE) of the top label: the largest gap between accuracy and
    confidence over the bins that hold rows.

    Formula: ``MCE = max_{b: W_b > 0} |acc_b - conf_b|`` (see expected_calibration_error for
    the bins); per sample ``|conf - correct|``.

    Args:
        bins: the number of bins (default 15).
        binning: ``equal-width`` (default) or ``equal-mass``.

    Returns:
        (N,) PER-SAMPLE values in [0, 1] (float64).

    Conventions:
        As expected_calibration_error, with the same reliability table; torchmetrics'
        ``CalibrationError(norm="max")`` for equal-width bins. Empty bins do not count.
    """
    check_convention(convention)
    conf, correct = top_label(y_true, y_pred, "maximum_calibration_error")
    return np.abs(conf - correct)


class _Binned(Aggregate):
    """Per-bin integer counts and exact unit sums (lists of Python integers), or every row held
    (equal-mass); the reliability table and both errors come from them."""

    NAME = "expected_calibration_error"

    def __init__(self, options: dict, limit: int) -> None:
        super().__init__(options, limit)
        self.bins = _bins(options, 15)
        self.binning = str(options.get("binning", "equal-width"))
        if self.binning not in BINNINGS:
            raise UsageError(f"unknown {opt('binning', self.binning)}",
                             hint=f"use one of {', '.join(BINNINGS)}", option="binning")
        self._n = [0] * self.bins
        self._sw = [0] * self.bins  # weights
        self._sc = [0] * self.bins  # weighted confidences
        self._sa = [0] * self.bins  # weighted correct rows
        self._held = (Held(f"{self.NAME} with {opt('binning', 'equal-mass')}", limit)
                      if self.binning == "equal-mass" else None)

    def add(self, target, pred, values, weights) -> None:
        conf, correct = top_label(target, pred, self.NAME)
        w = self._weights(conf, weights)
        if self._held is not None:
            self._held.add(np.column_stack([conf, correct, w]))
            return
        b = equal_width(conf, self.bins)
        self._accumulate(b, conf, correct, w if weights is not None else None)

    def _accumulate(self, b, conf, correct, w) -> None:
        n = np.bincount(b, minlength=self.bins)
        if w is None:
            sw = [int(k) * _ONE for k in n]
            sa = [int(k) * _ONE for k in np.bincount(b, weights=correct, minlength=self.bins)]
            sc = group_units(conf, b, self.bins)
        else:
            sw = group_units(w, b, self.bins)
            sc = group_units(w * conf, b, self.bins)
            sa = group_units(w * correct, b, self.bins)
        for j in np.flatnonzero(n).tolist():
            self._n[j] += int(n[j])
            self._sw[j] += sw[j]
            self._sc[j] += sc[j]
            self._sa[j] += sa[j]

    def merge(self, other: Aggregate) -> None:
        if not other.rows:
            return
        self.rows += other.rows
        self.weighted = self.weighted or other.weighted
        self._w.merge(other._w)
        if self._held is not None:
            self._held.merge(other._held)
            return
        for mine, theirs in ((self._n, other._n), (self._sw, other._sw),
                             (self._sc, other._sc), (self._sa, other._sa)):
            for j, v in enumerate(theirs):
                mine[j] += v

    def _sums(self) -> tuple[list, list, list, list, list[tuple[float, float]]]:
        """Counts, the three unit sums and each bin's range."""
        if self._held is None:
            edges = np.linspace(0.0, 1.0, self.bins + 1).tolist()
            return (self._n, self._sw, self._sc, self._sa,
                    [(edges[j], edges[j + 1]) for j in range(self.bins)])
        a = self._held.array(3)
        conf, correct, w = a[:, 0], a[:, 1], a[:, 2]
        order = np.argsort(conf, kind="stable")
        sizes = [len(s) for s in np.array_split(np.arange(conf.size), self.bins)]
        b = np.empty(conf.size, dtype=np.int64)
        b[order] = np.repeat(np.arange(self.bins), sizes)
        ranges = []
        for j, (lo, hi) in enumerate(zip(np.cumsum([0] + sizes[:-1]), np.cumsum(sizes))):
            part = conf[order[lo:hi]]
            ranges.append((float(part[0]), float(part[-1])) if part.size else (None, None))
        return (sizes, group_units(w, b, self.bins), group_units(w * conf, b, self.bins),
                group_units(w * correct, b, self.bins), ranges)

    def errors(self) -> tuple[float, float, list[dict]]:
        """(ECE, MCE, the reliability table)."""
        n, sw, sc, sa, ranges = self._sums()
        total = sum(sw)
        ece = ratio(sum(abs(a - c) for a, c in zip(sa, sc)), total)
        gaps = [Fraction(abs(a - c), w) for w, a, c in zip(sw, sa, sc) if w]
        mce = float(max(gaps)) if gaps else math.nan
        rows = []
        for j in range(self.bins):
            row = {"bin": j + 1, "from": ranges[j][0], "to": ranges[j][1], "count": n[j]}
            if self.weighted:
                row["weight"] = ratio(sw[j], _ONE)
            empty = not sw[j]
            row.update(confidence=None if empty else ratio(sc[j], sw[j]),
                       accuracy=None if empty else ratio(sa[j], sw[j]),
                       gap=None if empty else ratio(sc[j] - sa[j], sw[j]))
            rows.append(row)
        return ece, mce, rows

    def details(self) -> dict | None:
        if not self.rows:
            return None
        ece, mce, rows = self.errors()
        return {"binning": self.binning, "bins": self.bins,
                "expected_calibration_error": ece, "maximum_calibration_error": mce,
                "reliability": rows}


class ExpectedCalibration(_Binned):
    """The expected calibration error of the binned top-label confidences."""

    NAME = "expected_calibration_error"

    def value(self) -> float:
        return self.errors()[0] if self.rows else math.nan


class MaximumCalibration(_Binned):
    """The maximum calibration error of the binned top-label confidences."""

    NAME = "maximum_calibration_error"

    def value(self) -> float:
        return self.errors()[1] if self.rows else math.nan


# --- Brier score decomposition -----------------------------------------------------------------


def brier_decomposition(y_true, y_pred, *, convention: str = "sklearn",
                        bins: int = 10) -> np.ndarray:
    """The Brier score and its Murphy decomposition into reliability, resolution and
    uncertainty, the forecasts binned by probability.

    Formula: one column of P(positive) f with outcomes o in {0, 1}, bins k of ``W_k`` rows
    with mean forecast ``f_k`` and observed frequency ``o_k``, ``o`` the overall frequency::

        BS  = sum_n w (f - o)^2 / W                  (the value)
        REL = sum_k W_k (f_k - o_k)^2 / W            reliability (lower is better)
        RES = sum_k W_k (o_k - o)^2 / W              resolution (higher is better)
        UNC = o (1 - o)                              uncertainty (of the outcomes alone)
        BS  = REL - RES + UNC + WBV - 2 WBC

    where WBV and WBC are the within-bin variance of the forecasts and their within-bin
    covariance with the outcomes (Stephenson et al. 2008): both 0 when the forecasts are
    constant within each bin, so ``BS = REL - RES + UNC`` exactly then, and approximately
    with fine bins. Per sample: the Brier score of the row.

    Args:
        bins: equal-width bins of the forecast probability (default 10).

    Returns:
        (N,) PER-SAMPLE values: the Brier score of each row (float64).

    Conventions:
        The value is scikit-learn's ``brier_score_loss``. Several probability columns (class
        indices or one-hot y_true) are decomposed one-vs-rest per class and summed, which is
        scikit-learn's several-class Brier score; two columns are halved, as its
        ``scale_by_half="auto"``. The components and the per-bin table come with the result
        (``details``); running sums only, computed exactly and rounded once.
    """
    check_convention(convention)
    y, f, half = _forecasts(y_true, y_pred)
    return half * np.sum(np.square(y - f), axis=1)


def _forecasts(y_true, y_pred) -> tuple[np.ndarray, np.ndarray, float]:
    """(outcomes (N, K), forecasts (N, K), scale): one column as it is, else one-hot rows."""
    p = np.asarray(y_pred, dtype=np.float64)
    if p.shape[1] == 1:
        t = whole_labels(np.asarray(y_true).reshape(-1), "brier_decomposition")
        binary_labels(t, "brier_decomposition")
        return t[:, None].astype(np.float64), p, 1.0
    t = true_classes(y_true, p.shape[1], "brier_decomposition")
    y, f, half = brier_terms(t, p)
    return np.asarray(y, dtype=np.float64), np.asarray(f, dtype=np.float64), half


class BrierDecomposition(Aggregate):
    """Per (class, bin): an integer count and exact unit sums of ``w``, ``w f``, ``w o``,
    ``w f^2`` and ``w f o``; the components are exact rationals of those, rounded once."""

    _SUMS = ("w", "f", "o", "ff", "fo")

    def __init__(self, options: dict, limit: int) -> None:
        super().__init__(options, limit)
        self.bins = _bins(options, 10)
        self.half = 1.0
        self._n: dict[int, int] = {}
        self._s: dict[str, dict[int, int]] = {k: {} for k in self._SUMS}

    def add(self, target, pred, values, weights) -> None:
        y, f, self.half = _forecasts(target, pred)
        n, k = f.shape
        w = self._weights(f, weights)
        self.width = k
        if not n:
            return
        groups = (np.arange(k)[None, :] * self.bins + equal_width(f, self.bins)).reshape(-1)
        uniq, inv = np.unique(groups, return_inverse=True)
        ww = np.repeat(w, k)
        fv, ov = f.reshape(-1), y.reshape(-1)
        counts = np.bincount(inv, minlength=uniq.size)
        if weights is None:
            sums = {"w": [int(c) * _ONE for c in counts],
                    "o": [int(c) * _ONE for c in np.bincount(inv, weights=ov,
                                                             minlength=uniq.size)]}
        else:
            sums = {"w": group_units(ww, inv, uniq.size),
                    "o": group_units(ww * ov, inv, uniq.size)}
        sums["f"] = group_units(ww * fv, inv, uniq.size)
        sums["ff"] = group_units(ww * fv * fv, inv, uniq.size)
        sums["fo"] = group_units(ww * fv * ov, inv, uniq.size)
        for i, g in enumerate(uniq.tolist()):
            self._n[g] = self._n.get(g, 0) + int(counts[i])
            for name in self._SUMS:
                self._s[name][g] = self._s[name].get(g, 0) + sums[name][i]

    def merge(self, other: Aggregate) -> None:
        if not other.rows:
            return
        self.rows += other.rows
        self.weighted = self.weighted or other.weighted
        self.width = self.width or other.width
        self.half = other.half
        self._w.merge(other._w)
        for g, c in other._n.items():
            self._n[g] = self._n.get(g, 0) + c
        for name in self._SUMS:
            mine = self._s[name]
            for g, u in other._s[name].items():
                mine[g] = mine.get(g, 0) + u

    def components(self) -> dict[str, float]:
        """Brier score, reliability, resolution, uncertainty and the within-bin terms."""
        s = self._s
        by_class: dict[int, list[int]] = {}
        for g in sorted(self._n):
            if s["w"].get(g, 0):
                by_class.setdefault(g // self.bins, []).append(g)
        total = Fraction(0)
        parts = dict.fromkeys(("rel", "res", "unc", "wbv", "wbc", "bs"), Fraction(0))
        for groups in by_class.values():
            wk = sum(s["w"][g] for g in groups)
            ok = sum(s["o"].get(g, 0) for g in groups)
            total = Fraction(wk)  # every class counts every row
            parts["unc"] += Fraction(ok * (wk - ok), wk)
            for g in groups:
                wg, fg, og = s["w"][g], s["f"].get(g, 0), s["o"].get(g, 0)
                ff, fo = s["ff"].get(g, 0), s["fo"].get(g, 0)
                parts["rel"] += Fraction((fg - og) ** 2, wg)
                parts["res"] += Fraction((og * wk - wg * ok) ** 2, wg * wk * wk)
                parts["wbv"] += ff - Fraction(fg * fg, wg)
                parts["wbc"] += fo - Fraction(fg * og, wg)
                parts["bs"] += ff - 2 * fo + og
        names = {"bs": "brier_score", "rel": "reliability", "res": "resolution",
                 "unc": "uncertainty", "wbv": "within_bin_variance",
                 "wbc": "within_bin_covariance"}
        if not total:
            return {name: math.nan for name in names.values()}
        h = Fraction(self.half)
        return {name: float(h * parts[key] / total) for key, name in names.items()}

    def value(self) -> float:
        return self.components()["brier_score"] if self.rows else math.nan

    def table(self) -> list[dict]:
        """The bins that hold rows: range, rows, mean forecast, observed frequency (and the
        class, with several columns)."""
        edges = np.linspace(0.0, 1.0, self.bins + 1).tolist()
        rows = []
        for g in sorted(self._n):
            c, b = divmod(g, self.bins)
            w = self._s["w"].get(g, 0)
            row = {"class": c} if (self.width or 1) > 1 else {}
            row.update({"bin": b + 1, "from": edges[b], "to": edges[b + 1], "count": self._n[g]})
            if self.weighted:
                row["weight"] = ratio(w, _ONE)
            row["forecast"] = ratio(self._s["f"].get(g, 0), w) if w else None
            row["observed"] = ratio(self._s["o"].get(g, 0), w) if w else None
            rows.append(row)
        return rows

    def details(self) -> dict | None:
        if not self.rows:
            return None
        return {**self.components(), "bins": self.bins,
                "identity": "brier_score = reliability - resolution + uncertainty + "
                "within_bin_variance - 2 within_bin_covariance",
                "reliability_table": self.table()}
