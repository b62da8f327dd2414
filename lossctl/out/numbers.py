"""Numbers as text: exact round-trip forms for machines, vectorised over columns.

:func:`format_number` is the rule for one value; :func:`format_column` applies it to a whole 1-D
array at once (``repr`` over ``tolist()`` for ``float64``, which is what ``repr`` of each
``float`` gives), and :func:`int_csv` writes integer blocks as delimited text without a ``str()``
per cell. numpy is imported inside the functions, never at import time.
"""
from __future__ import annotations

from typing import Any

__all__ = ["format_column", "format_number", "int_csv"]


def format_number(x: Any) -> str:
    """A number as text that reads back to exactly the same value.

    Python and ``float64`` floats use ``repr`` (shortest round-trip form: ``0.1 + 0.2`` is
    ``0.30000000000000004``, ``1e-300`` stays ``1e-300``); other numpy float types use numpy's
    shortest round-trip form *for their own precision* (``np.float32(0.1)`` is ``0.1``). Integers
    (Python or numpy) are written as integers, booleans as ``1``/``0``, NaN as ``nan`` and
    infinities as ``inf``/``-inf``. Strings are returned unchanged; ``None`` becomes ``""``.

    Args:
        x: a Python or numpy scalar, a 0-d array, or a string.

    Returns:
        The text, without a newline.
    """
    import numpy as np

    if isinstance(x, np.ndarray):
        if x.ndim != 0:
            raise TypeError(f"format_number takes a scalar, not an array of shape {x.shape}")
        x = x[()]
    if x is None:
        return ""
    if isinstance(x, str):
        return str(x)
    if isinstance(x, (bool, np.bool_)):
        return "1" if x else "0"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, float):  # includes np.float64
        return repr(float(x))
    if isinstance(x, np.floating):  # float16/float32/longdouble: shortest form in their precision
        if np.isnan(x):
            return "nan"
        if np.isinf(x):
            return "inf" if x > 0 else "-inf"
        return str(x)
    return str(x)


def int_csv(parts: list[Any], n: int, sep: str) -> str:
    """Integer/bool columns as delimited text, 10-30x faster than str() per cell.

    Every value in 0..9 (one-hot, multi-hot, small labels): the digits are written straight
    into a byte array (~2 ns per cell). Otherwise one %-format over the block (~65 ns per cell).

    Args:
        parts: 2-D ``(n, k_i)`` integer or bool arrays, side by side.
        n: their number of rows.
        sep: the one-character delimiter.

    Returns:
        ``n`` lines, each ending in ``\\n``.
    """
    import numpy as np

    a = parts[0] if len(parts) == 1 else np.concatenate([p.reshape(n, -1) for p in parts], axis=1)
    a = a.reshape(n, -1)
    if a.dtype.kind == "b":
        a = a.astype(np.uint8)
    k = a.shape[1]
    if n and k and a.min() >= 0 and a.max() <= 9:
        out = np.empty((n, 2 * k), dtype=np.uint8)
        out[:, 0::2] = a
        out[:, 0::2] += 48
        out[:, 1::2] = ord(sep)
        out[:, -1] = 10
        return out.tobytes().decode("ascii")
    row = sep.join(["%d"] * k) + "\n"
    return (row * n) % tuple(a.ravel().tolist())


def format_column(col: Any) -> list[str]:
    """Format a 1-D array as text cells (the vectorised twin of :func:`format_number`)."""
    import numpy as np

    kind = col.dtype.kind
    if kind in "iu":
        return list(map(str, col.tolist()))
    if kind == "b":
        return ["1" if v else "0" for v in col.tolist()]
    if kind == "f":
        if col.dtype == np.float64:
            return list(map(repr, col.tolist()))  # repr(nan) == "nan", repr(inf) == "inf"
        return [format_number(v) for v in col]
    if kind in "US":
        return [str(v) for v in col.tolist()]
    return [format_number(v) for v in col.tolist()]
