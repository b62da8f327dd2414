"""Score histograms: the streaming approximation of ROC AUC and average precision.

When the scores of a ranking no longer fit the memory limit (:mod:`lossctl.losses.curves`),
each class's scores are binned instead of held. The bins need no range: a float64 score is
mapped to an order-preserving integer key (its IEEE bit pattern, the 63 low bits flipped for
negative scores, so that key order is score order and -0.0 is +0.0), and a bucket is the top
:data:`BITS` bits of the key (the sign, the 11 exponent bits and :data:`MANTISSA` = 12 mantissa
bits). A bucket therefore spans a relative width of at most 2**-12 (0.024%) of its scores, at
any magnitude: probabilities near 0, logits of either sign, decision functions of any scale.
Twelve bits keep a binade (a factor of 2 of scores) within 4,096 buckets, so the scores of a
class that span 20 binades occupy at most 82k buckets (a few MB); more bits would make the
histogram approach the held scores' size, fewer would widen the error bound.

The histogram is sparse: sorted unique int64 entry keys and two int64 sums per key. An entry is
(class, bucket, positive or negative, exponent of the weight): a weight ``w = m * 2**e`` is
split into a high and a low half of its mantissa (:mod:`lossctl.losses.exact`), each an integer
below 2**26 in its units, and the halves are summed as int64 per entry. Those sums are exact
(up to 2**37 rows an entry), so the state is the same integers however the rows were split into
blocks, threads, processes or shards and in whatever order the parts were merged, and every
value computed from it is the same bits. Unweighted rows are weight 1 (exact counts), one entry
a bucket and class; weights of several exponents (powers of 2) take an entry each in a bucket.

From the histogram, scores within a bucket are tied: ROC AUC gives a pair within one bucket half
credit, so ``|AUC - AUC_exact| <= sum_b P_b N_b / (2 P N)`` (the pairs that share a bucket,
each off by at most 1/2); average precision takes a bucket as one threshold (as scikit-learn
takes tied scores), and each positive's precision, exact or tied, lies between the lowest and
highest precision reached within its bucket, which bounds its error.
"""
from __future__ import annotations

import math

import numpy as np

from lossctl.losses.exact import _BIAS, _SPLIT

__all__ = ["BITS", "MANTISSA", "ScoreHistogram", "ap_bound", "auc_bound", "buckets",
           "score_keys"]

#: mantissa bits kept in a bucket: a bucket's relative width is at most 2**-MANTISSA
MANTISSA = 12
#: bits of a bucket: sign, exponent, mantissa
BITS = 1 + 11 + MANTISSA
_SHIFT = 64 - BITS
_FLIP = np.int64(0x7FFF_FFFF_FFFF_FFFF)
#: bits of an entry key below the class: bucket, positive flag, weight exponent
_WEXP = 12
_CLASS = BITS + 1 + _WEXP


def score_keys(s: np.ndarray) -> np.ndarray:
    """int64 keys in the order of the float64 scores ``s`` (equal scores, equal keys)."""
    bits = (np.asarray(s, dtype=np.float64) + 0.0).view(np.int64)  # + 0.0: -0.0 is 0.0
    return bits ^ ((bits >> 63) & _FLIP)


def buckets(s: np.ndarray) -> np.ndarray:
    """Each score's bucket, 0 .. 2**BITS - 1, in the order of the scores."""
    return (score_keys(s) >> _SHIFT) + (1 << (BITS - 1))


def _halves(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Finite non-negative weights as (exponent bin, high units, low units): ``w ==
    (hi * 2**-26 + lo * 2**-53) * 2**(bin - _BIAS)`` exactly, |hi|, |lo| <= 2**26."""
    m, e = np.frexp(np.asarray(w, dtype=np.float64))
    hi = m + _SPLIT
    hi -= _SPLIT
    lo = m - hi
    return ((e.astype(np.int64) + _BIAS), (hi * 2.0**26).astype(np.int64),
            (lo * 2.0**53).astype(np.int64))


class ScoreHistogram:
    """The weights of the positive and negative rows per score bucket, per class (one-vs-rest:
    class k ranks column k, its positives are the rows of class k), within ``limit`` bytes.

    Plain numpy and Python attributes: picklable, merged by adding (:meth:`merge`).

    Raises:
        UsageError: the occupied buckets would need more than ``limit``.
    """

    #: bytes per entry: its key and two sums, and the copy an insertion makes
    BYTES = 48

    def __init__(self, what: str, limit: int, classes: int) -> None:
        if classes >= 1 << (63 - _CLASS):
            raise ValueError(f"{classes} classes do not fit a histogram key")
        self.what = what
        self.limit = limit
        self.classes = classes
        self.rows = 0
        self.keys = np.empty(0, dtype=np.int64)
        self.hi = np.empty(0, dtype=np.int64)
        self.lo = np.empty(0, dtype=np.int64)

    def add(self, s: np.ndarray, t: np.ndarray, w: np.ndarray, binary: bool) -> None:
        """Add rows: scores ``s`` (n, classes), true classes ``t`` (n,), weights ``w`` (n,);
        binary: one column, positives ``t == 1``."""
        n = s.shape[0]
        if not n:
            return
        c = self.classes
        b = buckets(s[:, :c]).astype(np.int64)  # (n, c)
        pos = (t == 1)[:, None] if binary else (t[:, None] == np.arange(c)[None, :])
        wexp, hi, lo = _halves(w)
        key = (np.arange(c, dtype=np.int64)[None, :] << _CLASS) | (b << (1 + _WEXP))
        key |= pos.astype(np.int64) << _WEXP
        key |= wexp[:, None]
        hi = np.broadcast_to(hi[:, None], key.shape).reshape(-1)
        lo = np.broadcast_to(lo[:, None], key.shape).reshape(-1)
        self._insert(*_reduced(key.reshape(-1), hi, lo))
        self.rows += n

    def merge(self, other: ScoreHistogram) -> None:
        """Add another histogram's rows (any rows, in any order: the sums are exact)."""
        self._insert(other.keys, other.hi, other.lo)
        self.rows += other.rows

    def _insert(self, keys: np.ndarray, hi: np.ndarray, lo: np.ndarray) -> None:
        """Add sorted unique ``keys`` with their sums."""
        if not keys.size:
            return
        at = np.searchsorted(self.keys, keys)
        found = at < self.keys.size
        found[found] = self.keys[at[found]] == keys[found]
        if found.any():
            self.hi[at[found]] += hi[found]
            self.lo[at[found]] += lo[found]
        new = ~found
        if new.any():
            self._check(self.keys.size + int(new.sum()))
            self.keys = np.insert(self.keys, at[new], keys[new])
            self.hi = np.insert(self.hi, at[new], hi[new])
            self.lo = np.insert(self.lo, at[new], lo[new])

    def _check(self, entries: int) -> None:
        if entries * self.BYTES > self.limit:
            from lossctl.errors import UsageError, opt

            raise UsageError(
                f"{self.what} ranks every score; beyond the memory limit "
                f"({self.limit / 2**20:.0f} MB) its scores are binned, and even the "
                f"{entries} occupied score buckets (about {entries * self.BYTES / 2**20:.0f} "
                "MB) do not fit",
                hint=f"raise {opt('memory_limit')} (for example {opt('memory_limit', '2G')})",
                option="memory_limit")

    def grouped(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Class ``k``'s weights of positive and negative rows per occupied bucket, in
        increasing score order (the same bits for any split of the rows)."""
        lo_at, hi_at = np.searchsorted(self.keys, [k << _CLASS, (k + 1) << _CLASS])
        keys = self.keys[lo_at:hi_at]
        if not keys.size:
            return np.empty(0), np.empty(0)
        e = (keys & ((1 << _WEXP) - 1)) - _BIAS
        v = (np.ldexp(self.hi[lo_at:hi_at].astype(np.float64), e - 26)
             + np.ldexp(self.lo[lo_at:hi_at].astype(np.float64), e - 53))
        pos = ((keys >> _WEXP) & 1).astype(bool)
        bucket = keys >> (1 + _WEXP)
        starts = np.concatenate([[0], np.flatnonzero(bucket[1:] != bucket[:-1]) + 1])
        return (np.add.reduceat(np.where(pos, v, 0.0), starts),
                np.add.reduceat(np.where(pos, 0.0, v), starts))

    def occupied(self) -> int:
        """The occupied buckets, over the classes."""
        bucket = self.keys >> (1 + _WEXP)
        return int(np.count_nonzero(bucket[1:] != bucket[:-1]) + 1) if bucket.size else 0


def auc_bound(p: np.ndarray, n: np.ndarray) -> float:
    """``sum_b P_b N_b / (2 P N)``: the most the AUC of buckets ``p``, ``n`` can differ from
    the AUC of the scores binned (NaN without both classes' weight)."""
    den = 2 * p.sum() * n.sum()
    return float(np.sum(p * n) / den) if den > 0 else math.nan


def ap_bound(p: np.ndarray, n: np.ndarray) -> float:
    """The most the average precision of buckets ``p``, ``n`` (in increasing score order) can
    differ from that of the scores binned: each positive's precision, exact or with its bucket
    tied, lies between the lowest and highest precision reached within the bucket, weighted by
    the recall the bucket adds (0 without positive weight)."""
    p, n = p[::-1], n[::-1]
    tp, fp = np.cumsum(p), np.cumsum(n)
    if not tp.size or tp[-1] <= 0:
        return 0.0
    tp0, fp0 = tp - p, fp - n
    with np.errstate(invalid="ignore", divide="ignore"):
        high = np.where(tp + fp0 > 0, tp / (tp + fp0), 0.0)
        low = np.where(tp0 + fp > 0, tp0 / (tp0 + fp), 1.0)  # nothing above, nothing in: 1
    return float(np.sum(p / tp[-1] * (high - low)))


def _reduced(keys: np.ndarray, hi: np.ndarray, lo: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``keys`` made sorted and unique, their sums added (int64: exact)."""
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = np.concatenate([[0], np.flatnonzero(keys[1:] != keys[:-1]) + 1])
    return keys[starts], np.add.reduceat(hi[order], starts), np.add.reduceat(lo[order], starts)
