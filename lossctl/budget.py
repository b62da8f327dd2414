"""The memory budget: ``memory_limit="256M"`` turned into block sizes that keep a run within it.

Every command streams its inputs in row blocks; the budget decides how many rows a block holds
(and how many bytes of text are parsed at once), never whether the input fits.
"""
from __future__ import annotations

import re

from lossctl.errors import UsageError, opt

__all__ = ["DEFAULT", "INTERPRETER", "MIN_BUDGET", "block_cells", "block_rows", "chunk_bytes",
           "parse_size", "usable"]

#: The default budget.
DEFAULT = "256M"
#: What Python, numpy and pyarrow take before any data is read (measured: about 45 MB).
INTERPRETER = 48 * 2**20
#: The smallest budget accepted.
MIN_BUDGET = 64 * 2**20
#: A block of float64 rows is copied about this many times while it is converted, computed and
#: reduced (measured peak).
COPIES = 12
#: The budget is a ceiling, not a target: blocks of about 64k rows stay in cache and are fastest.
MAX_BLOCK_ROWS = 1 << 16
#: Blocks hold at least this many rows while that many rows fit the budget once (fewer, larger
#: blocks are faster); wider rows get as many rows as fit with their copies, at least one.
MIN_BLOCK_ROWS = 1024

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*")
_SCALE = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_size(text: str | int) -> int:
    """``"256M"``, ``"2G"``, ``"1.5g"``, ``"64MiB"`` or a number of bytes -> bytes.

    Raises:
        UsageError: not a size, or below :data:`MIN_BUDGET`.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        size = text
        shown = str(text)
    else:
        m = _SIZE.fullmatch(str(text).lower())
        if not m:
            raise UsageError(f"{opt('memory_limit')} {text!r} is not a size",
                             hint="write it like 256M or 2G", option="memory_limit")
        size = int(float(m.group(1)) * _SCALE[m.group(2)])
        shown = str(text)
    if size < MIN_BUDGET:
        raise UsageError(f"{opt('memory_limit')} {shown} is too small",
                         hint="allow at least 64M (Python and numpy alone take about 40M)",
                         option="memory_limit")
    return size


def usable(budget: int) -> int:
    """The part of the budget that data may take (the interpreter takes the rest)."""
    return max(budget - INTERPRETER, 8 * 2**20)


def block_rows(budget: int, row_bytes: int) -> int:
    """Rows per block so that a block and its temporaries fit the budget.

    At least :data:`MIN_BLOCK_ROWS` rows while that many rows fit the budget once; rows wider
    than that (a prediction file of 300,000 classes is 2.4 MB per row) get as many rows as fit
    with their :data:`COPIES`, and at least one: a row is never cut here (:func:`block_cells`
    sizes the column pieces of the commands that can cut one).
    """
    room = usable(budget)
    row = max(row_bytes, 8)
    fit = room // (COPIES * row)
    floor = MIN_BLOCK_ROWS if MIN_BLOCK_ROWS * row <= room else 1
    return int(min(max(fit, floor), MAX_BLOCK_ROWS))


def block_cells(budget: int) -> int:
    """Cells (8-byte values) per block, or per column piece of a row too wide for one block, so
    that a block and its temporaries fit the budget (``onehot`` and ``sparse`` cut such rows
    into pieces of this many columns)."""
    return int(max(usable(budget) // (COPIES * 8), 1 << 12))


def chunk_bytes(budget: int) -> int:
    """Bytes of text parsed at a time (a chunk is parsed into about three times its size: the
    bytes, pyarrow's table, the numpy block): between 256 KB and 8 MB."""
    return int(min(max(usable(budget) // 8, 256 * 2**10), 8 * 2**20))


def threads(requested: int | None = None) -> int:
    """Threads computing blocks: ``requested``, or one per core this process may use."""
    if requested is not None:
        if int(requested) < 1:
            from lossctl.errors import UsageError, opt

            raise UsageError(f"{opt('threads', requested)} must be 1 or more", option="threads")
        return int(requested)
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)
