"""Where the data and the chosen loss disagree: said once, with the count and the fix.

A user's mistake must become a message, never a plausible wrong number. The engine refuses what
would certainly be meaningless (:mod:`lossctl.validation`, :mod:`lossctl.predictions`); what
still yields a number but is very likely a mistake is counted here over every block and
reported at the end, with the value under the reading that fits the data:

- probabilities given to a loss that takes logits (the double-softmax mistake:
  ``CrossEntropyLoss`` on softmax outputs, ``BCEWithLogitsLoss`` on sigmoid outputs);
- a multi-class problem (one-hot labels, softmax rows) scored by a binary loss;
- a batch whose every row is ignored (0 under Keras, NaN under PyTorch);
- a leading row-index column in a file (what pandas writes without ``index=False``), checked by
  the pipeline on the first block (:func:`index_column`).

Warnings become errors with ``--strict`` (the CLI's policy).
"""
from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from lossctl.record import record
from typing import Any

import numpy as np

from lossctl import predictions as preds
from lossctl.errors import DataError, note, opt, warn

__all__ = ["Diagnostics", "Reading", "index_column", "reading"]

#: Column names pandas, R and spreadsheets give a row index.
INDEX_NAMES = frozenset({"", "index", "unnamed: 0", "idx", "row", "rownames", "..1", "id"})
#: Fewer values than this are too few to tell probabilities from logits.
MIN_EVIDENCE = 10


@record(frozen=True)
class Reading:
    """How the predictions are read: ``kind`` (probabilities, logits, ...) and why."""

    kind: str
    why: str

    def __str__(self) -> str:
        return f"{self.kind} ({self.why})"


def reading(spec: Any, alias: Any, options: dict[str, Any], given: set[str]) -> Reading:
    """What the loss takes with these options, and what decided it."""
    kind = spec.prediction_kind(options)
    if "from_logits" in given:
        why = f"{opt('from_logits', bool(options['from_logits']))} was given"
    elif "log_input" in given:
        why = f"{opt('log_input', bool(options['log_input']))} was given"
    elif alias is not None:
        why = f"{alias.name} ({alias.framework}) takes {kind}"
    else:
        why = f"{spec.name} takes {kind}"
    return Reading(kind, why)


class Diagnostics:
    """Counts the signs of a mistake over the blocks of one computation (see the module doc)."""

    def __init__(self, comp: Any) -> None:
        self.comp = comp
        self.rows = 0
        self.prob_rows = 0  # rows that look like probabilities while the loss takes logits
        self.onehot_softmax = 0  # one-hot labels with rows summing to 1, for a binary loss
        self.cells = 0
        self._shadow: Any = None  # the loss under the reading that fits the data
        self._shadow_ok = True
        self.index_target = False

    # ------------------------------------------------------------------- parallel parts
    def fork(self, comp: Any) -> Diagnostics:
        """Empty counts for ``comp``, a fork of this one's computation."""
        part = Diagnostics(comp)
        part.index_target = self.index_target
        part._shadow_ok = self._shadow_ok
        part._shadow = None if self._shadow is None else self._shadow.fork()
        return part

    def merge(self, other: Diagnostics) -> None:
        """Add the counts of a fork fed the rows after these."""
        self.rows += other.rows
        self.prob_rows += other.prob_rows
        self.onehot_softmax += other.onehot_softmax
        self.cells += other.cells
        self.index_target = self.index_target or other.index_target
        if not (self._shadow_ok and other._shadow_ok):
            self._shadow_ok, self._shadow = False, None
        elif self._shadow is None:
            self._shadow = other._shadow
        elif other._shadow is not None:
            self._shadow.merge(other._shadow)

    # ------------------------------------------------------------------- per block
    def block(self, true: np.ndarray, pred: np.ndarray, sample_weight: Any, start: int,
              index_target: bool) -> None:
        comp = self.comp
        n, c = pred.shape
        self.index_target = index_target
        self.rows += n
        self.cells += pred.size
        kind = comp.reading.kind
        if kind == "logits":
            k = preds.probability_rows(pred)
            self.prob_rows += k
            self._follow(true, pred, sample_weight, start, k == n, self._probability_loss(index_target))
        elif comp.spec.target == "binary" and c > 2 and kind == "probabilities":
            both = self._onehot_softmax(true, pred)
            self.onehot_softmax += both
            self._follow(true, pred, sample_weight, start, both == n,
                         ("categorical_crossentropy", {}))

    @staticmethod
    def _onehot_softmax(true: np.ndarray, pred: np.ndarray) -> int:
        t = np.asarray(true)
        if t.shape != pred.shape or t.dtype.kind not in "iuf":
            return 0
        onehot = ((t == 0) | (t == 1)).all(axis=1) & (np.einsum("ij->i", t.astype(np.float64)) == 1)
        sums = np.abs(np.einsum("ij->i", pred.astype(np.float64)) - 1) < 1e-3
        return int((onehot & sums).sum())

    def _probability_loss(self, index_target: bool) -> tuple[str, dict[str, Any]] | None:
        """The loss (and options) that reads these predictions as probabilities."""
        spec = self.comp.spec
        if "from_logits" in spec.options:
            return spec.name, {"from_logits": False}
        form = spec.probability_form.get("index" if index_target else "dense")
        return (form, {}) if form else None

    def _follow(self, true: Any, pred: Any, w: Any, start: int, all_rows: bool,
                loss: tuple[str, dict[str, Any]] | None) -> None:
        """Compute the loss under the other reading alongside, while every row fits it."""
        if not self._shadow_ok or loss is None or not all_rows:
            self._shadow_ok = False
            self._shadow = None
            return
        comp = self.comp
        if self._shadow is None:
            from lossctl.engine import Computation

            name, options = loss
            self._shadow = Computation(name, convention=comp.convention,
                                       reduction="mean", dtype=comp.dtype.name,
                                       offset=comp.offset or None, classes=comp.classes,
                                       **options)
            self._shadow.details = False
            self._shadow.diagnose = False
        try:
            if start == 0:  # the first block may note how it was read: not of this loss
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    self._shadow.feed(true, pred, w, start=start)
            else:  # (warnings.catch_warnings is not thread-safe: later blocks say nothing)
                self._shadow.feed(true, pred, w, start=start)
        except Exception:  # the other reading does not fit after all: say nothing of it
            self._shadow_ok = False
            self._shadow = None

    def _other_value(self) -> float | None:
        """The loss under the other reading, when every row fitted it."""
        if self._shadow is None or not self._shadow_ok:
            return None
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self._shadow.finish().value

    # ------------------------------------------------------------------- at the end
    def finish(self) -> None:
        comp = self.comp
        if self.rows and self.prob_rows == self.rows and self.cells >= MIN_EVIDENCE:
            self._double_activation()
        if self.rows and self.onehot_softmax == self.rows and self.rows >= 2:
            c = comp.width
            other = self._other_value()
            value = "" if other is None else f" ({other:.6g} here)"
            warn(
                f"the labels are one-hot ({c} columns, exactly one 1 per row) and every "
                f"prediction row sums to 1 (a softmax): {comp.spec.name} scores them as {c} "
                f"independent binary problems. For one class per row the loss is "
                f"categorical_crossentropy{value}; for several labels per row, ignore this"
            )
        acc = comp.acc
        if acc.rows and acc.valid == 0:
            note(f"every row is ignored ({opt('ignore_class', comp.ignore_class)}): Keras gives 0 "
                 "for such a batch (divide_no_nan), PyTorch NaN (0 / 0)")

    def _double_activation(self) -> None:
        comp = self.comp
        c = comp.width or 1
        what = ("values in [0, 1], rows summing to 1" if c > 1 else "values in [0, 1]")
        activation = "softmax" if c > 1 else "sigmoid"
        fix = self._probability_fix()
        other = self._other_value()
        value = "" if other is None else f"; their loss is {other:.6g}"
        warn(
            f"{comp.reading.why}, but all {self.rows} prediction rows look like probabilities "
            f"({what}), so the {activation} is applied a second time and the value is not "
            f"their loss. If they are probabilities, {fix}{value} (if they really are logits, "
            "ignore this)"
        )

    def _probability_fix(self) -> str:
        """What reads them as probabilities."""
        comp = self.comp
        spec = comp.spec
        torch = f" with {opt('convention', 'torch')}" if comp.convention == "torch" else ""
        if "from_logits" in comp.given:
            return f"drop {opt('from_logits', True)}"
        if "from_logits" in spec.options:
            return f"use {spec.name}{torch} (it takes probabilities)"
        form = spec.probability_form.get("index" if self.index_target else "dense")
        if form:
            return f"use {form}{torch} (it takes probabilities)"
        return "give logits"


def _spec_for(rest: Sequence[str], all_names: Sequence[str]) -> str:
    """A column SPEC selecting exactly ``rest``: its name, a shared prefix glob, a range, or the
    names."""
    if len(rest) == 1:
        return rest[0]
    prefix = rest[0]
    for name in rest[1:]:
        while not name.startswith(prefix):
            prefix = prefix[:-1]
    if prefix and prefix.isalpha():
        glob = prefix + "*"
        if [n for n in all_names if fnmatch.fnmatchcase(n, glob)] == list(rest):
            return glob
    if all(n.isdigit() for n in all_names):
        first = all_names.index(rest[0]) + 1
        return f"{first}-{first + len(rest) - 1}"
    return ",".join(rest)


def index_column(block: np.ndarray, names: Sequence[str], *, role: str, source: str | None,
                 locate: Any = None) -> None:
    """Refuse a leading column of row numbers (0..N-1 or 1..N) in a multi-column input whose
    first column is unnamed or named like an index: it is what pandas's ``to_csv`` writes
    unless ``index=False``, and reading it as data gives a meaningless number."""
    if block.ndim != 2 or block.shape[1] < 2 or block.shape[0] < 3 or block.dtype.kind not in "iuf":
        return
    name = str(names[0]) if names else ""
    if not (name.strip().lower() in INDEX_NAMES or name.isdigit()):
        return
    col = block[:, 0]
    n = col.shape[0]
    base = np.arange(n)
    if not (np.array_equal(col, base) or np.array_equal(col, base + 1)):
        return
    rest = [str(x) for x in names[1:]]
    option = {"y_true": "true_cols", "y_pred": "pred_cols"}.get(role, "cols")
    shown = f" ('{name}')" if name and not name.isdigit() else ""
    first = int(col[0])
    raise DataError(
        f"column 1 of {opt(role)}{shown} holds {first}, {first + 1}, {first + 2}, ...: a row "
        "index (what pandas writes with to_csv unless index=False), not "
        + ("labels" if role == "y_true" else "predictions"),
        source=source,
        hint=f"select the other columns with {opt(option, _spec_for(rest, [str(x) for x in names]))}",
        option=option,
    )
