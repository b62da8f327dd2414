"""ROC AUC and average precision beyond the memory limit: the streaming approximation.

While the held scores fit the limit the value is exact (tests/test_metrics.py, the scikit-learn
fixtures); beyond it the scores are binned (lossctl.losses.histogram). Here: the approximation
is within the bound it reports of the exact value (binary_auc / binary_ap on every score), for
binary and several classes, with ties, weights and logits; the bound is tight (a case reaches
it); the value is the same bits for any block size, split, merge order and pickling; one
warning names the fix; the exact path is unchanged when the scores fit.
"""
from __future__ import annotations

import json
import math
import pickle
import warnings

import numpy as np
import pytest

import lossctl
from lossctl.engine import Computation
from lossctl.errors import LossctlWarning, UsageError
from lossctl.losses.curves import AveragePrecision, RocAuc, binary_ap, binary_auc
from lossctl.losses.histogram import MANTISSA, ScoreHistogram, buckets, score_keys

#: bytes: the scores of the binary data below (120 bytes a row) and of the several-class data
#: (200 bytes a row) do not fit, their histograms (48 bytes an occupied entry) do
LIMIT = 4_000_000
MC_LIMIT = 9_000_000
EXACT = {"roc_auc": binary_auc, "average_precision": binary_ap}
BOUND = {"roc_auc": "auc_error_bound", "average_precision": "ap_error_bound"}


def _binary(n=60_000, *, kind="probabilities", weighted=False, seed=14):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(np.int64)
    z = rng.standard_normal(n) + 1.2 * y
    if kind == "logits":  # decision function: negative and positive scores
        p = z * 3.0
    elif kind == "ties":  # three decimals: many rows per distinct score
        p = np.round(1 / (1 + np.exp(-z)), 3)
    else:
        p = 1 / (1 + np.exp(-z))
    w = rng.random(n) * 4 if weighted else None
    if weighted:
        w[::13] = 0.0
    return y, p, w


def _multiclass(n=60_000, c=3, *, weighted=False, seed=15):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    logits = rng.standard_normal((n, c)) * 2
    logits[np.arange(n), y] += 1.5
    w = rng.random(n) * 2 if weighted else None
    return y, logits, w


def _exact(loss, y, p, w):
    f = EXACT[loss]
    ww = np.ones(len(y)) if w is None else w
    if p.ndim == 1:
        return f(p, y == 1, ww), None
    per = [f(p[:, k], y == k, ww) for k in range(p.shape[1])]
    return float(np.mean(per)), per


def _streamed(loss, y, p, w=None, *, block=None, limit=None):
    """The result of one computation fed ``block`` rows at a time, and its warnings."""
    comp = Computation(loss)
    comp.memory_limit = limit or (LIMIT if p.ndim == 1 else MC_LIMIT)
    n = len(y)
    block = block or n
    for start in range(0, n, block):
        s = slice(start, start + block)
        comp.feed(y[s], p[s], None if w is None else w[s], start=start)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = comp.finish()
    return result, [str(m.message) for m in caught if issubclass(m.category, LossctlWarning)]


# --- the keys and the buckets -------------------------------------------------------------------
def test_keys_order_like_the_scores_and_buckets_are_narrow():
    rng = np.random.default_rng(1)
    s = np.concatenate([rng.standard_normal(5000) * 10.0 ** rng.integers(-30, 30, 5000),
                        [0.0, -0.0, 5e-324, -5e-324, 1e308, -1e308, 1.0, -1.0]])
    k = score_keys(s)
    order = np.argsort(s, kind="stable")
    assert (np.diff(k[order]) >= 0).all()  # key order is score order
    assert (np.diff(s[order])[np.diff(k[order]) == 0] == 0).all()  # equal keys: equal scores
    assert score_keys(np.array([-0.0]))[0] == score_keys(np.array([0.0]))[0]
    b = buckets(s)
    assert (np.diff(b[order]) >= 0).all() and b.min() >= 0 and b.max() < 2 ** 24
    normal = np.abs(s) > 1e-300
    for bucket in np.unique(b[normal]):
        v = np.abs(s[normal][b[normal] == bucket])
        assert (v.max() - v.min()) / v.min() < 2.0 ** -MANTISSA
    assert buckets(np.array([1.0]))[0] != buckets(np.array([1.0 + 2.0 ** -MANTISSA]))[0]
    assert buckets(np.array([1.0]))[0] == buckets(np.array([1.0 + 2.0 ** -(MANTISSA + 1)]))[0]


# --- within the bound of the exact value --------------------------------------------------------
@pytest.mark.parametrize("loss", ["roc_auc", "average_precision"])
@pytest.mark.parametrize(("kind", "weighted"), [("probabilities", False), ("ties", False),
                                                ("probabilities", True), ("logits", True)])
def test_binary_approximation_is_within_its_bound(loss, kind, weighted):
    y, p, w = _binary(kind=kind, weighted=weighted)
    exact, _ = _exact(loss, y, p, w)
    r, warned = _streamed(loss, y, p, w, block=8192)
    d = r.details
    assert d["approximate"] is True and d["buckets"] > 100
    bound = d[BOUND[loss]]
    assert abs(r.value - exact) <= bound
    assert 0 < bound < (1e-3 if loss == "roc_auc" else 5e-3)  # small enough to matter
    if kind == "ties":  # three decimals are a bucket each: binned ties are the true ties
        assert r.value == exact
    assert len(warned) == 1


@pytest.mark.parametrize("loss", ["roc_auc", "average_precision"])
@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_approximation_is_within_its_bound_per_class_and_for_the_mean(loss, weighted):
    y, p, w = _multiclass(weighted=weighted)
    exact, per = _exact(loss, y, p, w)
    r, warned = _streamed(loss, y, p, w, block=5000)
    d = r.details
    assert d["approximate"] is True and d["average"] == "macro"
    assert abs(r.value - exact) <= d[BOUND[loss]] < 5e-3
    key = "auc" if loss == "roc_auc" else "average_precision"
    for row, value in zip(d["per_class"], per):
        assert abs(row[key] - value) <= row["error_bound"]
    assert d[BOUND[loss]] == pytest.approx(np.mean([row["error_bound"] for row in d["per_class"]]))
    assert len(warned) == 1


def test_continuous_scores_give_an_average_precision_close_to_the_exact_one():
    y, p, _ = _binary(100_000)
    exact, _ = _exact("average_precision", y, p, None)
    r, _ = _streamed("average_precision", y, p, block=20_000)
    assert r.value != exact  # it is binned...
    assert abs(r.value - exact) < 1e-4 and abs(r.value - exact) <= r.details["ap_error_bound"]


def test_the_auc_bound_is_reached_when_a_bucket_hides_the_whole_ranking():
    """Every positive just above every negative, all in one bucket: exact 1, binned 0.5, and
    the bound says 0.5 (so a looser check of the bound would be caught)."""
    rng = np.random.default_rng(2)
    n = 30_000
    y = np.arange(n) % 2
    p = 0.5 + y * 2.0 ** -30 + rng.random(n) * 2.0 ** -31
    assert binary_auc(p, y == 1, np.ones(n)) == 1.0
    r, _ = _streamed("roc_auc", y, p, block=4096, limit=100_000)
    assert r.value == 0.5 and r.details["auc_error_bound"] == 0.5
    assert r.details["buckets"] == 1


def test_the_ap_bound_holds_when_a_bucket_puts_its_negatives_first():
    """10000 negatives above one bucket whose 1000 negatives score just above its 1000
    positives: exact AP about 0.043, the bucket tied 1/12; the error (0.04) is covered by the
    bound (the precision within the bucket goes from 0 to 1/11), not by a bound measured
    from the tied precision alone (1/11 - 1/12)."""
    rng = np.random.default_rng(3)
    p = np.concatenate([np.full(10_000, 0.9), 0.5 + 2.0 ** -30 + rng.random(1000) * 2.0 ** -31,
                        0.5 + rng.random(1000) * 2.0 ** -31])
    y = np.concatenate([np.zeros(11_000, dtype=np.int64), np.ones(1000, dtype=np.int64)])
    exact = binary_ap(p, y == 1, np.ones(len(y)))
    r, _ = _streamed("average_precision", y, p, block=5000, limit=100_000)
    assert r.value == pytest.approx(1 / 12, rel=1e-12) and r.details["buckets"] == 2
    assert 0.035 < r.value - exact <= r.details["ap_error_bound"]
    assert r.value - exact > 1 / 11 - 1 / 12


def test_bucket_weights_are_exact_sums():
    """Each bucket's weights are the exact sum of its rows' weights (rounded once per weight
    exponent): integer weights exactly, others to the last bits."""
    rng = np.random.default_rng(4)
    n = 50_000
    s = np.round(rng.random((n, 1)), 2)
    y = rng.integers(0, 2, n)
    for w in (rng.integers(0, 5, n).astype(np.float64), rng.random(n) * 1e3 + 1e-3):
        h = ScoreHistogram("roc_auc", 1 << 30, 1)
        for a in range(0, n, 7000):
            h.add(s[a:a + 7000], y[a:a + 7000], w[a:a + 7000], True)
        p, q = h.grouped(0)
        values = np.unique(s[:, 0])
        assert p.size == values.size
        for i in range(0, values.size, 9):
            at = s[:, 0] == values[i]
            want = math.fsum(w[at & (y == 1)]), math.fsum(w[at & (y == 0)])
            assert (p[i], q[i]) == pytest.approx(want, rel=1e-15, abs=0)
            if (w == np.round(w)).all():
                assert (p[i], q[i]) == want


# --- the same bits for any block size, split and merge order ------------------------------------
@pytest.mark.parametrize("loss", ["roc_auc", "average_precision"])
@pytest.mark.parametrize("multiclass", [False, True])
def test_block_size_does_not_change_a_bit(loss, multiclass):
    y, p, w = _multiclass(weighted=True) if multiclass else _binary(weighted=True)
    first, _ = _streamed(loss, y, p, w)  # one block: binned from the start
    assert first.details["approximate"]
    for block in (1000, 4099, 65536):  # held first, binned when the limit is reached
        r, _ = _streamed(loss, y, p, w, block=block)
        assert r.value == first.value, block
        assert r.details == first.details, block


def _parts(cls, y, p, w, cuts, limit):
    """Aggregates of the rows between cuts, each pickled and unpickled (another process)."""
    bounds = [0, *cuts, len(y)]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        agg = cls({}, limit)
        agg.add(y[a:b], p[a:b], None, None if w is None else w[a:b])
        out.append(pickle.loads(pickle.dumps(agg)))
    return out


@pytest.mark.filterwarnings("ignore::lossctl.errors.LossctlWarning")
@pytest.mark.parametrize("cls", [RocAuc, AveragePrecision])
def test_held_and_binned_parts_merge_in_any_order_to_the_same_bits(cls):
    y, p, w = _multiclass(20_000, 3, weighted=True)
    p = np.round(p, 2)  # a few thousand buckets: the histogram of every row fits the limit
    limit = 1_500_000  # 37500 held values: a part of 5000 rows (25000 values) is held
    whole = _parts(cls, y, p, w, [], limit)[0]
    assert whole._hist is not None
    value, details = whole.value(), whole.details()
    cuts = [5000, 6000, 16000]  # held, held, binned (10000 rows), held
    kinds = [part._hist is not None for part in _parts(cls, y, p, w, cuts, limit)]
    assert kinds == [False, False, True, False]
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 3, 0, 2]):
        parts = _parts(cls, y, p, w, cuts, limit)
        first = parts[order[0]]
        for i in order[1:]:
            first.merge(parts[i])
        assert first.value() == value, order
        assert first.details() == details, order
        assert first.rows == len(y)
    # held + held within the limit, binned + held, then held + binned
    parts = _parts(cls, y, p, w, cuts, limit)
    parts[0].merge(parts[1])
    parts[2].merge(parts[3])
    parts[0].merge(parts[2])
    assert parts[0].value() == value


def test_parts_that_fit_together_stay_exact():
    y, p, _ = _binary(3000)
    parts = _parts(RocAuc, y, p[:, None], None, [1000, 2000], 1 << 30)
    for part in parts[1:]:
        parts[0].merge(part)
    assert parts[0]._hist is None and parts[0].details() is None
    assert parts[0].value() == binary_auc(p, y == 1, np.ones(len(y)))


@pytest.mark.filterwarnings("ignore::lossctl.errors.LossctlWarning")
def test_a_binned_aggregate_pickles_and_forks_through_the_engine():
    y, p, w = _binary(40_000, weighted=True)
    whole, _ = _streamed("roc_auc", y, p, w)
    comp = Computation("roc_auc")
    comp.memory_limit = LIMIT
    comp.feed(y[:100], p[:100], w[:100])
    for a, b in ((100, 25_000), (25_000, 40_000)):  # shards on "other processes"
        part = comp.fork()
        part.feed(y[a:b], p[a:b], w[a:b], start=a)
        part.aggregate = pickle.loads(pickle.dumps(part.aggregate))
        comp.merge(part)
    with pytest.warns(LossctlWarning):
        r = comp.finish()
    assert r.value == whole.value and r.details == whole.details
    agg = pickle.loads(pickle.dumps(comp.aggregate))
    assert isinstance(agg._hist, ScoreHistogram) and agg.value() == whole.value


# --- the exact path, the limits, the warning, the CLI -------------------------------------------
@pytest.mark.parametrize("loss", ["roc_auc", "average_precision"])
def test_the_exact_path_is_unchanged_when_the_scores_fit(loss):
    y, p, w = _binary(20_000, weighted=True)
    r, warned = _streamed(loss, y, p, w, block=3000, limit=1 << 30)
    assert r.value == EXACT[loss](p, y == 1, w) and r.details is None and not warned
    y, p, w = _multiclass(5000)
    r, warned = _streamed(loss, y, p, w, block=3000, limit=1 << 30)
    assert r.value == _exact(loss, y, p, w)[0] and not warned
    assert "approximate" not in r.details and "error_bound" not in r.details["per_class"][0]


def test_a_histogram_beyond_the_limit_fails_clearly():
    y, p, _ = _binary(20_000)  # continuous: about one bucket a row
    with pytest.raises(UsageError) as e:
        _streamed("roc_auc", y, p, block=2000, limit=200_000)
    assert e.value.option == "memory_limit" and "occupied score buckets" in str(e.value)


def test_evaluate_warns_once_with_the_bound_the_reason_and_the_fix():
    y, p, w = _binary(150_000, weighted=True)  # 120 bytes a row: beyond 64M's 16M for data
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = lossctl.evaluate("roc_auc", y, p, sample_weight=w, memory_limit="64M")
    msgs = [str(m.message) for m in caught if issubclass(m.category, LossctlWarning)]
    assert len(msgs) == 1
    bound = r.details["auc_error_bound"]
    assert abs(r.value - binary_auc(p, y == 1, w)) <= bound
    assert "approximate" in msgs[0] and "memory limit" in msgs[0]
    assert f"{bound:.3g}" in msgs[0] and "raise memory_limit for the exact value" in msgs[0]
    exact = lossctl.evaluate("roc_auc", y, p, sample_weight=w, memory_limit="256M")
    assert exact.value == binary_auc(p, y == 1, w) and exact.details is None


def test_cli_reports_the_approximation_once_on_stderr_and_in_the_json(invoke, tmp_path):
    y, p, _ = _binary(150_000, kind="logits")
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "p.npy", p)
    res = invoke("compute", "roc_auc", tmp_path / "y.npy", tmp_path / "p.npy",
                 "--memory-limit", "64M", "-f", "json")
    assert res.exit_code == 0, res.stderr
    assert res.stderr.count("warning:") == 1 and res.stderr.count("approximate") == 1
    assert "raise --memory-limit for the exact value" in res.stderr
    doc = json.loads(res.stdout)
    d = doc["details"]
    assert d["approximate"] is True and d["buckets"] > 1000
    assert abs(doc["value"] - binary_auc(p, y == 1, np.ones(len(y)))) <= d["auc_error_bound"]
    assert not math.isnan(d["auc_error_bound"])
    res = invoke("compute", "roc_auc", tmp_path / "y.npy", tmp_path / "p.npy",
                 "--memory-limit", "256M", "-f", "json")
    assert "approximate" not in res.stderr and json.loads(res.stdout).get("details") is None
