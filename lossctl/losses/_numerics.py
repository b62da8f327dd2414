"""Numerically stable primitives shared by the loss functions.

Every function here is pure numpy, keeps the dtype of its (floating) input, and is exact and
warning-free over the whole finite range: logits of +-1000 or +-1e308 give the correctly rounded
result (for example ``log_sigmoid(-1e308) == -1e308``), never NaN and never a RuntimeWarning.

The forms used:

- ``log_sigmoid(x) = -logaddexp(0, -x)`` and ``softplus(x) = logaddexp(0, x)``;
- ``sigmoid`` evaluated on the side where ``exp`` cannot overflow;
- ``log_softmax(x) = (x - m) - log(sum(exp(x - m)))`` with ``m`` the row maximum (the shift
  Keras, PyTorch and JAX use; a row whose maximum is not finite is shifted by 0, as JAX does);
- ``xlogy(x, y) = x * log(y)`` with ``0`` wherever ``x == 0`` (the ``0 log 0 = 0`` limit used by
  ``torch.xlogy`` / ``scipy.special.xlogy``), and ``xlogy_from_log`` for the same when ``log y``
  is already known (``0 * -inf`` -> 0, not NaN).
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "row_max",
    "row_min",
    "row_sum",
    "sigmoid",
    "softmax",
    "sklearn_clip",
    "softplus",
    "xlogy",
    "xlogy_from_log",
]


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))``, stable for any finite ``x`` (``softplus(1e308) == 1e308``)."""
    x = np.asarray(x)
    return np.logaddexp(0, x)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log(sigmoid(x)) = -softplus(-x)``, exact for large ``|x|`` (-1000 -> -1000)."""
    x = np.asarray(x)
    return -np.logaddexp(0, -x)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` evaluated without overflow.

    For ``x >= 0`` it is ``1 / (1 + exp(-x))``; for ``x < 0`` it is ``exp(x) / (1 + exp(x))``, so
    ``exp`` only ever sees non-positive arguments. ``sigmoid(-1000) == 0`` (underflow, exactly as
    the true value rounds) and ``sigmoid(1000) == 1``.
    """
    x = np.asarray(x)
    out = np.empty_like(x)
    pos = x >= 0
    neg = ~pos  # also holds NaN, which propagates through exp
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    e = np.exp(x[neg])
    out[neg] = e / (1 + e)
    return out


#: Rows up to this many classes are reduced column by column (see :func:`row_sum`).
_COLUMNWISE = 128


def _short_rows(x: np.ndarray, axis: int) -> bool:
    """A 2-D float array reduced along its last axis, rows short enough to go by columns
    (in any memory layout: a column-major block's columns are contiguous, and go faster)."""
    return (x.ndim == 2 and axis in (-1, 1) and 0 < x.shape[1] <= _COLUMNWISE
            and x.shape[0] > 0 and x.dtype.kind == "f")


def _row_extreme(x: np.ndarray, axis: int, keepdims: bool, pair: np.ufunc) -> np.ndarray:
    """``pair.reduce`` along the rows: on short rows of a 2-D array the columns are combined
    with ``pair`` (``np.maximum``/``np.minimum``), 3-10x faster than numpy's per-row loop (a
    row of 10 costs it more in loop set-up than in comparisons); the extreme does not depend on
    the order (NaN propagates either way), so the result is the same (but for the sign of a
    zero)."""
    if not _short_rows(x, axis):
        return pair.reduce(x, axis=axis, keepdims=keepdims)
    m = x[:, 0].copy()
    for j in range(1, x.shape[1]):
        pair(m, x[:, j], out=m)
    return m[:, None] if keepdims else m


def row_max(x: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``np.max(x, axis)`` (see :func:`_row_extreme`)."""
    return _row_extreme(x, axis, keepdims, np.maximum)


def row_min(x: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``np.min(x, axis)`` (see :func:`_row_extreme`)."""
    return _row_extreme(x, axis, keepdims, np.minimum)


def _pairwise_columns(x: np.ndarray) -> np.ndarray:
    """numpy's pairwise summation of each row (``pairwise_sum`` in its ``loops_utils.h``, rows
    of 8 to 128), done on columns: eight partial sums over blocks of 8 columns, combined as
    ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))``, then the last ``C % 8`` columns one
    by one, all added to the reduction's identity 0."""
    c = x.shape[1]
    tail = c - c % 8
    r = x[:, :8]
    for i in range(8, tail, 8):
        r = r + x[:, i:i + 8]
    r4 = r[:, 0::2] + r[:, 1::2]
    r2 = r4[:, 0::2] + r4[:, 1::2]
    res = r2[:, 0] + r2[:, 1]
    for i in range(tail, c):
        res += x[:, i]
    res += 0.0  # the identity the reduction starts from: a sum of -0.0 is +0.0
    return res


def _sequential_columns(x: np.ndarray) -> np.ndarray:
    """numpy's sum of a row shorter than 8: left to right from 0."""
    res = np.zeros(x.shape[0], dtype=x.dtype)
    for i in range(x.shape[1]):
        res += x[:, i]
    return res


_VERIFIED: dict[tuple, bool] = {}


def _probe_values(n: int, c: int) -> np.ndarray:
    """``n`` x ``c`` reproducible values of both signs spread over 24 decimal orders of
    magnitude: a splitmix64 hash of the cell index (``numpy.random`` is not imported for it;
    its import costs a run 10-15 ms)."""
    h = np.arange(n * c, dtype=np.uint64) + np.uint64(c)  # unsigned products wrap, silently
    h *= np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    mantissa = (h >> np.uint64(11)).astype(np.float64) / 2.0**53 + 0.5
    sign = np.where(h & np.uint64(1), -1.0, 1.0)
    exponent = ((h >> np.uint64(1)) % np.uint64(24)).astype(np.int64) - 12
    return (sign * mantissa * 10.0 ** exponent).reshape(n, c)


def _columnwise_sum_matches(dtype: np.dtype, c: int) -> bool:
    """Whether the column-wise sum gives numpy's bits for rows of ``c`` values of ``dtype``,
    checked once per (dtype, c) on values spread over many magnitudes and signs, where any
    other order of the additions would round differently (a numpy whose reduction is not the
    one emulated falls back to ``np.sum``)."""
    key = (dtype.str, c)
    ok = _VERIFIED.get(key)
    if ok is None:
        probe = _probe_values(512, c).astype(dtype)
        probe[0] = -0.0
        ok = _VERIFIED[key] = bool(np.array_equal(
            _columnwise(probe).view(f"u{dtype.itemsize}"),
            np.sum(probe, axis=-1).view(f"u{dtype.itemsize}")))
    return ok


def _columnwise(x: np.ndarray) -> np.ndarray:
    return _sequential_columns(x) if x.shape[1] < 8 else _pairwise_columns(x)


def row_sum(x: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``np.sum(x, axis)`` of the C-ordered rows, the same bits in every memory layout. On short
    rows of a 2-D float array the sum is done on columns in the order numpy's pairwise
    summation adds a contiguous row (2-3x faster: numpy sets up its inner loop once per row;
    5x on a column-major block, whose columns are contiguous). numpy itself sums the rows of
    other layouts column by column, in another order, so ``np.sum`` of a column-major block
    can differ in the last bit; this does not. That the column order gives numpy's bits is
    verified once per dtype and row length; where it does not, the rows are summed by
    ``np.sum`` in C order."""
    if not (_short_rows(x, axis) and x.dtype.itemsize in (4, 8)
            and _columnwise_sum_matches(x.dtype, x.shape[1])):
        if x.ndim == 2 and axis in (-1, 1) and not x.flags.c_contiguous:
            x = np.ascontiguousarray(x)  # numpy's pairwise order is that of contiguous rows
        return np.sum(x, axis=axis, keepdims=keepdims)
    res = _columnwise(x)
    return res[:, None] if keepdims else res


def _row_max(x: np.ndarray, axis: int) -> np.ndarray:
    m = row_max(x, axis=axis, keepdims=True)
    # A row whose maximum is -inf (all logits -inf) or +inf would give inf - inf = NaN in the
    # shift; like jax.nn.logsumexp, shift such rows by 0 instead.
    return np.where(np.isfinite(m), m, np.zeros_like(m))


def logsumexp(x: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """``log(sum(exp(x), axis))`` with the max-shift; finite for any finite input."""
    x = np.asarray(x)
    m = _row_max(x, axis)
    with np.errstate(over="ignore", divide="ignore"):
        # x - m can overflow to -inf (x = -1e308, m = 1e308): that is the correctly rounded
        # value, and exp(-inf) = 0 is exactly what the sum needs.
        out = np.log(row_sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``x - logsumexp(x)`` computed as ``(x - m) - log(sum(exp(x - m)))``, ``m = max(x)``.

    This is the evaluation order of Keras' NumPy backend and of PyTorch's CPU kernel. Logits of
    +-1000 give exact results (``log_softmax([1000, -1000]) == [0, -2000]``); the gap between
    +-1e308 is beyond the float range and gives ``[0, -inf]``, the correctly rounded value,
    without a warning.
    """
    x = np.asarray(x)
    m = _row_max(x, axis)
    with np.errstate(over="ignore", divide="ignore"):
        shifted = x - m
        lse = np.log(row_sum(np.exp(shifted), axis=axis, keepdims=True))
    return shifted - lse


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(x - m) / sum(exp(x - m))``, ``m = max(x)`` (Keras/JAX/PyTorch evaluation order)."""
    x = np.asarray(x)
    m = _row_max(x, axis)
    with np.errstate(over="ignore"):
        e = np.exp(x - m)
    return e / row_sum(e, axis=axis, keepdims=True)


def xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x * log(y)``, and ``0`` where ``x == 0`` (unless ``y`` is NaN), like ``torch.xlogy``.

    ``xlogy(0, 0) == 0``; ``xlogy(1, 0) == -inf`` (no warning).
    """
    x = np.asarray(x)
    y = np.asarray(y)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        out = x * np.log(y)
    return np.where((x == 0) & ~np.isnan(y), np.zeros_like(out), out)


def xlogy_from_log(x: np.ndarray, log_y: np.ndarray) -> np.ndarray:
    """``x * log_y`` with ``0`` where ``x == 0`` (so ``0 * -inf`` is 0, not NaN).

    Used for ``sum(y * log p)`` when ``log p`` comes from ``log_softmax`` or ``log``: a class
    with target 0 contributes nothing even if its probability underflowed to 0.
    """
    x = np.asarray(x)
    log_y = np.asarray(log_y)
    with np.errstate(invalid="ignore", over="ignore"):
        out = x * log_y
    return np.where((x == 0) & ~np.isnan(log_y), np.zeros_like(out), out)


# --- argument checks shared by every family --------------------------------------------------------

#: Conventions a loss function accepts. ``"keras"`` is Keras 3 on its default TensorFlow backend;
#: ``"keras-jax"`` Keras 3 on its JAX, NumPy or PyTorch backend (they differ from TensorFlow in a
#: few losses, which test for it); ``"optax"`` follows the Keras rules where the two could differ;
#: ``"sklearn"`` is scikit-learn's metrics (the Keras rules for the losses it shares with Keras,
#: its own clipping through :func:`sklearn_clip`).
CONVENTIONS = ("keras", "torch", "keras-jax", "optax", "sklearn")


def check_convention(convention: str) -> str:
    """Validate ``convention``; returns the rule family: ``"keras"`` (for keras, keras-jax, optax
    and sklearn) or ``"torch"``. A loss whose Keras backends differ tests ``convention`` itself."""
    if convention not in CONVENTIONS:
        from lossctl.errors import UsageError

        raise UsageError(
            f"unknown convention {convention!r}", hint="use one of: " + ", ".join(CONVENTIONS)
        )
    return "torch" if convention == "torch" else "keras"


def prepare(y_true, y_pred, convention: str):
    """Check the convention and cast both arrays to y_pred's float dtype (Keras casts y_true to
    y_pred's dtype too; integer predictions become float64). Returns (y_true, y_pred, scalar type).
    """
    check_convention(convention)
    y_pred = np.asarray(y_pred)
    if not np.issubdtype(y_pred.dtype, np.floating):
        y_pred = y_pred.astype(np.float64)
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    return y_true, y_pred, y_pred.dtype.type


def sklearn_clip(p: np.ndarray) -> np.ndarray:
    """Probabilities clipped as scikit-learn's ``log_loss`` clips them: to ``[eps, 1 - eps]``
    with ``eps = np.finfo(p.dtype).eps`` (2.22e-16 in float64, 1.19e-7 in float32), in p's
    dtype. Keras clips at its fixed ``epsilon()`` = 1e-7 instead, so a probability of exactly 0
    costs ``-log(2.22e-16) = 36.04`` under scikit-learn and 16.12 under Keras."""
    p = np.asarray(p)
    eps = np.finfo(p.dtype).eps
    return np.clip(p, p.dtype.type(eps), p.dtype.type(1) - p.dtype.type(eps))
