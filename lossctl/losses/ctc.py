"""CTC (Connectionist Temporal Classification): the negative log-likelihood of a label sequence
under every alignment of it to a sequence of frames, exactly as PyTorch, Keras 3 (TensorFlow),
``tf.nn`` and optax compute it.

Inputs as lossctl reads them (batch-first, for every framework): ``y_pred`` ``(N, T, C)``, one
row of C class scores per frame (PyTorch's own layout is time-major ``(T, N, C)``: transpose
``log_probs`` with ``.transpose(0, 1)`` before writing it); ``y_true`` ``(N, S)`` integer labels,
right-padded (PyTorch's padded form; its concatenated 1-D form cannot be aligned with the rows
of ``y_pred``); ``input_lengths`` ``(N,)`` frames per sequence (``<= T``, default T) and
``target_lengths`` ``(N,)`` labels per sequence (``<= S``).

The forward algorithm (Graves et al., 2006), in log space, vectorised over the batch and over
the extended labels ``l' = (blank, l_1, blank, l_2, ..., l_L, blank)`` (``2L + 1`` states)::

    alpha_0(0) = lp_0(blank),  alpha_0(1) = lp_0(l_1)
    alpha_t(s) = logsumexp(alpha_{t-1}(s), alpha_{t-1}(s-1), [alpha_{t-1}(s-2)]) + lp_t(l'_s)
                 (the s-2 term only for a label different from the label before it: a repeated
                 label needs a blank in between)
    loss = -logaddexp(alpha_{T-1}(2L), alpha_{T-1}(2L-1))

so an empty target costs ``-sum_t lp_t(blank)``, and no frame at all costs 0 (empty target) or
infinity. A target that needs more frames than it has (``L`` plus its repeats above ``T``) has
no alignment: each framework then gives its own number (below).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from lossctl.errors import DataError, ShapeError, UsageError, opt
from lossctl.losses._numerics import log_softmax

__all__ = [
    "TF_LOG_0",
    "ctc",
    "ctc_log_likelihood",
    "optax_ctc",
    "target_lengths_from_padding",
]

#: TensorFlow's log(0) for the states a sequence may not end in: ``log(1e-307)`` cast to
#: float32 (``tf.nn.ctc_loss``'s ``ctc_state_log_probs``). An infeasible alignment costs about
#: 706.9 (plus the best path's cost) instead of infinity.
TF_LOG_0 = float(np.float32(np.log(1e-307)))


def _extended(labels: np.ndarray, lengths: np.ndarray, blank: int) -> tuple[np.ndarray,
                                                                             np.ndarray]:
    """The extended labels ``(N, 2S + 1)`` (blank between and around the labels; positions past
    a sequence's length hold blanks) and where the skip ``s - 2 -> s`` is allowed."""
    n, s = labels.shape
    inside = np.arange(s)[None, :] < lengths[:, None]
    lab = np.where(inside, labels, blank)
    ext = np.full((n, 2 * s + 1), blank, dtype=np.int64)
    ext[:, 1::2] = lab
    skip = np.zeros(ext.shape, dtype=bool)
    if s > 1:
        skip[:, 3::2] = lab[:, 1:] != lab[:, :-1]
    return ext, skip


def ctc_log_likelihood(log_probs: np.ndarray, labels: np.ndarray, input_lengths: np.ndarray,
                       target_lengths: np.ndarray, blank: int = 0,
                       floor: float | None = None) -> np.ndarray:
    """``log p(labels | log_probs)`` per sequence, by the forward algorithm (module docstring).

    Args:
        log_probs: ``(N, T, C)`` per-frame log-probabilities, used as they are (float64).
        labels: ``(N, S)`` integer labels; only the first ``target_lengths[n]`` of row n count.
        input_lengths, target_lengths: ``(N,)`` integers, ``<= T`` and ``<= S``.
        blank: the blank class, ``0 <= blank < C``.
        floor: TensorFlow's final-state weight (:data:`TF_LOG_0`): ending in any state but the
            two final ones costs ``-floor`` instead of being impossible, as
            ``tf.nn.ctc_loss``'s ``final_state_log_probs`` makes it. None: impossible (PyTorch).

    Returns:
        ``(N,)`` float64; ``-inf`` for a sequence with no alignment (when ``floor`` is None).
    """
    lp = np.asarray(log_probs, dtype=np.float64)
    n, t_max, _ = lp.shape
    t_len = np.asarray(input_lengths, dtype=np.int64)
    l_len = np.asarray(target_lengths, dtype=np.int64)
    ext, skip = _extended(np.asarray(labels, dtype=np.int64).reshape(n, -1), l_len, blank)
    k = ext.shape[1]
    rows = np.arange(n)[:, None]
    neg = np.full((n, 1), -np.inf)
    alpha = np.full((n, k), -np.inf)
    if t_max:
        alpha[:, :2] = lp[rows, 0, ext[:, :2]]
        if k > 1:  # a sequence with no label cannot start on one
            alpha[:, 1] = np.where(l_len > 0, alpha[:, 1], -np.inf)
    with np.errstate(invalid="ignore"):
        for t in range(1, t_max):
            one = np.concatenate([neg, alpha[:, :-1]], axis=1)
            two = np.where(skip, np.concatenate([neg, neg, alpha[:, :-2]], axis=1)[:, :k],
                           -np.inf)
            new = np.logaddexp(np.logaddexp(alpha, one), two) + lp[rows, t, ext]
            alpha = np.where((t < t_len)[:, None], new, alpha)
    last = 2 * l_len
    end = alpha[np.arange(n), last]
    end = np.where(l_len > 0, np.logaddexp(end, alpha[np.arange(n), np.maximum(last - 1, 0)]),
                   end)
    # no frame at all: only the empty target is matched (with probability 1)
    end = np.where(t_len == 0, np.where(l_len == 0, 0.0, -np.inf), end)
    if floor is None:
        return end
    final = np.zeros((n, k), dtype=bool)
    final[np.arange(n), last] = True
    final[np.arange(n), np.maximum(last - 1, 0)] = True
    with np.errstate(divide="ignore"):
        others = np.where(final, -np.inf, alpha)
        m = np.max(others, axis=1)
        ms = np.where(np.isfinite(m), m, 0.0)
        rest = np.log(np.sum(np.exp(others - ms[:, None]), axis=1)) + ms
    # no frame: TensorFlow's start state, which only the empty target may end in
    rest = np.where(t_len == 0, np.where(l_len == 0, -np.inf, 0.0), rest)
    return np.logaddexp(end, floor + rest)


def optax_ctc(logits: np.ndarray, labels: np.ndarray, input_lengths: np.ndarray,
              target_lengths: np.ndarray, blank: int = 0,
              log_epsilon: float = -1e5) -> np.ndarray:
    """optax's ``ctc_loss`` per sequence: its own recursion, step for step, in float64.

    optax keeps, for each number n of labels emitted, a "blank" score (``phi``, n = 0..S) and a
    "label" score (``emit``, n = 1..S), and writes log(0) as ``log_epsilon`` (-1e5): the scores
    start at ``log_epsilon`` except ``phi[0] = 0``, and a forbidden transition (a repeated label
    without a blank) adds ``log_epsilon`` instead of being removed. Where an alignment exists
    this is the exact CTC loss (``exp(-1e5)`` is 0 in float64); where none exists the loss is
    finite, about ``1e5`` per missing frame. The labels past a sequence's length (optax's
    ``label_paddings``) are used as optax uses them: whether the last label equals the next
    (padding) value changes which transition carries a ``log_epsilon``.

    Args:
        logits: ``(N, T, C)``; optax applies ``log_softmax``.
        labels: ``(N, S)`` integer labels, right-padded.
        input_lengths, target_lengths: ``(N,)``: ``logit_paddings[n, t] = t >= input_lengths[n]``
            and ``label_paddings[n, s] = s >= target_lengths[n]``.
        blank: optax's ``blank_id``.
        log_epsilon: optax's ``log_epsilon``.

    Returns:
        ``(N,)`` float64 losses (``-phi_T[L]``).
    """
    lp = log_softmax(np.asarray(logits, dtype=np.float64), axis=-1)
    n, t_max, c = lp.shape
    lab = np.asarray(labels, dtype=np.int64).reshape(n, -1)
    s = lab.shape[1]
    eps = float(log_epsilon)
    repeat = np.zeros((n, s))
    if s > 1:
        repeat[:, :-1] = lab[:, :-1] == lab[:, 1:]
    inside = (lab >= 0) & (lab < c)  # jax.nn.one_hot: an index out of range is all zeros
    emit_lp = np.where(inside[:, None, :],
                       np.take_along_axis(lp, np.clip(lab, 0, c - 1)[:, None, :], axis=2), 0.0)
    phi_lp = lp[:, :, blank:blank + 1]
    t_len = np.asarray(input_lengths, dtype=np.int64)
    phi = np.full((n, s + 1), eps)
    phi[:, 0] = 0.0
    emit = np.full((n, s), eps)
    for t in range(t_max):
        prev_phi = np.concatenate(
            [phi[:, :1], np.logaddexp(phi[:, 1:], emit + eps * repeat)], axis=1)
        next_emit = np.logaddexp(prev_phi[:, :-1] + emit_lp[:, t], emit + emit_lp[:, t])
        next_phi = prev_phi + phi_lp[:, t]
        next_phi = np.concatenate(
            [next_phi[:, :1],
             np.logaddexp(next_phi[:, 1:], emit + phi_lp[:, t] + eps * (1.0 - repeat))], axis=1)
        pad = (t >= t_len)[:, None]
        emit = np.where(pad, emit, next_emit)
        phi = np.where(pad, phi, next_phi)
    last = np.concatenate([phi[:, :1], np.logaddexp(phi[:, 1:], emit)], axis=1)
    return -last[np.arange(n), np.asarray(target_lengths, dtype=np.int64)]


# --- the loss as the engine calls it -------------------------------------------------------------


def _whole(a: Any, what: str, role: str) -> np.ndarray:
    """Integer values of an input (floats holding whole numbers are accepted)."""
    arr = np.asarray(a)
    if arr.dtype == bool:
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iuf":
        raise DataError(f"{opt(role)} must hold {what} (whole numbers), found {arr.dtype}",
                        option=role)
    if arr.dtype.kind == "f":
        flat = arr.reshape(arr.shape[0] if arr.ndim else 1, -1)
        bad = ~np.isfinite(flat) | (flat != np.round(flat))
        if bad.any():
            i = int(np.argmax(bad.any(axis=1)))
            raise DataError(f"{opt(role)} holds {flat[i][bad[i]][0]!r}, not a whole number",
                            row=i, hint=f"{opt(role)} holds {what}", option=role)
    return arr.astype(np.int64)


def _lengths(a: Any, n: int, top: int, role: str, what: str) -> np.ndarray:
    arr = _whole(a, what, role)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 0:
        arr = np.full(n, int(arr))
    if arr.shape != (n,):
        raise ShapeError(f"{opt(role)} has shape {arr.shape}; {n} sequences need one length "
                         "each", hint=f"give {opt(role)} as {n} numbers", option=role)
    bad = (arr < 0) | (arr > top)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(f"{opt(role)} is {int(arr[i])}, outside 0..{top}", row=i,
                        hint=f"each of {opt(role)} counts {what}, at most {top}", option=role)
    return arr


def target_lengths_from_padding(labels: np.ndarray, blank: int) -> np.ndarray:
    """Keras's ``label_length``: the number of non-zero labels of each row (0 is Keras's
    ``mask_index``, its blank and padding), for right-padded rows.

    Raises:
        UsageError: the blank is not 0 (Keras's rule needs 0 as blank and padding).
        DataError: a row with a 0 before a label (Keras would take the 0 as a label).
    """
    if blank != 0:
        raise UsageError(
            f"{opt('target_lengths')} is needed with {opt('blank', blank)}",
            hint="Keras's CTC counts the labels that are not 0 (its blank and padding); with "
            f"another blank give {opt('target_lengths')} as tf.nn.ctc_loss's label_length",
            option="target_lengths")
    nonzero = labels != 0
    lengths = nonzero.sum(axis=1)
    holes = nonzero & (np.arange(labels.shape[1])[None, :] >= lengths[:, None])
    if holes.any():
        i = int(np.argmax(holes.any(axis=1)))
        raise DataError(
            "labels are not right-padded: a 0 (Keras's blank and padding) comes before a label",
            row=i, hint=f"put the padding 0s after the labels, or give {opt('target_lengths')}",
            option="y_true")
    return lengths


def _check_predictions(pred: np.ndarray, convention: str) -> np.ndarray:
    if pred.ndim != 3:
        raise ShapeError(
            f"{opt('y_pred')} has shape {pred.shape}; CTC takes (N, T, C): T frames of C class "
            "scores per sequence", option="y_pred",
            hint="lossctl's files are batch-first; PyTorch's log_probs (T, N, C) are written "
            "with log_probs.transpose(0, 1)")
    if pred.dtype.kind not in "iuf" or pred.shape[1] == 0 or pred.shape[2] == 0:
        raise ShapeError(f"{opt('y_pred')} must hold numbers, with at least one frame and one "
                         f"class (shape {pred.shape})", option="y_pred")
    pred = pred.astype(np.float64)
    # PyTorch takes log-probabilities as they are: -inf is a probability of 0
    bad = np.isnan(pred) | (pred == np.inf) if convention == "torch" else ~np.isfinite(pred)
    if bad.any():
        i = int(np.argmax(bad.reshape(pred.shape[0], -1).any(axis=1)))
        raise DataError(f"prediction {pred[i][bad[i]][0]} is not a finite number", row=i,
                        option="y_pred", hint="remove or fix the sequence")
    return pred


def _check_labels(labels: np.ndarray, lengths: np.ndarray, c: int, blank: int,
                  given: int) -> None:
    inside = np.arange(labels.shape[1])[None, :] < lengths[:, None]
    bad = inside & ((labels < 0) | (labels >= c) | (labels == blank))
    if bad.any():
        i = int(np.argmax(bad.any(axis=1)))
        v = int(labels[i][bad[i]][0])
        why = (f"is the blank ({opt('blank', given)}); a target never holds the blank" if
               v == blank else f"is outside the classes 0..{c - 1}")
        raise DataError(f"label {v} {why}", row=i, option="y_true",
                        hint=f"check {opt('target_lengths')}: the labels past a sequence's "
                        "length are padding")


def ctc(y_true: Any, y_pred: Any, *, convention: str = "keras", input_lengths: Any = None,
        target_lengths: Any = None, blank: int = 0, zero_infinity: bool = False,
        log_epsilon: float | None = None) -> np.ndarray:
    """CTC loss per sequence ``(N,)``, each framework's way (see the module docstring).

    Formula: ``l_n = -log sum_{alignments a of y_n to T_n frames} prod_t p_t(a_t)``, by the
    forward algorithm in log space (float64).

    * ``convention="torch"`` (``ctc_loss``, ``CTCLoss``): ``y_pred`` holds log-probabilities
      (``log_softmax`` output), used as they are; ``blank`` (default 0) in 0..C-1; no alignment
      gives ``inf``, or 0 with ``zero_infinity``. ``mean`` divides each loss by its target
      length (at least 1), then averages over the batch; ``sum`` adds the losses.
    * ``convention="keras"`` (Keras ``CTC``/``ctc`` and ``tf.nn.ctc_loss``): ``y_pred`` holds
      logits (``log_softmax`` is applied); ``blank`` (``blank_index``) may count from the end
      (-1 is the last class). Keras's ``CTC`` has no lengths: every frame counts and a target's
      length is its number of non-zero labels (0 is its blank and padding); given lengths are
      tf.nn's ``logit_length`` and ``label_length``. No alignment costs about 706.9 more than
      the best path (TensorFlow's log(0) is ``log(1e-307)`` in float32). TensorFlow computes in
      float32; lossctl in float64. ``mean`` is Keras's ``sum_over_batch_size``.
    * ``log_epsilon`` (optax ``ctc_loss``, -1e5): optax's recursion (:func:`optax_ctc`) on
      logits, lengths as its paddings (``t >= input_lengths``), ``blank_id`` in 0..C-1; no
      alignment gives a large finite loss (about 1e5 per missing frame). optax returns the
      losses unreduced (``reduction="none"``).

    Args:
        y_true: ``(N, S)`` integer labels, right-padded (the padding values are ignored, except
            by optax; see :func:`optax_ctc`); ``(N,)`` is one label per sequence.
        y_pred: ``(N, T, C)`` batch-first (PyTorch's time-major ``(T, N, C)`` transposed).
        input_lengths: ``(N,)`` frames per sequence (default: all T).
        target_lengths: ``(N,)`` labels per sequence (default: torch, all S; keras and optax,
            Keras's rule, the non-zero labels with blank 0).
        blank: the blank class.
        zero_infinity: PyTorch's: an infinite loss (no alignment) counts 0.
        log_epsilon: optax's log(0); None for PyTorch's and TensorFlow's algorithm.

    Returns:
        ``(N,)`` float64 per-sequence losses, unreduced (PyTorch's and Keras's
        ``reduction="none"``, tf.nn's and optax's return value); under ``torch``, the tuple
        ``(losses, None, max(target_lengths, 1))``: the engine's ``mean`` divides each loss by
        its length (``LossSpec.mean_divisor="each"``).
    """
    pred = _check_predictions(np.asarray(y_pred), convention)
    n, t_max, c = pred.shape
    labels = _whole(y_true, "class labels", "y_true")
    if labels.ndim == 1:
        labels = labels[:, None]
    if labels.ndim != 2 or labels.shape[0] != n:
        raise ShapeError(f"{opt('y_true')} has shape {labels.shape}; CTC takes (N, S) labels "
                         f"for the {n} sequences of {opt('y_pred')}", option="y_true",
                         hint="one row of right-padded labels per sequence")
    torch = convention == "torch"
    if torch and log_epsilon is not None:
        raise UsageError(f"{opt('log_epsilon')} is optax's", option="log_epsilon",
                         hint=f"use optax.ctc_loss, or {opt('convention', 'keras')}")
    if zero_infinity and not torch:
        raise UsageError(f"{opt('zero_infinity')} is PyTorch's", option="zero_infinity",
                         hint=f"use torch.ctc_loss or {opt('convention', 'torch')}")
    low = -c if (not torch and log_epsilon is None) else 0  # tf.nn counts from the end
    if not low <= blank < c:
        raise UsageError(f"{opt('blank', blank)} is not a class of the {c} in {opt('y_pred')}",
                         hint=f"give a class 0..{c - 1}" + (" (or -1 for the last)" if low
                                                               else ""), option="blank")
    given, blank = int(blank), int(blank) % c
    s = labels.shape[1]
    t_len = (np.full(n, t_max, dtype=np.int64) if input_lengths is None else
             _lengths(input_lengths, n, t_max, "input_lengths", "the frames of a sequence"))
    if target_lengths is not None:
        l_len = _lengths(target_lengths, n, s, "target_lengths", "the labels of a sequence")
    elif torch:
        l_len = np.full(n, s, dtype=np.int64)
    else:
        l_len = target_lengths_from_padding(labels, blank)
    _check_labels(labels, l_len, c, blank, given)
    if log_epsilon is not None:
        return optax_ctc(pred, labels, t_len, l_len, blank, log_epsilon)
    if torch:
        loss = -ctc_log_likelihood(pred, labels, t_len, l_len, blank)
        if zero_infinity:
            loss = np.where(np.isinf(loss), 0.0, loss)
        return loss, None, np.maximum(l_len, 1)  # the mean's divisors (LossSpec.mean_divisor)
    return -ctc_log_likelihood(log_softmax(pred, axis=-1), labels, t_len, l_len, blank,
                               floor=TF_LOG_0)
