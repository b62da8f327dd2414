"""A single value: one number with full precision and a newline."""
from __future__ import annotations

import os
from typing import Any

from lossctl.out.numbers import format_number
from lossctl.out.streams import write_text

__all__ = ["write_value"]


def write_value(x: Any, *, output: str | os.PathLike | None = None, stdout: Any = None) -> None:
    """Write a single number with full precision (:func:`~lossctl.out.format_number`) and a
    newline.

    Args:
        x: a Python or numpy scalar (or 0-d array).
        output: a file path (written atomically); ``None`` or ``"-"`` for standard output.
        stdout: the stream used for standard output (default ``sys.stdout``).

    Raises:
        OutputError: the file cannot be written.
    """
    write_text(format_number(x) + "\n", output, stdout)
