"""Column SPECs: which columns of a source to read (``Source.select``).

A SPEC is a comma-separated list of column names, 1-based numbers, ranges ``2-11`` (``13-12``
counts down) and shell globs on names (``p*``, ``p[0-2]``), kept in the order written. An exact
name wins over a number or range of the same spelling (a header ``2,1``: ``1`` is the second
column). None or an empty string selects all columns. A source may name groups of columns
(a Parquet vector column ``probs`` is the columns ``probs[0]`` .. ``probs[C-1]``): a group's
name selects its columns, in order, unless a column has that exact name.

Every error is an InputError with ``option="cols"`` whose hint lists the available columns (the
pipeline renames ``cols`` to ``true_cols``/``pred_cols`` per input).
"""
from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence

from lossctl.errors import InputError, opt

__all__ = ["select"]

_RANGE_RE = re.compile(r"([0-9]+)\s*-\s*([0-9]+)")


def select(spec: str | None, columns: list[str], source: str,
           groups: Mapping[str, Sequence[int]] | None = None) -> list[int]:
    """Column SPEC -> 0-based indices into ``columns`` (see the module docstring); ``groups``:
    name -> the indices that name selects."""
    k = len(columns)
    if spec is None or not str(spec).strip():
        return list(range(k))
    out: list[int] = []
    for raw in str(spec).split(","):
        tok = raw.strip()
        if not tok:
            raise _error(f"empty item in the column list {opt('cols', str(spec))}", source,
                         "separate column names, numbers and ranges with single commas")
        out.extend(_one(tok, str(spec), columns, source, groups or {}))
    return out


def _one(tok: str, spec: str, columns: list[str], source: str,
         groups: Mapping[str, Sequence[int]]) -> list[int]:
    """The indices one item of a SPEC selects."""
    k = len(columns)
    exact = [i for i, c in enumerate(columns) if c == tok]
    if exact:
        return exact
    if tok in groups:
        return list(groups[tok])
    if tok.isdigit():
        n = int(tok)
        if 1 <= n <= k:
            return [n - 1]
        raise _error(f"column {n} in {opt('cols', spec)} is out of range: there are {k} columns", source,
                     available(columns))
    m = _RANGE_RE.fullmatch(tok)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if not (1 <= a <= k and 1 <= b <= k):
            raise _error(f"range {tok} in {opt('cols', spec)} is out of range: there are {k} columns", source,
                         available(columns))
        step = 1 if b >= a else -1
        return [i - 1 for i in range(a, b + step, step)]
    if any(ch in tok for ch in "*?["):
        hits = [i for i, c in enumerate(columns) if fnmatch.fnmatchcase(c, tok)]
        if hits:
            return hits
        raise _error(f"no column matches '{tok}' (in {opt('cols', spec)})", source, available(columns))
    raise _error(f"no column named '{tok}' (in {opt('cols', spec)})", source, available(columns))


def _error(message: str, source: str, hint: str) -> InputError:
    return InputError(message, source=source, hint=hint, option="cols")


def available(columns: list[str], limit: int = 20) -> str:
    """A hint listing the columns (names, or numbers 1..k when the names are numbers)."""
    shown = ", ".join(columns[:limit])
    more = f", ... ({len(columns) - limit} more)" if len(columns) > limit else ""
    kind = "numbers 1.." + str(len(columns)) if columns == [str(i + 1) for i in range(len(columns))] else "names"
    return f"available columns ({kind}): {shown}{more}"
