"""Numbers as text: exact round-trip forms for machines, vectorised over columns.

:func:`format_number` is the rule for one value; :func:`format_column` applies it to a whole 1-D
array at once (``repr`` over ``tolist()`` for ``float64``, which is what ``repr`` of each
``float`` gives), and :func:`int_csv` writes integer blocks as delimited text without a ``str()``
per cell. numpy is imported inside the functions, never at import time.
"""
from __future__ import annotations

from typing import Any

__all__ = ["column_text", "float_text", "format_column", "format_number", "int_csv", "text_scalar"]

_SCALARS: dict[str, Any] = {}


def text_scalar(text: str) -> Any:
    """``text`` as a pyarrow string scalar, for the kernels' text arguments. A plain ``str``
    there is converted with type inference, which tries to import dateutil on every call: a
    failed import, a scan of ``sys.path``, where dateutil is not installed."""
    s = _SCALARS.get(text)
    if s is None:
        import pyarrow as pa

        s = _SCALARS[text] = pa.scalar(text, type=pa.string())
    return s


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


# --- whole columns as Arrow string arrays --------------------------------------------------------
#
# pyarrow's cast float64 -> string writes the same shortest round-trip digits as Python's repr
# (both pick the shortest digit string that reads back to the same double, and the nearest one
# among equals), several times faster, but lays them out by other rules. With e the decimal exponent
# of the first digit (value = d.ddd x 10**e):
#
#   e          Python repr              pyarrow              fix
#   <= -10     1.5e-10                  1.5e-10              none
#   -9 .. -7   1.5e-07                  1.5e-7               two exponent digits
#   -6, -5     1.5e-05                  0.000015             exponent form
#   -4 .. 9    0.15, 2.0, -0.0          0.15, 2, -0          ".0" after an integer
#   10 .. 15   15000000000.0            1.5e+10              repr itself (rare in losses)
#   >= 16      1.5e+16                  1.5e+16              none
#
# nan, inf and -inf are the same (a negative NaN too: "nan"). The class of each value comes from
# comparing |x| with the doubles 1e-9, 1e-6, 1e-4, 1e10 and 1e16: the shortest digits of x have
# e >= k exactly when |x| >= float(10**k) (a double below float(10**k) has no decimal at or above
# 10**k that reads back to it, and float(10**k) itself prints as 1ek). Only the values of the
# classes with a fix are rewritten (a few Arrow string kernels each); everything else is
# pyarrow's text unchanged. tests/test_out_numbers.py holds the result equal to repr for
# every class and its boundaries, random bit patterns and typical losses; if a pyarrow ever
# differed from repr in the digits themselves, that class would have to go to repr.


def _float_fixes(text: Any, x: Any) -> Any:
    """pyarrow's text ``text`` of the float64 values ``x`` rewritten as ``repr`` writes them."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    a = np.abs(x)
    with np.errstate(invalid="ignore"):  # floor(nan), floor(inf)
        integral = (a < 1e10) & (x == np.floor(x))
    classes = (  # disjoint
        (integral, lambda t, v: pc.binary_join_element_wise(  # "2" -> "2.0"
            t, text_scalar(".0"), text_scalar(""))),
        ((a >= 1e-9) & (a < 1e-6), lambda t, v: pc.replace_substring(t, "e-", "e-0")),
        ((a >= 1e-6) & (a < 1e-4), lambda t, v: _exponent_form(v)),  # "0.000015" -> "1.5e-05"
        # 1e10 <= |x| < 1e16 ("1.5e+10" -> "15000000000.0") is rare in losses: repr itself
        ((a >= 1e10) & (a < 1e16), lambda t, v: pa.array(list(map(repr, v.tolist())), type=pa.string())),
    )
    where, fixed = [], []
    for mask, fix in classes:
        i = np.flatnonzero(mask)
        if len(i):
            where.append(i)
            fixed.append(fix(text.take(i), x[i]).cast(pa.string()))
    if not where:
        return text
    i = np.concatenate(where)
    mask = np.zeros(len(x), dtype=bool)
    mask[i] = True  # one rewrite of the whole array, its new values in row order
    values = pa.concat_arrays(fixed).take(pa.array(np.argsort(i, kind="stable")))
    return pc.replace_with_mask(text, pa.array(mask), values)


def _exponent_form(x: Any) -> Any:
    """``repr`` of floats with 1e-6 <= |x| < 1e-4 (``1.5e-05``), from pyarrow's digits of |x|
    (``0.000015``: the digits after the sixth character, without the zero of 1e-6's decade)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    a = np.abs(x)
    digits = pc.utf8_ltrim(pc.utf8_slice_codeunits(pc.cast(pa.array(a), pa.string()), 6), "0")
    many = pc.utf8_length(digits).to_numpy(zero_copy_only=False) > 1
    pieces = (
        pa.array(["", "-"], type=pa.string()).take(pa.array(np.signbit(x).astype(np.int8))),
        pc.utf8_slice_codeunits(digits, 0, 1),
        pa.array(["", "."], type=pa.string()).take(pa.array(many.astype(np.int8))),
        pc.utf8_slice_codeunits(digits, 1),
        pa.array(["e-06", "e-05"], type=pa.string()).take(pa.array((a >= 1e-5).astype(np.int8))),
    )
    return pc.binary_join_element_wise(*pieces, text_scalar(""))


def float_text(x: Any) -> Any:
    """``repr`` of every value of a 1-D float64 array, as an Arrow string array (vectorised)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    x = np.ascontiguousarray(x, dtype=np.float64)
    return _float_fixes(pc.cast(pa.array(x), pa.string()), x)


#: Non-negative integers below this are written by a look-up of their texts.
_SMALL_INTS = 1 << 10


def column_text(col: Any, *, nonfinite: str | None = None) -> tuple[Any, int]:
    """The cells of a 1-D numeric array as an Arrow string array, exactly as
    :func:`format_column` writes them, and how many non-finite floats became ``nonfinite``.

    Args:
        col: a 1-D numpy array of integers, booleans or floats.
        nonfinite: the text of NaN and infinities instead of ``nan``/``inf``/``-inf`` (JSON's
            ``null``), counted. Default: unchanged.

    Returns:
        ``(cells, count)``.

    Raises:
        TypeError: a column of strings or objects (their quoting belongs to the format).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = col.dtype.kind
    if kind in "iu" and len(col) and 0 <= col.min() and col.max() < _SMALL_INTS:
        # labels, predicted classes: a look-up of their texts is ~3x faster than the cast
        table = pa.array([str(i) for i in range(int(col.max()) + 1)], type=pa.string())
        return table.take(pa.array(col)), 0
    if kind in "iu":
        return pc.cast(pa.array(col), pa.string()), 0
    if kind == "b":
        return pc.cast(pa.array(col.astype(np.uint8)), pa.string()), 0
    if kind != "f":
        raise TypeError(f"column_text takes numbers, not a column of dtype {col.dtype}")
    if col.dtype == np.float64:
        cells = float_text(col)
    else:  # float16/float32/longdouble: shortest form in their own precision, one at a time
        cells = pa.array(format_column(col), type=pa.string())
    if nonfinite is None:
        return cells, 0
    bad = ~np.isfinite(col)
    count = int(np.count_nonzero(bad))
    if count:
        cells = pc.if_else(pa.array(bad), text_scalar(nonfinite), cells)
    return cells, count


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
