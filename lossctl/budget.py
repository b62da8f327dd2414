"""The memory budget: ``memory_limit="256M"`` turned into block sizes that keep a run within it.

Every command streams its inputs in row blocks; the budget decides how many rows a block holds
(and how many bytes of text are parsed at once), never whether the input fits.
"""
from __future__ import annotations

import re

from lossctl.errors import UsageError, opt

__all__ = ["DEFAULT", "INTERPRETER", "MIN_BUDGET", "block_rows", "parse_size"]

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


def block_rows(budget: int, row_bytes: int) -> int:
    """Rows per block so that a block and its temporaries fit the budget."""
    usable = max(budget - INTERPRETER, 8 * 2**20)
    return int(min(max(usable // (COPIES * max(row_bytes, 8)), 1024), MAX_BLOCK_ROWS))
