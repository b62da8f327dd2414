"""Zipping sources row by row: :func:`aligned`.

Blocks of different sizes (each source cuts its own) are re-cut so every tuple holds the same
rows of every input. When the inputs do not have the same number of rows, every input is
counted to its end and the error is :func:`lossctl.mismatch.rows`, the one text for a
row-count mismatch, naming each input by its role and source.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from lossctl.mismatch import rows as rows_mismatch

__all__ = ["aligned"]

Role = tuple[str, "str | None"]


def aligned(
    *streams: Iterable | None,
    roles: Sequence[Role] | None = None,
    columns: int | None = None,
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Zip block iterators of different block sizes into row-aligned tuples of arrays.

    Args:
        streams: iterables of blocks (objects with a ``.data`` array, or arrays; rows first);
            a ``None`` stream yields None in its slot.
        roles: ``(role, source name)`` per stream, e.g. ``("y_true", "y.csv")``,
            ``("y_pred", "p.csv")``, ``("sample_weight", "w.csv")``; default ``input1``,
            ``input2``, ... without names.
        columns: the number of prediction columns, for the wording of a mismatch.

    Yields:
        ``(start, (a, b, ...))``: the first row's index and one array per stream, all with the
        same number of rows.

    Raises:
        ShapeError: the streams have different numbers of rows (:func:`lossctl.mismatch.rows`).
    """
    if roles is None:
        roles = [(f"input{k + 1}", None) for k in range(len(streams))]
    elif len(roles) != len(streams):
        raise ValueError(f"{len(roles)} roles for {len(streams)} streams")
    iters = [iter(s) if s is not None else None for s in streams]
    bufs: list[list[np.ndarray]] = [[] for _ in streams]
    have = [0] * len(streams)
    done = [s is None for s in streams]
    live = [k for k, it in enumerate(iters) if it is not None]
    start = 0
    while True:
        _fill(iters, bufs, have, done)
        counts = [have[k] for k in live]
        if all(c == 0 for c in counts):
            return
        n = min(counts)
        if n == 0:
            totals = [(roles[k][0], roles[k][1], _count_rest(iters[k], start + have[k])) for k in live]
            raise rows_mismatch(totals, columns=columns)
        out = tuple(None if iters[k] is None else _take(bufs[k], n) for k in range(len(streams)))
        for k in live:
            have[k] -= n
        yield start, out
        start += n


def _data(blk: Any) -> np.ndarray:
    if isinstance(blk, np.ndarray):  # (an ndarray's own .data is a memoryview)
        return blk
    return blk.data if hasattr(blk, "data") else np.asarray(blk)


def _fill(iters: list, bufs: list[list[np.ndarray]], have: list[int], done: list[bool]) -> None:
    """Read every stream whose buffer is empty until it holds a row or ends."""
    for k, it in enumerate(iters):
        while it is not None and not done[k] and have[k] == 0:
            try:
                blk = next(it)
            except StopIteration:
                done[k] = True
                break
            data = _data(blk)
            if data.shape[0]:
                bufs[k].append(data)
                have[k] += data.shape[0]


def _take(buf: list[np.ndarray], n: int) -> np.ndarray:
    """The first n buffered rows of one stream (removed from its buffer)."""
    parts, got = [], 0
    while got < n:
        head = buf[0]
        take = min(n - got, head.shape[0])
        parts.append(head[:take])
        if take == head.shape[0]:
            buf.pop(0)
        else:
            buf[0] = head[take:]
        got += take
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _count_rest(it: Iterator, total: int) -> int:
    """Count a stream to its end (discarding the data) so the message has every size."""
    for blk in it:
        total += _data(blk).shape[0]
    return total
