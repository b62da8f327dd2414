"""The one text for each kind of mismatch between inputs.

Row counts that differ, a column count that does not fit: each has exactly one message, in the
words of the framework errors users search for, whoever finds it (the aligner that zips the
sources, the engine that gets arrays, ``inspect``). Inputs are named by their role (``y_true``,
``y_pred``, ``sample_weight``) through :func:`lossctl.errors.opt`, so Python users read
``y_true`` and the CLI reads ``Y_TRUE``.
"""
from __future__ import annotations

from collections.abc import Sequence

from lossctl.errors import ShapeError, opt

__all__ = ["RowCount", "rows", "rows_text"]

#: ``(role, source name or None, number of rows)``
RowCount = tuple[str, "str | None", int]

_ROWS_HINT = (
    "every input must hold one row per sample, in the same order; labels flattened from an "
    "[N, T] array, a transposed array or a header row read as data are the usual causes"
)


def rows_text(n_true: int, n_pred: int, columns: int | None = None) -> str:
    """The y_true/y_pred row-count mismatch, with what Keras and PyTorch would say."""
    c = "C" if columns is None else str(columns)
    return (
        f"{opt('y_true')} has {n_true} rows but {opt('y_pred')} has {n_pred}: Keras would fail "
        f"with 'logits and labels must have the same first dimension, got logits shape "
        f"[{n_pred},{c}] and labels shape [{n_true}]', PyTorch with 'Expected input batch_size "
        f"({n_pred}) to match target batch_size ({n_true})'"
    )


def rows(counts: Sequence[RowCount], *, columns: int | None = None) -> ShapeError:
    """The error for inputs whose row counts differ.

    Args:
        counts: every input's role, source name and row count; the first is the reference
            (``y_true``), the first one that differs from it is the one reported.
        columns: the number of prediction columns, for the framework wording.
    """
    ref_role, ref_name, ref_n = counts[0]
    other = next((c for c in counts[1:] if c[2] != ref_n), counts[-1])
    role, name, n = other
    by_role = {r: (s, k) for r, s, k in counts}
    if role == "sample_weight":
        return ShapeError(
            f"{n} sample weights for {ref_n} rows",
            source=name,
            hint="give one weight per row",
            option="sample_weight",
        )
    if {ref_role, role} == {"y_true", "y_pred"}:
        (tname, nt), (pname, npred) = by_role["y_true"], by_role["y_pred"]
        sources = f" ({tname}: {nt}, {pname}: {npred})" if tname and pname else ""
        text = rows_text(nt, npred, columns)
        head, sep, tail = text.partition(":")
        hint = _ROWS_HINT
        if columns == nt and npred != nt:
            hint = (f"{opt('y_pred')} has {npred} rows of {columns} values, one per sample: it "
                    f"looks transposed ([C, N] instead of [N, C]); save its transpose (a.T)")
        return ShapeError(head + sources + sep + tail, hint=hint)
    names = f" ({ref_name}: {ref_n}, {name}: {n})" if ref_name and name else ""
    return ShapeError(
        f"{opt(ref_role)} has {ref_n} rows but {opt(role)} has {n}{names}",
        hint=_ROWS_HINT,
        option=role,
    )
