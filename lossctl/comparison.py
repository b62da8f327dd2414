"""Is model B better than model A on this test set, and how sure is that: :func:`compare_models`.

Each model's predictions are evaluated against the same labels (one streaming pass each),
with replicates seeded by row (:mod:`lossctl.losses.bootstrap`), so the replicates of two
models are paired: replicate ``r`` gives sample ``i`` the same weight in both.

* the paired difference ``d = value(B) - value(A)`` and its bootstrap interval: the
  percentiles of ``value_r(B) - value_r(A)``;
* a paired permutation test (approximate randomisation): under "no difference", swapping the
  two models' values on any sample is as likely as not, so the statistic
  ``T = (sum_i num_i(B) - sum_i num_i(A)) / D`` is compared with its sign-flipped replicates
  ``T_r = sum_i s_ri (num_i(B) - num_i(A)) / D``, ``s_ri = +-1``; the two-sided p-value is
  ``(1 + #{|T_r| >= |T|}) / (R + 1)``. (For a root such as RMSE the test is on its square.)
* per-class deltas (mean per-sample value of each true class) and the samples whose value
  changed most, kept while they fit half the memory budget;
* with ``group_by``, per-slice deltas: each group's value under each model (the pipeline's
  :class:`lossctl.grouping.Groups`, so each equals ``evaluate(..., group_by=...)``'s for that
  model bit for bit) and the bootstrap interval of the slice's delta. A group's rows are
  numbered within the group and seeded by that number, so its replicates are paired across
  the models just as the whole input's are: the interval is the difference of replicates the
  pass already made.

The first model is the baseline; each other one is a candidate compared with it.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import IO, Any

import numpy as np

from lossctl.errors import UsageError, opt
from lossctl.losses.bootstrap import interval
from lossctl.record import field, record

__all__ = ["Comparison", "Difference", "ModelResult", "compare_models"]


@record
class ModelResult:
    name: str
    source: str
    value: float | None
    low: float | None
    high: float | None
    standard_error: float | None


@record
class Difference:
    """A candidate against the baseline: ``delta = candidate - baseline``."""

    baseline: str
    candidate: str
    delta: float
    low: float
    high: float
    p_value: float
    #: "better", "worse" or "no significant difference" (at the level), for the candidate
    verdict: str
    #: ``[{"label", "baseline", "candidate", "delta", "count"}]``, largest |delta| first
    per_class: list = field(default_factory=list)
    #: ``[{"index", "label", "baseline", "candidate", "delta"}]``, largest |delta| first
    changed: list = field(default_factory=list)
    #: with ``group_by``: ``[{"group", "count", "baseline", "candidate", "delta", "low",
    #: "high"}]``, every group, largest |delta| first (see :func:`_per_slice`); else None
    per_slice: list | None = None
    #: the bootstrap replicates of the delta (an array; not in the JSON form)
    replicates: Any = None


@record
class Comparison:
    loss: str
    convention: str
    reduction: str
    higher_is_better: bool
    level: float
    replicates: int
    seed: int
    samples: int
    models: list
    differences: list
    #: why the per-sample tables are missing, when they are
    note: str | None = None
    #: the column SPEC of the slices (``group_by``), when the differences have ``per_slice``
    group_by: str | None = None

    def worse(self) -> list[Difference]:
        """The candidates significantly worse than the baseline at the level."""
        return [d for d in self.differences if d.verdict == "worse"]

    def to_dict(self) -> dict[str, Any]:
        from lossctl.record import asdict

        out = {k: getattr(self, k) for k in ("loss", "convention", "reduction",
                                             "higher_is_better", "level", "replicates", "seed",
                                             "samples")}
        out["models"] = [asdict(m) for m in self.models]
        out["differences"] = [{k: v for k, v in asdict(d).items() if k != "replicates"
                               and not (k == "per_slice" and v is None)}
                              for d in self.differences]
        if self.group_by is not None:
            out["group_by"] = self.group_by
        if self.note:
            out["note"] = self.note
        return out


class _Collector:
    """Per-sample values and true classes of one model's blocks, while they fit ``limit``
    bytes; per-class sums always."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.values: list[np.ndarray] | None = []
        self.classes: list[np.ndarray] | None = []
        self.bytes = 0
        self.class_sum: dict[int, float] = {}
        self.class_count: dict[int, int] = {}

    def __call__(self, block: Any) -> None:
        v = np.asarray(block.per_sample, dtype=np.float64).reshape(-1)
        tc = block.true_class
        if tc is not None and np.ndim(tc) == 1:
            ok = np.asarray(tc) >= 0
            if block.valid is not None:
                ok &= np.asarray(block.valid, dtype=bool).reshape(-1)
            cls = np.asarray(tc)[ok]
            for c, s, n in zip(*_by_class(cls, v[ok])):
                self.class_sum[c] = self.class_sum.get(c, 0.0) + s
                self.class_count[c] = self.class_count.get(c, 0) + n
        if self.values is None:
            return
        self.bytes += v.nbytes * 2
        if self.bytes > self.limit:
            self.values = self.classes = None
            return
        self.values.append(v.copy())
        self.classes.append(np.full(v.shape[0], -1) if tc is None or np.ndim(tc) != 1
                            else np.asarray(tc, dtype=np.int64).copy())

    def arrays(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self.values is None:
            return None
        if not self.values:
            return np.empty(0), np.empty(0, dtype=np.int64)
        return np.concatenate(self.values), np.concatenate(self.classes)


def _by_class(cls: np.ndarray, v: np.ndarray) -> tuple[list, list, list]:
    if not cls.size:
        return [], [], []
    uniq, inv = np.unique(cls, return_inverse=True)
    sums = np.bincount(inv, weights=v, minlength=uniq.size)
    counts = np.bincount(inv, minlength=uniq.size)
    return uniq.tolist(), sums.tolist(), counts.tolist()


def _names(preds: Sequence[Any], names: Sequence[str] | None) -> list[str]:
    if names is not None:
        names = [str(n).strip() for n in names]
        if len(names) != len(preds):
            raise UsageError(f"{opt('names')} gives {len(names)} names for {len(preds)} models",
                             hint="give one name per prediction input, in order",
                             option="names")
    else:
        names = []
        for i, p in enumerate(preds):
            if isinstance(p, (str, os.PathLike)) and str(p) != "-":
                base = os.path.basename(str(p).split(":")[0].rstrip("/")) or str(p)
                names.append(base.split(".")[0] or base)
            else:
                names.append(f"model_{i + 1}")
    if len(set(names)) != len(names):
        # two files of one name in different folders: keep their paths apart
        names = [n if names.count(n) == 1 else f"{n}_{i + 1}" for i, n in enumerate(names)]
    return names


def compare_models(loss: str, y_true: Any, preds: Sequence[Any], *,
                   names: Sequence[str] | None = None, level: float = 95.0,
                   replicates: int = 1000, seed: int = 0, top: int = 10,
                   group_by: str | None = None, groups: Any = None,
                   stdin: IO[bytes] | None = None, **kwargs: Any) -> Comparison:
    """Compare models' predictions of the same labels (see the module docstring).

    Args:
        loss: any loss or metric that is a mean of per-sample values.
        y_true: the labels (an array or a source).
        preds: two or more predictions (arrays or sources); the first is the baseline.
        names: a name per model (default: the file names).
        level: the confidence level (percent) of the intervals and of the verdicts.
        replicates: bootstrap and permutation replicates; seed: their seed.
        top: per-class rows and changed samples kept per difference.
        group_by, groups: slices, as :func:`lossctl.evaluate`'s: the column SPEC of each row's
            group (of the ``groups`` source, or of Y_TRUE's file); every difference then has
            ``per_slice``. The errors are evaluate's (an unknown column, too many groups).
        **kwargs: as :func:`lossctl.evaluate` (``convention``, ``true_cols``, ...).
    """
    from lossctl import budget
    from lossctl.pipeline import Evaluation, request

    if len(preds) < 2:
        raise UsageError("compare needs at least two models' predictions",
                         hint="give the baseline's predictions, then the candidate's",
                         option="y_pred")
    if not (isinstance(level, (int, float)) and 0 < level < 100):
        raise UsageError(f"{opt('level')} is a confidence level in percent, above 0 and below "
                         f"100 (got {level!r})", option="level")
    model_names = _names(preds, names)
    given = (y_true, *preds, groups, kwargs.get("sample_weight"))
    if sum(isinstance(p, str) and p == "-" for p in given) > 1:
        raise UsageError("only one input can be standard input", option="y_pred")
    limit = budget.usable(budget.parse_size(kwargs.get("memory_limit", budget.DEFAULT))) // 2
    shared = (y_true, groups, kwargs.get("sample_weight"))
    spool = _replayable(stdin) if any(isinstance(v, str) and v == "-" for v in shared) else None
    runs = []
    for pred in preds:
        req = request(loss, y_true, pred, ci=level, replicates=replicates, seed=seed,
                      resample=("poisson", "signs"), keep=False, details=True,
                      group_by=group_by, groups=groups, **kwargs)
        if spool is not None:
            spool.seek(0)  # every model reads the same labels (or groups, weights)
        ev = Evaluation(req, stdin=stdin if spool is None else spool)
        col = _Collector(limit // len(preds))
        res = ev.run(col)
        runs.append((ev, res, col))
    comparison = _compare(runs, model_names, preds, level, top)
    if group_by is not None:
        comparison.group_by = str(group_by)
        for d, (_, res, _) in zip(comparison.differences, runs[1:]):
            d.per_slice = _per_slice(runs[0][1].groups or [], res.groups or [], level)
    return comparison


def _replayable(stdin: IO[bytes] | None) -> Any:
    """Standard input copied once (in memory up to 64 MB, then a temporary file), so that each
    model's pass reads it from its start."""
    import shutil
    import sys
    import tempfile

    stream = stdin if stdin is not None else getattr(sys.stdin, "buffer", sys.stdin)
    spool = tempfile.SpooledTemporaryFile(max_size=64 << 20, prefix="lossctl-stdin-")
    if stream is not None:
        shutil.copyfileobj(stream, spool, 1 << 20)
    return spool


def _compare(runs: list, names: list[str], preds: Sequence[Any], level: float,
             top: int) -> Comparison:
    first_ev, first, _ = runs[0]
    comp0 = first_ev.computations[0]
    higher = bool(first.spec.higher_is_better)
    samples = [r.samples for _, r, _ in runs]
    if len(set(samples)) != 1:
        from lossctl import mismatch

        raise mismatch.rows([("y_pred", n, s) for n, s in zip(names, samples)])
    models = [ModelResult(n, str(p) if isinstance(p, (str, os.PathLike)) else n, r.value,
                          r.ci.get("low"), r.ci.get("high"), r.ci.get("standard_error"))
              for n, p, (_, r, _) in zip(names, preds, runs)]
    alpha = 1 - level / 100
    diffs = []
    base_stat = _sign_statistic(comp0)
    base_arrays = runs[0][2].arrays()
    note = None if base_arrays is not None else (
        "the changed samples are not shown: their values take more than half the memory "
        f"limit; raise {opt('memory_limit')}")
    for name, (ev, res, col) in zip(names[1:], runs[1:]):
        comp = ev.computations[0]
        delta = (res.value - first.value) if None not in (res.value, first.value) else math.nan
        reps = res.ci["values"] - first.ci["values"]
        low, high = interval(reps, level)
        p = _p_value(base_stat, _sign_statistic(comp))
        if p < alpha and delta != 0 and math.isfinite(delta):
            better = delta > 0 if higher else delta < 0
            verdict = "better" if better else "worse"
        else:
            verdict = "no significant difference"
        d = Difference(names[0], name, delta, low, high, p, verdict, replicates=reps)
        d.per_class = _per_class(runs[0][2], col, comp0.classes, comp0.offset, top)
        arrays = col.arrays()
        if base_arrays is not None and arrays is not None:
            d.changed = _changed(base_arrays, arrays, comp0.classes, comp0.offset, top)
        elif note is None:
            note = ("the changed samples are not shown: their values take more than half the "
                    f"memory limit; raise {opt('memory_limit')}")
        diffs.append(d)
    return Comparison(first.loss, first.convention, first.reduction, higher, level,
                      first.ci["replicates"], first.ci["seed"], samples[0], models, diffs,
                      note=note)


def _sign_statistic(comp: Any) -> tuple[float, np.ndarray]:
    """``(sum_i num_i, sum_i s_ri num_i)`` over the divisor of the value (its square for a
    root): what the permutation test compares."""
    rule, scale, _ = comp._rule()
    if rule is None:
        d = 1.0
    elif rule == "rows":  # batchmean: over the samples (an N-D sample is many rows)
        d = float(comp.samples)
    else:
        d = comp.acc.divisor(rule)
    d = d if d else math.nan
    flipped = comp.replicates["signs"].totals("num")
    return comp.acc.weighted_sum * scale / d, flipped * scale / d


def _p_value(a: tuple[float, np.ndarray], b: tuple[float, np.ndarray]) -> float:
    observed = abs(b[0] - a[0])
    flipped = np.abs(b[1] - a[1])
    if not math.isfinite(observed):
        return math.nan
    # ties count as extreme (the conservative side); 1e-12 absorbs the rounding of the sums
    hits = int(np.sum(flipped >= observed * (1 - 1e-12)))
    return (1 + hits) / (1 + flipped.size)


def _label(c: int, classes: Sequence[str] | None, offset: int) -> str:
    if classes is not None and 0 <= c < len(classes):
        return str(classes[c])
    return str(c + offset)


def _per_class(a: _Collector, b: _Collector, classes: Any, offset: int, top: int) -> list:
    rows = []
    for c in sorted(set(a.class_count) & set(b.class_count)):
        ma = a.class_sum[c] / a.class_count[c]
        mb = b.class_sum[c] / b.class_count[c]
        rows.append({"label": _label(c, classes, offset), "count": a.class_count[c],
                     "baseline": ma, "candidate": mb, "delta": mb - ma})
    rows.sort(key=lambda r: -abs(r["delta"]) if math.isfinite(r["delta"]) else -math.inf)
    return rows[:top]


def _per_slice(base: list, cand: list, level: float) -> list:
    """Each group's values under both models (``Result.groups``), its delta and the interval
    of the delta (the paired replicates' difference), largest |delta| first, then in the
    groups' natural order: the slices where the candidate gained or lost most are what a
    reader looks for first, as in the per-class table. Every group is kept (there are at most
    :data:`lossctl.grouping.MAX_GROUPS`)."""
    rows = []
    theirs = {key: rs[0] for key, rs in cand}  # one group column for every model: same keys
    for key, (a, *_) in base:
        b = theirs[key]
        delta = (b.value - a.value) if None not in (a.value, b.value) else math.nan
        low = high = None
        if a.ci is not None and b.ci is not None:
            low, high = interval(b.ci["values"] - a.ci["values"], level)
        rows.append({"group": key, "count": a.samples, "baseline": a.value,
                     "candidate": b.value, "delta": delta, "low": low, "high": high})
    rows.sort(key=lambda r: -abs(r["delta"]) if math.isfinite(r["delta"]) else -math.inf)
    return rows


def _changed(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray], classes: Any,
             offset: int, top: int) -> list:
    va, cls = a
    vb = b[0]
    with np.errstate(invalid="ignore"):
        change = vb - va
    order = np.argsort(-np.nan_to_num(np.abs(change), nan=np.inf), kind="stable")[:top]
    return [{"index": int(i), "label": None if cls[i] < 0 else _label(int(cls[i]), classes,
                                                                       offset),
             "baseline": float(va[i]), "candidate": float(vb[i]), "delta": float(change[i])}
            for i in order]
