"""Replicates of a computation: the bootstrap interval of its value (``ci``) and the sign flips
of a paired test, fed beside its running sums.

:class:`Resampling` is mixed into :class:`~lossctl.engine.Computation`: :meth:`resample` turns
it on (checking that the value is a ratio of per-sample sums, the only kind the Poisson
bootstrap streams), the feeds call :meth:`_replicate` with each block's rows, and
:meth:`_intervals` gives the replicate values at the end, divided as the value itself is
(:meth:`Computation._rule`). The weights come from :mod:`lossctl.losses.bootstrap`: the same
seed gives the same rows the same weights, so two models' replicates are paired.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from lossctl.errors import UsageError, opt
from lossctl.losses.bootstrap import COLUMNS, Replicates, interval

__all__ = ["Resampling", "replicate_columns"]


def replicate_columns(values: np.ndarray, weights: np.ndarray | None, valid: np.ndarray,
                      class_weights: np.ndarray | None, *, n: int, per: int = 1,
                      width: int = 1) -> np.ndarray:
    """The ``(n, len(COLUMNS))`` per-sample sums of ``n`` samples of ``per`` rows each: the
    weighted values (0 where ignored) and each divisor rule's share of the sample."""
    v = np.asarray(values, dtype=np.float64).reshape(n, per)
    mask = np.asarray(valid, dtype=bool).reshape(n, per)
    cols = np.empty((n, len(COLUMNS)))
    with np.errstate(over="ignore", invalid="ignore"):
        if weights is None:
            cols[:, 0] = np.where(mask, v, 0.0).sum(axis=1)
        else:
            w = np.asarray(weights, dtype=np.float64).reshape(n, per)
            cols[:, 0] = np.where(mask, w * v, 0.0).sum(axis=1)
    nvalid = mask.sum(axis=1)
    cols[:, 1] = 1.0
    cols[:, 2] = per
    cols[:, 3] = nvalid
    cols[:, 4] = nvalid if weights is None else np.where(mask, w, 0.0).sum(axis=1)
    cols[:, 5] = nvalid if class_weights is None else np.where(
        mask, np.asarray(class_weights, dtype=np.float64).reshape(n, per), 0.0).sum(axis=1)
    cols[:, 6] = per * width
    return cols


class Resampling:
    """Mixed into :class:`~lossctl.engine.Computation` (whose attributes it uses)."""

    #: the replicates by kind ("poisson", "signs"); empty unless :meth:`resample` was called
    replicates: dict[str, Replicates]

    def resample(self, *, replicates: int = 1000, seed: int = 0,
                 kinds: tuple[str, ...] = ("poisson",)) -> None:
        """Keep ``replicates`` replicate sums of each kind beside the value."""
        spec = self.spec
        why = None
        if self.reduction == "none":
            why = f"{opt('reduction', 'none')} has no single value to resample"
        elif self.overlap is not None or spec.kind == "batch":
            why = f"{spec.name} is not a sum over samples (it is computed over the whole batch)"
        elif self._aggregate is not None:
            why = (f"{spec.name} under scikit-learn's rules is not a mean of per-sample values "
                   "(a root, median, maximum or score of the whole input)")
        if why is not None:
            raise UsageError(f"{opt('ci')} resamples a mean of per-sample values; {why}",
                             hint=f"drop {opt('ci')}", option="ci")
        self.replicates = {k: Replicates(replicates, seed, k) for k in kinds}

    def _replicate(self, start: int, values: np.ndarray, weights: np.ndarray | None,
                   valid: np.ndarray, class_weights: np.ndarray | None, *, n: int,
                   per: int = 1, width: int = 1) -> None:
        if not self.replicates:
            return
        cols = replicate_columns(values, weights, valid, class_weights, n=n, per=per,
                                 width=width)
        for rep in self.replicates.values():
            rep.add(start, cols)

    def _replicate_values(self, kind: str) -> np.ndarray:
        """The replicate values of ``kind``, divided as the value is."""
        rule, scale, empty = self._rule()
        column = "samples" if rule == "rows" else rule  # batchmean: per sample (N-D: not rows)
        return self.replicates[kind].values(column, scale=scale, empty=empty,
                                            finalize=self.spec.finalize)

    def _intervals(self, level: float | None) -> dict[str, Any] | None:
        """The bootstrap interval at ``level`` percent (and the replicate values)."""
        if "poisson" not in self.replicates:
            return None
        rep = self.replicates["poisson"]
        values = self._replicate_values("poisson")
        out: dict[str, Any] = {"replicates": rep.replicates, "seed": rep.seed,
                               "standard_error": float(np.nanstd(values, ddof=1))
                               if np.isfinite(values).sum() > 1 else None,
                               "values": values}
        if level is not None:
            out["level"] = level
            out["low"], out["high"] = interval(values, level)
        return out
