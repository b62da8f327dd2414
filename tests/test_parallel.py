"""Exact, mergeable sums, and blocks computed on several threads: the value is bit-for-bit the
same for any number of threads, any block size and any split of the rows (the sums are exact,
so parts merge in any order)."""
from __future__ import annotations

import math
import pickle
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lossctl
from lossctl.engine import Computation
from lossctl.errors import DataError, LossctlWarning
from lossctl.losses.reduction import Accumulator, ColumnSums, ExactSum

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


def _exact(values) -> float:
    total = sum((Fraction(v) for v in values), Fraction(0))
    try:
        return float(total)
    except OverflowError:
        return math.inf if total > 0 else -math.inf


@settings(max_examples=300, deadline=None)
@given(st.lists(finite, max_size=60), st.lists(st.integers(0, 60), max_size=4))
def test_exact_sum_is_the_exactly_rounded_sum_for_any_split(values, cuts):
    whole = ExactSum()
    whole.add(np.array(values, dtype=np.float64))
    assert whole.total() == _exact(values)
    edges = sorted({0, len(values), *(min(c, len(values)) for c in cuts)})
    parts = []
    for a, b in zip(edges, edges[1:]):
        part = ExactSum()
        part.add(np.array(values[a:b], dtype=np.float64))
        parts.append(pickle.loads(pickle.dumps(part)))  # a part may come from another process
    merged = ExactSum()
    for part in reversed(parts):  # any order
        merged.merge(part)
    assert merged.total() == whole.total()


def _rounded(q: Fraction) -> float:
    try:
        return float(q)
    except OverflowError:
        return math.inf if q > 0 else -math.inf


@settings(max_examples=300, deadline=None)
@given(st.lists(finite, min_size=1, max_size=20), st.lists(finite, min_size=1, max_size=20),
       finite, st.floats(min_value=5e-324, max_value=1e308))
def test_ratios_of_exact_sums_are_rounded_once(a, b, scale, divisor):
    """``ratio`` and ``over`` (int true division) round exactly as ``Fraction`` does, also
    into the subnormals and beyond the float range."""
    sa, sb = ExactSum(), ExactSum()
    sa.add(np.array(a, dtype=np.float64))
    sb.add(np.array(b, dtype=np.float64))
    fa = sum((Fraction(v) for v in a), Fraction(0))
    fb = sum((Fraction(v) for v in b), Fraction(0))
    assert sa.ratio(divisor, scale) == _rounded(fa * Fraction(scale) / Fraction(divisor))
    if fb != 0:
        assert sa.over(sb, scale) == _rounded(fa / fb * Fraction(scale))


def test_exact_sum_of_values_that_cancel_and_of_extremes():
    s = ExactSum()
    s.add(np.array([1e308, 1e308, -1e308, 1e-320, 5e-324]))
    assert s.total() == 1e308  # exact: no overflow of the intermediate 2e308, the tiny lost
    t = ExactSum()
    t.add(np.array([0.1] * 10))
    assert t.total() == _exact([0.1] * 10)
    assert t.ratio(10.0) == float(Fraction(0.1) * 10 / 10)
    u = ExactSum()
    u.add(np.array([1.0, np.inf]))
    assert u.total() == math.inf
    u.add(np.array([-np.inf]))
    assert math.isnan(u.total())
    v = ExactSum()
    v.add(np.array([1e308] * 4))
    assert v.total() == math.inf and v.ratio(4.0) == 1e308  # the mean is representable


loss_like = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False).filter(
    lambda v: v == 0 or abs(v) > 1e-12)


@settings(max_examples=300, deadline=None)
@given(st.lists(loss_like, min_size=1, max_size=200))
def test_the_extraction_path_is_exact_where_it_answers(values):
    """Values of a loss's range are summed by error-free extraction, not by the exponent bins:
    the two give the same integer, and the total is the exactly rounded sum."""
    from lossctl.losses.exact import _extracted_units, _units

    a = np.array(values, dtype=np.float64)
    fast = _extracted_units(a)
    assert fast is not None  # 1e-12..1e3 and 200 values: within the extraction rounds
    assert fast == _units(a)[0]
    s = ExactSum()
    s.add(a)
    assert s.total() == _exact(values)


def test_the_extraction_path_hands_wide_ranges_to_the_bins():
    from lossctl.losses.exact import _extracted_units, _units

    wide = np.array([1e300, 1e-300, -3.0, 5e-324])
    assert _extracted_units(wide) is None
    s = ExactSum()
    s.add(wide)
    assert s.total() == _exact(wide.tolist())
    rng = np.random.default_rng(5)
    losses = -np.log(np.clip(rng.random(100_000), 1e-7, 1 - 1e-7))
    assert _extracted_units(losses) == _units(losses)[0]


def test_a_block_larger_than_one_bincount_piece_is_exact():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(1 << 18) * 10.0 ** rng.integers(-30, 30, 1 << 18)
    s = ExactSum()
    s.add(x)
    assert s.total() == math.fsum(x)


def test_accumulator_and_column_sums_merge_like_one_pass():
    rng = np.random.default_rng(4)
    v, w = rng.random(5000), rng.random(5000)
    valid = rng.random(5000) > 0.1
    one = Accumulator()
    one.add(v * valid, weights=w, valid=valid, width=3)
    parts = Accumulator()
    for a in range(0, 5000, 777):
        part = Accumulator()
        part.add((v * valid)[a:a + 777], weights=w[a:a + 777], valid=valid[a:a + 777], width=3)
        parts.merge(pickle.loads(pickle.dumps(part)))
    for rule in ("rows", "valid", "weights", "class_weights", "elements", None):
        assert parts.reduce(rule) == one.reduce(rule)
    assert one.reduce("weights") == float(
        sum(Fraction(x) for x in (w * v)[valid]) / sum(Fraction(x) for x in w[valid]))
    m = rng.standard_normal((900, 4))
    cs, parts2 = ColumnSums(4), ColumnSums(4)
    cs.add(m)
    for a in range(0, 900, 100):
        piece = ColumnSums(4)
        piece.add(m[a:a + 100])
        parts2.merge(piece)
    assert cs.total().tolist() == parts2.total().tolist() == [math.fsum(m[:, j]) for j in range(4)]


# ------------------------------------------------------------------------- threads, end to end
@pytest.fixture(autouse=True)
def small_blocks(monkeypatch):
    """Blocks of 1000 rows, so that every case here is many blocks on several threads."""
    from lossctl import budget

    monkeypatch.setattr(budget, "MAX_BLOCK_ROWS", 1000)


N = 12_000
rng = np.random.default_rng(11)
_z = rng.standard_normal((N, 6))
_p = np.exp(_z) / np.exp(_z).sum(1, keepdims=True)
_y = rng.integers(0, 6, N)
_w = rng.random(N) * 2
_r = rng.standard_normal((N, 2))
_binary = (rng.random(N) > 0.5).astype(float)

CASES = [
    ("scce", _y, _p, {}),
    ("scce", _y, _p, {"sample_weight": _w}),
    ("cce", np.eye(6)[_y], _z, {"from_logits": True, "label_smoothing": 0.1}),
    ("torch.cross_entropy", np.where(_y == 2, -100, _y), _z, {"class_weight": [1, 2, 3, 1, .5, 1]}),
    ("bce", _binary, _p[:, 0], {}),
    ("mse", _r, _r[::-1], {"sample_weight": _w}),
    ("huber", _r, _r[::-1], {"reduction": "sum"}),
    ("torch.kl_div", _p, np.log(_p[::-1]), {"reduction": "batchmean"}),
    ("hinge", _binary, _z[:, 0], {}),
    ("d2_log_loss_score", _y, _p, {}),
    ("median_absolute_error", _r, _r[::-1], {}),
    ("max_error", _r[:, 0], _r[::-1, 0], {}),
    ("mean_pinball_loss", _r, _r[::-1], {"sample_weight": _w}),
]


@pytest.mark.parametrize(("loss", "y", "p", "kw"), CASES, ids=[c[0] + str(i) for i, c in enumerate(CASES)])
def test_any_number_of_threads_gives_the_same_bits(loss, y, p, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [lossctl.evaluate(loss, y, p, threads=t, **kw)
                   for t in (1, 2, 3)]
    base = results[0]
    assert base.value is not None and np.isfinite(base.value)
    for r in results[1:]:
        assert r.value == base.value  # bit for bit
        assert r.samples == base.samples == N
        assert np.array_equal(r.per_sample, base.per_sample)


def test_threads_with_n_d_inputs_and_dice():
    y = rng.integers(0, 3, (300, 8, 8))
    logits = rng.standard_normal((300, 3, 8, 8))
    onehot = np.eye(3)[y]
    probs = rng.random((300, 8, 8, 3))
    for loss, yt, yp, kw in (("torch.cross_entropy", y, logits, {}),
                             ("dice", onehot, probs, {}),
                             ("dice", onehot, probs, {"axis": (1, 2)})):
        values = {lossctl.evaluate(loss, yt, yp, threads=t, **kw).value
                  for t in (1, 2)}
        assert len(values) == 1, (loss, kw, values)


def test_many_blocks_are_really_computed_apart():
    """The threaded path is taken (more than one block), and its forks merge every row."""
    comp = Computation("scce")
    parts = []
    for a in range(0, N, 1000):
        part = comp.fork() if a else comp
        part.feed(_y[a:a + 1000], _p[a:a + 1000], start=a)
        if a:
            parts.append(part)
    for part in parts:
        comp.merge(part)
    whole = Computation("scce")
    whole.feed(_y, _p)
    assert comp.finish().value == whole.finish().value
    assert comp.samples == N


def test_a_later_block_error_is_the_same_with_threads():
    p = _p.copy()
    p[9_500, 2] = np.nan
    msgs = []
    for t in (1, 2):
        with pytest.raises(DataError) as err:
            lossctl.evaluate("scce", _y, p, threads=t)
        msgs.append(str(err.value))
    assert msgs[0] == msgs[1] and "row 9500" in msgs[0], msgs


def test_warning_counts_are_the_same_with_threads():
    p = _p.copy()
    p[::7] *= 1.5  # rows that do not sum to 1
    texts = []
    for t in (1, 2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lossctl.evaluate("scce", _y, p, threads=t)
        texts.append(sorted(str(w.message) for w in caught
                            if issubclass(w.category, LossctlWarning)))
    assert texts[0] == texts[1] and any(str(len(p[::7])) in m for m in texts[0]), texts


def test_hinge_label_decision_of_the_first_block_holds_in_every_thread():
    y = _binary.copy()
    y[8_000] = 2.0  # not 0/1, after rows of 0/1 labels that Keras converts to -1/+1
    for t in (1, 2):
        with pytest.raises(DataError, match="converted to -1/\\+1"):
            lossctl.evaluate("hinge", y, _z[:, 0], threads=t)


def test_threads_must_be_positive():
    with pytest.raises(lossctl.LossctlError, match="threads"):
        lossctl.evaluate("mse", [1.0], [1.0], threads=0)
