"""What an evaluation returns: :class:`Result`, and the layout of per-sample rows.

A :class:`Result` is plain data: the reduced value, how it was computed (loss, convention,
reduction, options), the counts of what the convention treated specially, the per-sample values
when they were kept, the report data when it was asked for, and the per-convention values of a
comparison. :meth:`Result.to_dict` is its JSON form (what ``lossctl compute -f json`` writes).

:class:`SampleRows` lays out the per-sample rows of a block (``index, label, predicted, loss``)
for the writers; the CLI streams them as they are computed.
"""
from __future__ import annotations

from collections.abc import Sequence
from lossctl.record import asdict, field, record
from typing import Any

import numpy as np

from lossctl.errors import FlagRenderer, render_options

__all__ = ["CompareRow", "Result", "SampleRows", "class_label"]


def class_label(cls: int | None, class_names: Sequence[str] | None, offset: int = 0) -> str | None:
    """The label of a class index as the user knows it (a name, or the index plus offset);
    ``"(ignored)"`` for an ignored row (-1)."""
    if cls is None:
        return None
    if cls < 0:
        return "(ignored)"
    if class_names and cls < len(class_names):
        return class_names[cls]
    return str(cls + offset)


@record
class CompareRow:
    """One convention's value in a comparison, and why it differs from the first."""

    loss: str
    convention: str
    reduction: str
    value: float | None
    reason: str


@record
class Result:
    """A finished evaluation. See the module docstring."""

    loss: str
    alias: str | None
    convention: str
    reduction: str
    value: float | None
    samples: int
    classes: int | None
    options: dict[str, Any]
    counters: Any
    per_sample: np.ndarray | None = None
    elementwise: np.ndarray | None = None
    true_class: np.ndarray | None = None
    pred_class: np.ndarray | None = None
    confidence: np.ndarray | None = None
    valid: np.ndarray | None = None
    report: Any = None
    compare: list[CompareRow] | None = None
    spec: Any = field(default=None, repr=False)
    #: how the predictions were read: "logits (CrossEntropyLoss (torch) takes logits)"
    reading: str = ""
    #: the largest and smallest per-sample value (None when there were no rows)
    extremes: tuple[float, float] | None = None
    #: the gate's limits from the request (``fail_above``, ``fail_below``), used by :meth:`gate`
    thresholds: dict[str, float | None] = field(default_factory=dict)
    #: N-D inputs: the number of elements (pixels, tokens) and one sample's shape of y_pred
    elements: int | None = None
    shape: tuple[int, ...] | None = None
    #: a metric's extra tables, from its aggregate's ``details()`` (plain JSON-able data):
    #: ``confusion_matrix`` (labels, matrix), ``per_class`` rows, the ``reliability`` table of
    #: the calibration errors, the Brier components and their ``reliability_table``
    details: dict[str, Any] | None = None
    #: ``ci``: the bootstrap of the value: ``level``, ``low``, ``high``, ``standard_error``,
    #: ``replicates``, ``seed``, and the replicate ``values`` (an array, not in the JSON form)
    ci: dict[str, Any] | None = None
    #: several losses in one pass: the results of the others, in request order
    others: list[Result] | None = None
    #: ``group_by``: ``(group, [Result of each loss])`` in natural order of the groups
    groups: list[tuple[str, list[Result]]] | None = None

    def gate(self, *, fail_above: float | None = None, fail_below: float | None = None) -> None:
        """The CI gate of ``--fail-above`` / ``--fail-below``: raise
        :class:`~lossctl.errors.ThresholdExceeded` (exit 3) when the reduced value is above
        ``fail_above`` or below ``fail_below``, or is NaN. With ``reduction="none"`` there is no
        reduced value: the gate is on the worst sample (the largest value for ``fail_above``,
        the smallest for ``fail_below``)."""
        import math

        from lossctl.errors import ThresholdExceeded, opt

        fail_above = self.thresholds.get("fail_above") if fail_above is None else fail_above
        fail_below = self.thresholds.get("fail_below") if fail_below is None else fail_below
        for name, limit, worse in (("fail_above", fail_above, lambda v, x: v > x),
                                   ("fail_below", fail_below, lambda v, x: v < x)):
            if limit is None:
                continue
            if self.value is not None:
                value, what = self.value, "loss"
            elif self.extremes is not None:
                value = self.extremes[0] if name == "fail_above" else self.extremes[1]
                what = "the largest per-sample loss" if name == "fail_above" else (
                    "the smallest per-sample value")
            else:
                continue  # no rows at all
            if math.isnan(value) or worse(value, limit):
                side = "above" if name == "fail_above" else "below"
                raise ThresholdExceeded(f"{what} {value!r} is {side} {opt(name, limit)}",
                                        option=name)

    def header(self, *, flag: FlagRenderer | None = None) -> dict[str, Any]:
        """The fields that describe the computation (JSON-able); texts spell options with
        ``flag``."""
        return {
            "loss": self.loss,
            "alias": self.alias,
            "convention": self.convention,
            "reduction": self.reduction,
            "value": self.value,
            "samples": self.samples,
            **({"elements": self.elements, "shape": list(self.shape)}
               if self.shape is not None else {}),
            "classes": self.classes,
            "options": dict(self.options),
            "predictions": render_options(self.reading, flag),
            **({"ci": {k: v for k, v in self.ci.items() if k != "values"}}
               if self.ci is not None else {}),
        }

    def group_dicts(self, *, flag: FlagRenderer | None = None) -> list[dict[str, Any]]:
        """The JSON form of ``groups``: each group's header (its losses' with several)."""
        return [{"group": key, **rs[0].header(flag=flag)} if len(rs) == 1
                else {"group": key, "losses": [r.header(flag=flag) for r in rs]}
                for key, rs in self.groups or []]

    def to_dict(self, *, flag: FlagRenderer | None = None) -> dict[str, Any]:
        """The JSON form: the header fields, then ``per_sample`` (and ``elementwise``) when
        kept, or ``compare`` rows for a comparison, then a metric's ``details``. Texts spell
        options with ``flag``."""
        if self.compare is not None:
            return {"loss": self.loss, "compare": [
                {**asdict(r), "reason": render_options(r.reason, flag)} for r in self.compare]}
        out = self.header(flag=flag)
        if self.groups is not None:
            out["groups"] = self.group_dicts(flag=flag)
        if self.per_sample is not None:
            out["per_sample"] = self.per_sample.tolist()
        if self.elementwise is not None:
            out["elementwise"] = self.elementwise.tolist()
        if self.details is not None:
            out["details"] = self.details
        return out


class SampleRows:
    """The per-sample rows of blocks: column names and one array per column.

    Layouts: ``elementwise`` -> one column per class (named after the classes when known);
    ``values_only`` -> ``loss``; classification -> ``index, label, predicted, loss``; otherwise
    ``index, loss``.
    """

    def __init__(self, *, elementwise: bool = False, values_only: bool = False,
                 class_names: Sequence[str] | None = None, offset: int = 0) -> None:
        self.elementwise = elementwise
        self.values_only = values_only
        self.class_names = list(class_names) if class_names else None
        self.offset = offset
        #: several losses in one pass: their names, one column each (instead of ``loss``)
        self.losses: list[str] | None = None
        #: ``id_cols``: the names of the identifier columns, after ``index``
        self.ids: list[str] = []

    def columns(self, block: Any, width: int) -> list[str]:
        """Column names, decided by the first block."""
        if self.elementwise:
            if self.class_names and len(self.class_names) == width:
                return list(self.class_names)
            return [f"c{j}" for j in range(width)]
        values = list(self.losses or ["loss"])
        if self.values_only:
            return values
        if block.true_class is not None:
            return ["index", *self.ids, "label", "predicted", *values]
        return ["index", *self.ids, *values]

    def _names(self, cls: np.ndarray | None, n: int) -> np.ndarray:
        if cls is None:
            return np.full(n, "", dtype=str)
        if self.class_names is None:
            out = np.asarray(cls, dtype=np.int64) + self.offset
            return np.where(np.asarray(cls) < 0, -1, out) if self.offset else out
        return np.asarray([class_label(int(c), self.class_names, self.offset) for c in cls],
                          dtype=str)

    def arrays(self, block: Any) -> tuple[np.ndarray, ...]:
        """The columns of one block, in the order of :meth:`columns`."""
        if self.elementwise:
            return (block.elementwise,)
        values = (block.per_sample, *(block.others or ()))
        if self.values_only:
            return values
        n = block.per_sample.shape[0]
        index = np.arange(block.start, block.start + n, dtype=np.int64)
        ids = () if not self.ids or block.ids is None else tuple(
            np.asarray(block.ids).reshape(n, -1)[:, j] for j in range(len(self.ids)))
        if block.true_class is None:
            return (index, *ids, *values)
        return (index, *ids, self._names(block.true_class, n), self._names(block.pred_class, n),
                *values)
