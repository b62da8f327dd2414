"""Property tests (hypothesis): the invariants the hardening issue lists, for any inputs.

* ``onehot`` then ``sparse`` is the identity (library, and the CLI on a sample);
  ``sparse --argmax`` is ``np.argmax``;
* categorical_crossentropy on one-hot rows == sparse_categorical_crossentropy on the indices,
  under both conventions; ``--from-logits`` on x == probabilities softmax(x) where nothing is
  clipped; mean(per_sample) == the ``mean`` value; weights of 1 change nothing; permuting rows
  permutes ``per_sample`` and keeps the value;
* every registered loss is finite for finite inputs inside its domain (extreme logits included)
  and non-negative where the registry says it is;
* CSV, TSV, NPY, Parquet and standard input give identical results.

Profiles (registered in conftest.py): the default profile runs in CI
(``HYPOTHESIS_PROFILE=ci`` drops the deadline); ``HYPOTHESIS_PROFILE=thorough`` runs 2000
examples per property by hand. The CLI properties run a tenth of the examples of the library
ones (each example starts a command), so they scale with the profile too.
"""
from __future__ import annotations

import io
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lossctl import decoding, encoding
from lossctl import evaluate as compute
from lossctl.errors import LossctlNote, LossctlWarning
from lossctl.losses import registry

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq

#: Examples for properties that run the CLI (one or more commands per example).
CLI_EXAMPLES = max(10, settings.default.max_examples // 10)
cli_settings = settings(max_examples=CLI_EXAMPLES,
                        suppress_health_check=[HealthCheck.function_scoped_fixture,
                                               HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _quiet_library_messages():
    """Notes and warnings are the CLI's business; here they would only fill the log."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LossctlNote)
        warnings.simplefilter("ignore", LossctlWarning)
        yield


@pytest.fixture(autouse=True)
def _build_the_cli_once(cli_built_once):
    """Every test here invokes the CLI many times: reuse one click command (conftest)."""


# --- strategies -----------------------------------------------------------------------------------


@st.composite
def labels_and_classes(draw, min_rows=1, max_rows=40):
    """(labels (N,) int64, C) with every label in [0, C)."""
    c = draw(st.integers(1, 12))
    n = draw(st.integers(min_rows, max_rows))
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))
    return y, c


def prob_rows(n: int, c: int, *, min_value: float = 0.0):
    """(n, c) probability rows summing to 1 (within rounding), built from non-negative weights."""
    weights = hnp.arrays(np.float64, (n, c),
                         elements=st.floats(min_value, 1.0, allow_subnormal=False))

    def normalise(w):
        w = w + np.where(w.sum(axis=1, keepdims=True) == 0, 1.0, 0.0)  # no all-zero row
        return w / w.sum(axis=1, keepdims=True)

    return weights.map(normalise)


LOGIT = st.one_of(
    st.floats(-50, 50, allow_nan=False, allow_subnormal=False),
    st.sampled_from([-1e4, -1000.0, -745.0, -710.0, 0.0, 710.0, 745.0, 1000.0, 1e4]),
)


def logit_rows(n: int, c: int):
    return hnp.arrays(np.float64, (n, c), elements=LOGIT)


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def log_softmax(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


# --- onehot / sparse ------------------------------------------------------------------------------


@given(data=labels_and_classes(), offset=st.integers(-3, 3), extra=st.integers(0, 3))
def test_onehot_then_sparse_is_identity(data, offset, extra):
    y, c = data
    c += extra  # classes that never occur are fine
    rows = encoding.onehot(y + offset, c, offset=offset)
    assert rows.shape == (len(y), c)
    assert np.array_equal(rows.sum(axis=1), np.ones(len(y)))
    assert np.array_equal(decoding.sparse(rows, offset=offset), y + offset)


@given(names=st.lists(st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=6),
                      min_size=1, max_size=8, unique=True),
       picks=st.lists(st.integers(0, 100), min_size=1, max_size=30),
       dtype=st.sampled_from(["int", "float"]))
def test_onehot_then_sparse_is_identity_for_string_classes(names, picks, dtype):
    labels = np.asarray([names[i % len(names)] for i in picks])
    rows = encoding.onehot(labels, classes=names, dtype=dtype)
    assert rows.shape == (len(labels), len(names))
    back = decoding.sparse(rows, classes=names)
    assert [str(v) for v in back.tolist()] == labels.tolist()  # "3" may come back as 3


@cli_settings
@given(data=labels_and_classes(max_rows=25), offset=st.sampled_from([0, 1, 5]),
       fmt=st.sampled_from(["csv", "npy"]))
def test_onehot_then_sparse_is_identity_through_the_cli(invoke, data, offset, fmt):
    y, c = data
    text = "".join(f"{v + offset}\n" for v in y)
    res = invoke("onehot", "-", "-n", c, "--offset", offset, "-f", fmt, "-q",
                 input=text.encode())
    assert res.exit_code == 0, res.stderr
    back = invoke("sparse", "-", "--offset", offset, input=res.stdout_bytes)
    assert back.exit_code == 0, back.stderr
    assert back.stdout == text


@given(st.integers(1, 30).flatmap(lambda n: st.integers(1, 9).flatmap(
    lambda c: st.one_of(prob_rows(n, c), hnp.arrays(np.float64, (n, c), elements=LOGIT)))))
def test_sparse_argmax_is_numpy_argmax(scores):
    assert np.array_equal(decoding.sparse(scores, argmax=True), np.argmax(scores, axis=1))


@cli_settings
@given(st.integers(1, 20).flatmap(lambda n: st.integers(2, 6).flatmap(lambda c: prob_rows(n, c))))
def test_sparse_argmax_is_numpy_argmax_through_the_cli(invoke, probs):
    text = "".join(",".join(map(repr, row.tolist())) + "\n" for row in probs)
    res = invoke("sparse", "-", "--argmax", "-q", input=text.encode())
    assert res.exit_code == 0, res.stderr
    assert res.stdout.split() == [str(i) for i in np.argmax(probs, axis=1)]


# --- cross-entropy identities ---------------------------------------------------------------------


@st.composite
def classification_case(draw, logits: bool | None = None):
    """(labels, C, predictions, from_logits) with C >= 2."""
    c = draw(st.integers(2, 10))
    n = draw(st.integers(1, 30))
    y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))
    from_logits = draw(st.booleans()) if logits is None else logits
    pred = draw(logit_rows(n, c) if from_logits else prob_rows(n, c))  # zeros too
    return y, c, pred, from_logits


@given(case=classification_case(), convention=st.sampled_from(["keras", "torch"]),
       smoothing=st.sampled_from([0.0, 0.0, 0.1, 0.5]))
def test_cce_on_onehot_equals_scce_on_indices(case, convention, smoothing):
    y, c, pred, from_logits = case
    dense = np.eye(c)[y]
    a = compute("categorical_crossentropy", dense, pred, convention=convention,
                from_logits=from_logits, label_smoothing=smoothing)
    # (Keras's sparse loss renormalises before clipping, like its categorical one, on the JAX,
    # NumPy and PyTorch backends; its TensorFlow backend clips first)
    sparse_convention = "keras-jax" if convention == "keras" else convention
    b = compute("sparse_categorical_crossentropy", y, pred, convention=sparse_convention,
                from_logits=from_logits, label_smoothing=smoothing)
    np.testing.assert_allclose(a.per_sample, b.per_sample, rtol=1e-12, atol=1e-12)
    assert a.value == pytest.approx(b.value, rel=1e-12, abs=1e-12)


@given(case=classification_case(logits=True), convention=st.sampled_from(["keras", "torch"]),
       loss=st.sampled_from(["sparse_categorical_crossentropy", "categorical_crossentropy"]))
def test_from_logits_equals_probabilities_of_softmax(case, convention, loss):
    """Where softmax(x) needs no clipping (every probability inside [1e-7, 1 - 1e-7]), the loss
    of the logits equals the loss of the probabilities."""
    y, c, x, _ = case
    p = softmax(x)
    assume(p.min() > 1e-7 and p.max() < 1 - 1e-7)
    target = y if loss.startswith("sparse") else np.eye(c)[y]
    a = compute(loss, target, x, convention=convention, from_logits=True)
    b = compute(loss, target, p, convention=convention)
    np.testing.assert_allclose(a.per_sample, b.per_sample, rtol=1e-9, atol=1e-12)


# --- reductions, weights, permutations ------------------------------------------------------------


def _mean_is_mean_of_per_sample(spec, convention: str) -> bool:
    """mean(per_sample) == value, except RMSE (sqrt of the mean square) and PyTorch kl_div (whose
    'mean' divides by N*C: use batchmean for the per-row mean)."""
    if (spec.finalize == "sqrt" or spec.mean_divisor or spec.kind == "batch" or spec.aggregate
            or spec.default_reduction != "mean"):  # tf.nn.l2_loss: a sum by default
        return False  # (circle: the rows with a positive loss; ntxent: the positive pairs)
    return not (convention == "torch" and spec.torch_mean == "elements")


@st.composite
def loss_inputs(draw, spec, convention, *, min_rows=1, max_rows=25, extreme=False):
    """(y_true, y_pred, options) inside the domain of ``spec`` under ``convention``."""
    n = draw(st.integers(min_rows, max_rows))
    target, prediction = spec.target, spec.prediction
    c = 1 if target in ("values", "counts") and draw(st.booleans()) else draw(st.integers(2, 6))
    opts: dict = {}
    big = 1e6 if extreme else 1e3
    value = st.floats(-big, big, allow_nan=False, allow_subnormal=False)
    positive = st.floats(0, big, allow_nan=False, allow_subnormal=False)
    logits = hnp.arrays(np.float64, (n, c), elements=LOGIT if extreme else st.floats(-30, 30))
    # probabilities: PyTorch takes log(p) as it is, so p = 0 is outside its domain (log 0 = -inf)
    lo = 1e-12 if convention == "torch" else 0.0
    from_logits = "from_logits" in spec.options and draw(st.booleans())
    if from_logits:
        opts["from_logits"] = True
    if spec.overlap:  # one ratio per row (Keras's default axis=None pools the whole batch)
        opts["axis"] = 1
    if spec.name in ("optax_cosine_similarity", "cosine_distance"):
        opts["epsilon"] = 1e-300  # optax's default 0 gives 0/0 = NaN on a zero vector

    if target == "positive":  # deviances (scikit-learn): one column, y and p > 0
        y = draw(hnp.arrays(np.float64, (n, 1), elements=st.floats(1e-3, big)))
        p = draw(hnp.arrays(np.float64, (n, 1), elements=st.floats(1e-3, big)))
    elif target == "labels":  # predicted labels: 0/1 indicator rows
        y = draw(hnp.arrays(np.float64, (n, c), elements=st.sampled_from([0.0, 1.0])))
        p = draw(hnp.arrays(np.float64, (n, c), elements=st.sampled_from([0.0, 1.0])))
    elif target == "values":
        y = draw(hnp.arrays(np.float64, (n, c), elements=value))
        p = draw(hnp.arrays(np.float64, (n, c), elements=value))
        if spec.name in ("mean_squared_logarithmic_error", "mean_squared_log_error",
                         "root_mean_squared_log_error"):
            y, p = np.abs(y), np.abs(p)
        if spec.aggregate == "reduction:Maximum":  # max_error: one output column
            y, p = y[:, :1], p[:, :1]
    elif target == "counts":
        y = draw(hnp.arrays(np.float64, (n, c), elements=positive.map(math.floor)))
        if spec.options.get("log_input", False):  # log-rates: exp(x) must exist: x < 709
            p = np.minimum(draw(logits), 700.0)
        else:
            p = draw(hnp.arrays(np.float64, (n, c), elements=positive))
    elif target == "binary":
        y = draw(hnp.arrays(np.float64, (n, c), elements=st.sampled_from([0.0, 1.0])))
        if prediction == "logits" or from_logits:
            p = draw(logits)
        else:
            p = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(lo, 1.0)))
    elif target == "signed":
        y = draw(hnp.arrays(np.float64, (n, c), elements=st.sampled_from([-1.0, 1.0])))
        p = draw(logits)
    elif target == "embeddings":  # triplets: anchor, positive (and the negative role)
        y = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(-30, 30)))
        p = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(-30, 30)))
    elif target == "pair_labels":  # pairs across the batch: labels and unit embeddings
        n = max(n, 3)  # two labels in three rows: a positive pair
        y = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1)))
        e = draw(hnp.arrays(np.float64, (n, c), elements=st.floats(-30, 30)))
        p = (e + 1e-3) / np.linalg.norm(e + 1e-3, axis=1, keepdims=True)
    elif target == "padded_indices":  # class indices padded with -1
        y = draw(hnp.arrays(np.int64, (n, c), elements=st.integers(-1, c - 1)))
        p = draw(logits)
    elif target == "sequences":  # CTC: label rows (no blank 0) and (N, T, C) frame scores
        s = draw(st.integers(1, 3))
        y = draw(hnp.arrays(np.int64, (n, s), elements=st.integers(1, c - 1)))
        t = draw(st.integers(2 * s + 1, 2 * s + 4))  # enough frames for any repeats
        p = draw(hnp.arrays(np.float64, (n, t, c), elements=LOGIT if extreme
                            else st.floats(-30, 30)))
        if convention == "torch":  # PyTorch takes log-probabilities
            p = log_softmax(p)
    else:  # class targets: "index", "dense", "index_or_dense"
        labels = draw(hnp.arrays(np.int64, n, elements=st.integers(0, c - 1)))
        if target == "dense":
            y = np.eye(c)[labels]
            if spec.name in ("kl_divergence", "brier_score") and draw(st.booleans()):
                y = draw(prob_rows(n, c))
        else:
            y = labels
        if prediction in ("logits", "scores") or from_logits:
            p = draw(logits)
        elif prediction == "log-probabilities":
            p = log_softmax(draw(logits))
        else:
            p = draw(prob_rows(n, c, min_value=lo))
        if spec.name == "kl_divergence" and convention == "torch":
            opts["log_input"] = True
        if spec.prediction_kind({**spec.options, **opts}) == "log-probabilities":
            p = np.log(np.maximum(draw(prob_rows(n, c, min_value=1e-12)), 1e-300))
    # further inputs by role (LossSpec.inputs), the required ones
    if spec.target == "signed" and spec.kind == "samples":
        y = y[:, :1]  # one label per pair (cosine_embedding)
    for role in spec.extra_inputs:
        if role in spec.optional_inputs:
            continue
        if role == "var":
            opts[role] = draw(hnp.arrays(np.float64, p.shape, elements=positive))
        elif role == "linear_weight":  # [C, D]: as many classes as hidden features here
            opts[role] = draw(hnp.arrays(np.float64, (c, c), elements=st.floats(-3, 3)))
        else:  # input2, negative: shaped like the predictions
            opts[role] = draw(hnp.arrays(np.float64, p.shape, elements=st.floats(-30, 30)))
    return y, p, opts


SPECS_CONVENTIONS = [(s, conv) for s in registry.SPECS for conv in s.conventions]
SC_IDS = [f"{s.name}-{conv}" for s, conv in SPECS_CONVENTIONS]


@pytest.mark.parametrize(("spec", "convention"), SPECS_CONVENTIONS, ids=SC_IDS)
@settings(max_examples=max(10, settings.default.max_examples // 10),
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mean_weights_and_permutation(spec, convention, data):
    y, p, opts = data.draw(loss_inputs(spec, convention))
    n = len(p)
    assume(n >= 2 or not spec.higher_is_better)  # a D² score of one sample is NaN
    base = compute(spec.name, y, p, convention=convention, **opts)
    assume(np.all(np.isfinite(base.per_sample)))
    assume(not (spec.higher_is_better and math.isnan(base.value)))  # D² of a constant y_true
    # mean(per_sample) == mean
    if _mean_is_mean_of_per_sample(spec, convention):
        assert base.value == pytest.approx(float(np.mean(base.per_sample)), rel=1e-9, abs=1e-12)
    # weights of 1 change nothing (max_error takes no sample weights, as scikit-learn's)
    if spec.aggregate == "reduction:Maximum":
        return
    ones = compute(spec.name, y, p, convention=convention, sample_weight=np.ones(n), **opts)
    np.testing.assert_allclose(ones.per_sample, base.per_sample, rtol=1e-12, atol=0)
    assert ones.value == pytest.approx(base.value, rel=1e-12, abs=1e-300)
    if "class_weight" in spec.features and spec.target != "binary":
        cw = np.ones(p.shape[1])
        cwr = compute(spec.name, y, p, convention=convention, class_weight=cw, **opts)
        np.testing.assert_allclose(cwr.per_sample, base.per_sample, rtol=1e-12, atol=0)
        assert cwr.value == pytest.approx(base.value, rel=1e-12, abs=1e-300)
    # permuting rows permutes per_sample and keeps the value
    perm = np.asarray(data.draw(st.permutations(range(n))), dtype=np.int64)
    from lossctl.losses.spec import ROLES

    popts = {k: v[perm] if k in ROLES and ROLES[k].per_row else v for k, v in opts.items()}
    shuffled = compute(spec.name, y[perm], p[perm], convention=convention, **popts)
    np.testing.assert_array_equal(shuffled.per_sample, base.per_sample[perm])
    assert shuffled.value == pytest.approx(base.value, rel=1e-12, abs=1e-12)  # summation order


# --- finite and non-negative ----------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "convention"), SPECS_CONVENTIONS, ids=SC_IDS)
@settings(max_examples=max(10, settings.default.max_examples // 6),
          suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_loss_is_finite_and_nonnegative_in_its_domain(spec, convention, data):
    y, p, opts = data.draw(loss_inputs(spec, convention, extreme=True))
    # the engine silences what it handles; no overflow or invalid operation may escape it
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        res = compute(spec.name, y, p, convention=convention, reduction="none", **opts)
    assert np.all(np.isfinite(res.per_sample)), (y, p, res.per_sample)
    if res.elementwise is not None:
        assert np.all(np.isfinite(res.elementwise))
    if spec.nonnegative and spec.name not in REGISTRY_NONNEGATIVE_WRONG:
        # exactly 0 can come out as -1e-16 (KL of two equal rows): rounding, not a sign error
        assert np.all(res.per_sample >= -1e-12), (y, p, res.per_sample)


#: Losses the registry marks nonnegative although the formula is not (none left: poisson was).
REGISTRY_NONNEGATIVE_WRONG: set[str] = set()


def test_registry_nonnegative_flag_matches_the_formula():
    # Keras's Poisson loss y_pred - y_true*log(y_pred + 1e-7) is a log-likelihood up to a
    # constant: negative for y=6, p=2 (2 - 6 log 2 = -2.16), so the registry must not promise >= 0
    res = compute("poisson", [[6.0]], [[2.0]], reduction="none")
    assert res.per_sample[0] < 0
    assert not registry.get("poisson").nonnegative


# --- every input format gives the same numbers ----------------------------------------------------


def _csv(a: np.ndarray, sep: str = ",") -> bytes:
    a = a.reshape(len(a), -1)
    return "".join(sep.join(map(repr, row.tolist())) + "\n" for row in a).encode()


def _npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def _parquet(a: np.ndarray) -> bytes:
    a = a.reshape(len(a), -1)
    buf = io.BytesIO()
    pq.write_table(pa.table({f"c{j}": a[:, j] for j in range(a.shape[1])}), buf)
    return buf.getvalue()


@cli_settings
@given(case=classification_case(),
       loss=st.sampled_from(["scce", "cce", "mse"]))
def test_csv_tsv_npy_parquet_and_stdin_agree(invoke, tmp_path, case, loss):
    y, c, pred, from_logits = case
    target = y if loss == "scce" else np.eye(c)[y].astype(np.int64)
    extra = ["--from-logits"] if from_logits and loss != "mse" else []
    writers = {"csv": _csv, "tsv": lambda a: _csv(a, "\t"), "npy": _npy, "parquet": _parquet}
    outputs = {}
    for ext, write in writers.items():
        (tmp_path / f"y.{ext}").write_bytes(write(target))
        (tmp_path / f"p.{ext}").write_bytes(write(pred))
        res = invoke("compute", loss, tmp_path / f"y.{ext}", tmp_path / f"p.{ext}", *extra,
                     "-f", "csv", "--no-warn")
        assert res.exit_code == 0, (ext, res.stderr)
        outputs[ext] = res.stdout
    for ext, data in (("csv", _csv(pred)), ("npy", _npy(pred))):
        res = invoke("compute", loss, tmp_path / "y.csv", "-", *extra, "-f", "csv",
                     "--no-warn", input=data)
        assert res.exit_code == 0, res.stderr
        outputs[f"stdin-{ext}"] = res.stdout
    first = outputs["csv"]
    assert first.count("\n") == len(y) + 1  # header + one line per sample
    for ext, out in outputs.items():
        assert out == first, ext
