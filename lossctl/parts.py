"""Parts of one computation: :meth:`Parts.fork` gives an empty computation that keeps the
decisions made on the first block, for other rows (a block on another thread, a shard in
another process); :meth:`Parts.merge` folds it back. A computation pickles (its loss by name,
its inputs without their sources), so a part can come back from a worker process. Every running sum is exact
(:mod:`lossctl.losses.exact`) and every count adds, so the merged value is bit-for-bit the one
computation fed every row gives, for any split of the rows.
"""
from __future__ import annotations

import copy
from typing import Any

from lossctl.blocks import Counters
from lossctl.losses.reduction import Accumulator
from lossctl.validation import Input

__all__ = ["Parts"]


class Parts:
    """Mixed into :class:`~lossctl.engine.Computation` (whose attributes it uses)."""

    def fork(self) -> Any:
        """An empty computation with this one's decisions (the layout, the class count, Keras's
        hinge-label conversion: all made on the first block), for another part of the rows.
        Feed it those rows anywhere (another thread or process), then :meth:`merge` it back, in
        row order; the value is bit-for-bit that of feeding every row here, because every sum
        is exact (:class:`~lossctl.losses.reduction.ExactSum`)."""
        part = copy.copy(self)
        part.samples = 0
        part.acc = Accumulator()
        part.replicates = {k: r.fresh() for k, r in self.replicates.items()}
        part.counters = Counters()
        part.extremes = None
        part.aggregate = None if self.aggregate is None else self.aggregate.fresh()
        part.overlap = None if self.overlap is None else self.overlap.fresh()
        part.diagnostics = self.diagnostics.fork(part)
        part.role_blocks = {}
        return part

    def merge(self, part: Any) -> None:
        """Fold in a :meth:`fork` fed the rows after those fed here so far."""
        self.samples += part.samples
        self.acc.merge(part.acc)
        for kind, rep in part.replicates.items():
            self.replicates[kind].merge(rep)
        self.counters.merge(part.counters)
        if part.extremes is not None:
            self.extremes = part.extremes if self.extremes is None else (
                max(self.extremes[0], part.extremes[0]), min(self.extremes[1], part.extremes[1]))
        if part.aggregate is not None:
            if self.aggregate is None:
                self.aggregate = part.aggregate
            else:
                self.aggregate.merge(part.aggregate)
        if self.overlap is not None and part.overlap is not None:
            self.overlap.merge(part.overlap)
        self.diagnostics.merge(part.diagnostics)
        self._weighted = self._weighted or part._weighted
        for name in ("layout", "_index", "width", "num_classes", "_hinge_convert"):
            if getattr(self, name) is None:  # decided by a part that saw the first rows
                setattr(self, name, getattr(part, name))

    # ----------------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        """The state without what only this process holds: the catalogue's entries (looked up
        again by name), the loss function, and the open sources that locate a row."""
        state = dict(self.__dict__)
        state["spec"] = self.spec.name
        state["alias"] = None if self.alias is None else self.alias.name
        state.pop("fn", None)
        state["role_inputs"] = {k: Input(v.role, v.name) for k, v in self.role_inputs.items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        from lossctl.losses import registry

        name, alias = state["spec"], state["alias"]
        spec, found = registry.lookup(alias if alias is not None else name)
        if spec.name != name:  # (an alias spelt like another loss's name)
            spec, found = registry.lookup(name)
        state["spec"], state["alias"] = spec, found
        state["fn"] = spec.load()
        self.__dict__.update(state)
