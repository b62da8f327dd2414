"""Rows in another order than they were computed: :class:`TopRows`, a running top-K over blocks.

``sort="loss"`` keeps the rows of the highest key (the per-sample loss), best first; NaN and
infinities rank first, as the report's worst samples do (they are what a user must see), and
equal keys keep their row order (the earlier row first), so the result equals a stable
descending sort of the whole output. ``sort="row"`` keeps the rows in their order (with a
``top``: the first ``top`` rows). ``top=None`` keeps every row.

Memory: the held rows are at most ``top`` plus one block; each block is merged into them with
:func:`numpy.argpartition` and the survivors sorted once at the end. Rows beyond ``limit``
bytes are refused with a :class:`~lossctl.errors.UsageError` naming ``top`` and
``memory_limit`` (keeping every row of a large input needs them all at once).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lossctl.errors import UsageError, opt
from lossctl.out.formats import SORTS

__all__ = ["SORTS", "TopRows"]

#: Bytes per held row besides its columns: the key, the row index and the sort's indices.
_ROW_OVERHEAD = 32


class TopRows:
    """The rows a ``sort`` and ``top`` keep, fed block by block. See the module docstring.

    Args:
        sort: one of :data:`SORTS`.
        top: how many rows to keep (None: all).
        limit: the bytes the held rows may take.
    """

    def __init__(self, sort: str, top: int | None, limit: int) -> None:
        if sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}, not {sort!r}")
        if top is not None and top < 0:
            raise ValueError(f"top must be >= 0, not {top}")
        self.sort = sort
        self.top = top
        self.limit = limit
        self._key: Any = None  # float64: the rank key (non-finite: +inf)
        self._row: Any = None  # int64: the row index, the tie-break
        self._cols: list[Any] | None = None
        self._blocks: list[tuple[Any, Any, list[Any]]] = []  # sort="row": kept as they come
        self._held = 0
        self._bytes = 0  # sort="row": the columns held so far

    def add(self, key: Any, row: Any, cols: Sequence[Any]) -> None:
        """Feed one block: its rank keys (per-sample losses), row indices and output columns
        (1-D or 2-D arrays of its rows)."""
        import numpy as np

        n = len(row)
        if self.sort == "row":
            room = n if self.top is None else max(self.top - self._held, 0)
            if room:
                kept = [np.asarray(c)[: min(room, n)] for c in cols]
                self._blocks.append((None, None, kept))
                self._held += min(room, n)
                self._bytes += sum(c.nbytes for c in kept)
                self._check(self._bytes)
            return
        key = np.asarray(key, dtype=np.float64)
        key = np.where(np.isfinite(key), key, np.inf)
        row = np.asarray(row, dtype=np.int64)
        cols = [np.asarray(c) for c in cols]
        if self._key is not None:
            key = np.concatenate([self._key, key])
            row = np.concatenate([self._row, row])
            cols = [np.concatenate([a, b]) for a, b in zip(self._cols, cols)]
        if self.top is not None and len(key) > self.top:
            keep = self._best(key, row, self.top)
            key, row, cols = key[keep], row[keep], [c[keep] for c in cols]
        self._key, self._row, self._cols = key, row, cols
        self._held = len(key)
        self._check(sum(c.nbytes for c in cols))

    @staticmethod
    def _best(key: Any, row: Any, k: int) -> Any:
        """Indices of the ``k`` best rows (highest key, then lowest row), in no order."""
        import numpy as np

        if k == 0:
            return np.empty(0, dtype=np.int64)
        # the k-th best key; every row above it is kept, ties at it go by row index
        kth = np.partition(-key, k - 1)[k - 1]
        above = np.flatnonzero(-key < kth)
        at = np.flatnonzero(-key == kth)
        at = at[np.argsort(row[at], kind="stable")[: k - len(above)]]
        return np.concatenate([above, at])

    def _check(self, col_bytes: int) -> None:
        need = col_bytes + self._held * _ROW_OVERHEAD
        if need > self.limit:
            what = "every row" if self.top is None else f"the top {self.top} rows"
            raise UsageError(
                f"{opt('sort', self.sort)} holds {what} until the end, and {self._held} rows "
                f"(about {need / 2**20:.0f} MB) are beyond the memory limit "
                f"({self.limit / 2**20:.0f} MB)",
                hint=f"keep fewer rows with {opt('top', 1000)}, or raise {opt('memory_limit')}",
                option="top" if self.top is not None else "sort")

    def columns(self) -> list[Any]:
        """The kept rows' columns, in the output order."""
        import numpy as np

        if self.sort == "row":
            if not self._blocks:
                return []
            n = len(self._blocks[0][2])
            return [np.concatenate([b[2][j] for b in self._blocks]) for j in range(n)]
        if self._key is None:
            return []
        order = np.lexsort((self._row, -self._key))
        return [c[order] for c in self._cols]
