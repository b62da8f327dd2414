"""Slices: every value per group of rows (``group_by``), in the same pass as the whole.

The group of each row is read from a column (of Y_TRUE's file, or of a ``groups`` source),
aligned with the other inputs as a further input is. :class:`Groups` keeps, for each group, a
fork of every computation (:meth:`lossctl.parts.Parts.fork`: the decisions of the first block,
empty sums) and feeds it that group's rows of each block, after the whole block was computed
(and checked) by the computations themselves. A group's rows are numbered within the group, so
its replicates (``ci``) do not depend on how the rows were split into blocks.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from lossctl.errors import DataError, UsageError, opt

__all__ = ["GROUP", "MAX_GROUPS", "Groups"]

#: The name of the group column among a block's further inputs.
GROUP = "__group__"
#: More groups than this is a column of identifiers, not of slices.
MAX_GROUPS = 1000


def _keys(column: np.ndarray) -> np.ndarray:
    """The group keys of a block's column, as text (``1`` and ``1.0`` are one group)."""
    col = np.asarray(column).reshape(len(column), -1)
    if col.shape[1] != 1:
        raise UsageError(f"{opt('group_by')} takes one column", option="group_by")
    col = col[:, 0]
    if col.dtype.kind == "f":
        if np.isnan(col).any():
            raise DataError("a row has no group (an empty or NaN cell)",
                            hint=f"fill the {opt('group_by')} column", option="group_by")
        whole = np.isfinite(col) & (col == np.round(col))
        if whole.all():
            col = col.astype(np.int64)
    return col.astype(str)


class Groups:
    """Forks of ``computations`` for each group, fed the rows of their group."""

    def __init__(self, computations: Sequence[Any], name: str) -> None:
        self.computations = list(computations)
        self.name = name  # the column, for messages
        self.forks: dict[str, list[Any]] = {}
        self.rows: dict[str, int] = {}

    def feed(self, block: tuple, inputs: Any) -> None:
        """Feed one block's rows to their groups' forks (the block was computed whole)."""
        yt, yp, w, roles = block
        keys = _keys(roles[GROUP])
        rest = {k: v for k, v in roles.items() if k != GROUP}
        uniq, inverse = np.unique(keys, return_inverse=True)
        for g, key in enumerate(uniq.tolist()):
            rows = np.flatnonzero(inverse == g)
            forks = self.forks.get(key)
            if forks is None:
                if len(self.forks) >= MAX_GROUPS:
                    raise UsageError(f"{opt('group_by')} {self.name!r} has more than "
                                     f"{MAX_GROUPS} groups: a column of identifiers, not slices",
                                     hint="group by a column with fewer values",
                                     option="group_by")
                forks = self.forks[key] = [self._fork(c) for c in self.computations]
                self.rows[key] = 0
            start = self.rows[key]
            sub_w = None if w is None else w[rows]
            sub_roles = {k: v[rows] for k, v in rest.items()}
            for comp in forks:
                mine = {k: v for k, v in sub_roles.items() if k in comp.spec.inputs}
                comp.feed(yt[rows], yp[rows], sub_w, start=start, inputs=inputs, roles=mine)
            self.rows[key] = start + rows.size

    @staticmethod
    def _fork(comp: Any) -> Any:
        part = comp.fork()
        part.diagnose = False  # the whole input's computation already said what it found
        return part

    def results(self) -> list[tuple[str, list[Any]]]:
        """``(group, [Result per computation])``, groups in natural order (2 before 10);
        warnings were the whole input's to give, so the groups' own are silenced."""
        out = []
        for key in sorted(self.forks, key=_natural):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append((key, [comp.finish() for comp in self.forks[key]]))
        return out


def _natural(key: str) -> tuple:
    try:
        return (0, float(key), key)
    except ValueError:
        return (1, 0.0, key)
