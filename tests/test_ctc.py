"""CTC (lossctl/losses/ctc.py, catalog/ctc.py): the forward algorithm against brute force over
every alignment, each framework's conventions (PyTorch, Keras/tf.nn, optax), the engine's
PyTorch mean (each loss over its target length), the inputs by role and the CLI.

The framework-computed values are in tests/fixtures/values_ctc.json (ctc_cases.py), checked by
test_framework_fixtures.py; here, properties and the paths around them.
"""
from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

import lossctl
from lossctl.errors import DataError, ShapeError, UsageError
from lossctl.losses._numerics import log_softmax
from lossctl.losses.ctc import TF_LOG_0, ctc, ctc_log_likelihood, optax_ctc

ROOT = Path(__file__).resolve().parents[1]
CASES = {c["id"]: c for c in json.loads(
    (ROOT / "tests" / "fixtures" / "values_ctc.json").read_text(encoding="utf-8"))["cases"]}


def _collapse(path, blank):
    out, prev = [], None
    for k in path:
        if k != prev and k != blank:
            out.append(k)
        prev = k
    return out


def _brute(lp, labels, blank):
    """-log sum over every frame path that collapses to ``labels``."""
    t, c = lp.shape
    total = -np.inf
    for path in itertools.product(range(c), repeat=t):
        if _collapse(path, blank) == list(labels):
            total = np.logaddexp(total, sum(lp[i, k] for i, k in enumerate(path)))
    return -total


def _data(seed, n=4, t=5, c=4):
    return log_softmax(np.random.default_rng(seed).standard_normal((n, t, c)) * 2.0)


@pytest.mark.parametrize("blank", [0, 2, 3])
def test_forward_algorithm_equals_every_alignment_summed(blank):
    lp = _data(blank, n=5)
    others = [k for k in range(4) if k != blank]
    labels = np.array([[others[0], others[0], others[1]], [others[1], others[2], 0],
                       [others[2], 0, 0], [0, 0, 0], [others[0], others[1], others[0]]])
    lengths = np.array([3, 2, 1, 0, 3])
    frames = np.array([5, 4, 5, 3, 2])
    got = -ctc_log_likelihood(lp, labels, frames, lengths, blank)
    for i in range(5):
        exp = _brute(lp[i, :frames[i]], labels[i, :lengths[i]], blank)
        assert got[i] == pytest.approx(exp, rel=1e-12) or (np.isinf(exp) and np.isinf(got[i]))
    assert np.isinf(got[4])  # 3 labels with no repeat need 3 frames: 2 is too few


def test_repeats_need_a_blank_between():
    lp = _data(1, n=2, t=3)
    # "1 1" needs 3 frames (1, blank, 1); "1 2" fits in 2
    got = -ctc_log_likelihood(lp, np.array([[1, 1], [1, 2]]), np.array([2, 2]),
                              np.array([2, 2]))
    assert np.isinf(got[0]) and np.isfinite(got[1])
    got3 = -ctc_log_likelihood(lp[:1], np.array([[1, 1]]), np.array([3]), np.array([2]))
    assert got3[0] == pytest.approx(-(lp[0, 0, 1] + lp[0, 1, 0] + lp[0, 2, 1]))


def test_empty_target_and_no_frame():
    lp = _data(2, n=3)
    got = -ctc_log_likelihood(lp, np.zeros((3, 2), int), np.array([5, 0, 0]),
                              np.array([0, 0, 1]))
    assert got[0] == pytest.approx(-lp[0, :, 0].sum())
    assert got[1] == 0 and np.isinf(got[2])


def test_tensorflow_floor_and_optax_epsilon_on_infeasible_targets():
    lp = _data(3, n=1, t=2)
    labels, frames, lengths = np.array([[1, 2, 3]]), np.array([2]), np.array([3])
    assert np.isinf(ctc_log_likelihood(lp, labels, frames, lengths)[0])
    tf = -ctc_log_likelihood(lp, labels, frames, lengths, floor=TF_LOG_0)[0]
    assert 706.8 < tf < 706.9 + 20 and np.isfinite(tf)
    op = optax_ctc(lp, labels, frames, lengths)[0]
    assert 0.9e5 < op < 1.1e5
    # feasible: all three agree with the exact value
    ok = np.array([[1, 2, 0]]), np.array([2]), np.array([2])
    exact = -ctc_log_likelihood(lp, *ok)[0]
    assert -ctc_log_likelihood(lp, *ok, floor=TF_LOG_0)[0] == pytest.approx(exact, rel=1e-14)
    assert optax_ctc(lp, *ok)[0] == pytest.approx(exact, rel=1e-12)


def test_batch_rows_are_independent():
    lp = _data(4, n=6, t=7, c=5)
    labels = np.random.default_rng(5).integers(1, 5, (6, 3))
    frames, lengths = np.array([7, 6, 5, 7, 4, 7]), np.array([3, 2, 1, 0, 3, 2])
    whole = ctc(labels, lp, convention="torch", input_lengths=frames,
                target_lengths=lengths)[0]
    for i in range(6):
        one = ctc(labels[i:i + 1], lp[i:i + 1], convention="torch",
                  input_lengths=frames[i:i + 1], target_lengths=lengths[i:i + 1])[0]
        assert one[0] == whole[i]


def test_conventions_take_log_probabilities_or_logits():
    z = np.random.default_rng(6).standard_normal((3, 6, 4)) * 3
    labels = np.array([[1, 2], [3, 3], [2, 0]])
    tl = np.array([2, 2, 1])
    torch_raw = ctc(labels, z, convention="torch", target_lengths=tl)[0]
    torch_lp = ctc(labels, log_softmax(z), convention="torch", target_lengths=tl)[0]
    keras = ctc(labels, z, convention="keras", target_lengths=tl)
    optax = ctc(labels, z, convention="keras", target_lengths=tl, log_epsilon=-1e5)
    np.testing.assert_allclose(keras, torch_lp, rtol=1e-13)
    np.testing.assert_allclose(optax, torch_lp, rtol=1e-13)
    assert not np.allclose(torch_raw, torch_lp)  # PyTorch does not normalise


def test_keras_lengths_come_from_the_zero_padding():
    z = np.random.default_rng(7).standard_normal((2, 6, 4))
    labels = np.array([[1, 2, 0], [3, 0, 0]])
    np.testing.assert_array_equal(
        ctc(labels, z), ctc(labels, z, input_lengths=6, target_lengths=[2, 1]))
    with pytest.raises(DataError, match="not right-padded"):
        ctc(np.array([[1, 0, 2], [3, 0, 0]]), z)
    with pytest.raises(UsageError, match="target_lengths"):
        ctc(labels, z, blank=3)


@pytest.mark.parametrize(("kw", "err", "match"), [
    ({"blank": 4}, UsageError, "not a class"),
    ({"blank": -1, "convention": "torch"}, UsageError, "not a class"),
    ({"zero_infinity": True}, UsageError, "PyTorch's"),
    ({"log_epsilon": -1e5, "convention": "torch"}, UsageError, "optax's"),
    ({"input_lengths": [6, 7]}, DataError, "outside 0..6"),
    ({"target_lengths": [1, 4]}, DataError, "outside 0..3"),
    ({"target_lengths": [1, 2, 3]}, ShapeError, "one length each"),
    ({"target_lengths": [1.5, 2]}, DataError, "whole number"),
])
def test_bad_options_and_lengths_are_errors(kw, err, match):
    z = np.random.default_rng(8).standard_normal((2, 6, 4))
    with pytest.raises(err, match=match):
        ctc(np.array([[1, 2, 0], [3, 0, 0]]), z, **kw)


def test_bad_labels_and_shapes_are_errors():
    z = np.random.default_rng(9).standard_normal((2, 6, 4))
    with pytest.raises(DataError, match="blank"):  # a blank inside the target
        ctc(np.array([[1, 0], [2, 3]]), z, convention="torch", target_lengths=[2, 2])
    with pytest.raises(DataError, match="outside the classes"):
        ctc(np.array([[1, 4], [2, 3]]), z, convention="torch")
    with pytest.raises(ShapeError, match=r"\(N, T, C\)"):
        ctc(np.array([[1], [2]]), z[:, 0, :])
    with pytest.raises(ShapeError, match="labels"):
        ctc(np.array([[1], [2], [3]]), z)


def test_blank_counts_from_the_end_for_tf_nn():
    z = np.random.default_rng(10).standard_normal((2, 6, 4))
    labels, tl = np.array([[0, 1], [2, 2]]), np.array([2, 2])
    np.testing.assert_array_equal(ctc(labels, z, blank=-1, target_lengths=tl),
                                  ctc(labels, z, blank=3, target_lengths=tl))


# --- through the engine and the registry ------------------------------------------------------


def _case(cid):
    c = CASES[cid]
    return (np.asarray(c["y_true"]), np.asarray(c["y_pred"], dtype=float),
            {k: np.asarray(v) for k, v in c.get("inputs", {}).items()})


def test_torch_mean_divides_by_target_lengths():
    y, p, roles = _case("ctc-torch-repeats-none")
    r = lossctl.evaluate("ctc_loss", y, p, **roles, reduction="none")
    mean = lossctl.evaluate("ctc_loss", y, p, **roles).value
    assert mean == pytest.approx(np.mean(r.per_sample / roles["target_lengths"]), rel=1e-14)
    total = lossctl.evaluate("ctc_loss", y, p, **roles, reduction="sum").value
    assert total == pytest.approx(r.per_sample.sum(), rel=1e-14)
    keras = lossctl.evaluate("ctc", y, p, **roles)  # Keras: sum over the batch size
    assert keras.value == pytest.approx(np.mean(keras.per_sample), rel=1e-14)


def test_names_resolve_with_their_framework_defaults():
    y, p, roles = _case("ctc-optax-ctc_loss-edges-none")
    opt = lossctl.evaluate("optax.ctc_loss", y, p, **roles, reduction="none")
    fwd = lossctl.evaluate("optax.ctc_loss_with_forward_probs", y, p, **roles,
                           reduction="none")
    tf = lossctl.evaluate("tf.nn.ctc_loss", y, p, **roles, reduction="none")
    torch = lossctl.evaluate("torch.ctc_loss", y, p, **roles, reduction="none")
    np.testing.assert_array_equal(opt.per_sample, fwd.per_sample)
    assert opt.loss == tf.loss == torch.loss == "ctc"
    assert torch.convention == "torch" and tf.convention == "keras"
    assert np.isinf(torch.per_sample[1]) and 706 < tf.per_sample[1] < 1e5 < opt.per_sample[1]
    for name in ("keras.CTC", "keras.ctc", "torch.CTCLoss", "CTCLoss", "ctc_loss"):
        assert lossctl.evaluate(name, y, p, **roles).loss == "ctc"


def test_ctc_bypasses_the_n_d_element_path_and_streams_in_blocks():
    y, p, roles = _case("ctc-torch-repeats-none")
    comp = lossctl.Computation("ctc_loss", reduction="mean")
    for lo, hi in ((0, 2), (2, 5)):
        comp.feed(y[lo:hi], p[lo:hi], roles={k: v[lo:hi] for k, v in roles.items()})
    assert comp.layout is None
    assert comp.finish().value == pytest.approx(
        lossctl.evaluate("ctc_loss", y, p, **roles).value, rel=1e-15)


def test_zero_infinity_and_scalar_lengths():
    y, p, roles = _case("ctc-torch-edges-none")
    r = lossctl.evaluate("ctc_loss", y, p, **roles, zero_infinity=True, reduction="none")
    assert np.isfinite(r.per_sample).all() and (r.per_sample[[1, 2, 3]] == 0).all()
    y2, p2, _ = _case("ctc-torch-full-lengths-mean")
    a = lossctl.evaluate("ctc_loss", y2, p2, input_lengths=8, target_lengths=2)
    b = lossctl.evaluate("ctc_loss", y2, p2)
    assert a.value == b.value


def test_explain_names_the_frameworks_and_forward_probabilities():
    from lossctl.losses import registry

    info = registry.describe(registry.get("optax.ctc_loss_with_forward_probs"))
    assert "forward probabilities" in info["differences"]
    assert "not a loss" in info["differences"]
    assert "log-probabilities" in info["y_pred"] and "logits" in info["y_pred"]


# --- the command line --------------------------------------------------------------------------

_S = str(ROOT / "samples")
_CLI = [f"{_S}/ctc_targets.csv", f"{_S}/ctc_log_probs.npy", "--input-lengths",
        f"{_S}/ctc_input_lengths.csv", "--target-lengths", f"{_S}/ctc_target_lengths.csv"]


def test_cli_torch_ctc_with_lengths_by_role(invoke):
    r = invoke("compute", "ctc_loss", *_CLI, "-f", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    lp = np.load(f"{_S}/ctc_log_probs.npy")
    y = np.loadtxt(f"{_S}/ctc_targets.csv", delimiter=",", skiprows=1, dtype=int)
    il = np.loadtxt(f"{_S}/ctc_input_lengths.csv", skiprows=1, dtype=int)
    tl = np.loadtxt(f"{_S}/ctc_target_lengths.csv", skiprows=1, dtype=int)
    per = -ctc_log_likelihood(lp, y, il, tl)
    assert out["convention"] == "torch" and out["loss"] == "ctc"
    assert out["value"] == pytest.approx(np.mean(per / np.maximum(tl, 1)), rel=1e-14)


def test_cli_scalar_lengths_blank_and_per_sample(invoke):
    r = invoke("compute", "torch.CTCLoss", f"{_S}/ctc_targets.csv", f"{_S}/ctc_log_probs.npy",
               "--input-lengths", "12", "--target-lengths", f"{_S}/ctc_target_lengths.csv",
               "--reduction", "none", "-f", "json")
    assert r.exit_code == 0, r.stderr
    assert len(json.loads(r.stdout)["per_sample"]) == 6
    bad = invoke("compute", "tf.nn.ctc_loss", f"{_S}/ctc_targets.csv",
                 f"{_S}/ctc_log_probs.npy", "--blank", "-1", "--target-lengths",
                 f"{_S}/ctc_target_lengths.csv")
    assert bad.exit_code != 0 and "--blank -1" in bad.stderr and "blank" in bad.stderr


def test_cli_keras_ctc_needs_no_lengths_and_refuses_torch_options(invoke):
    r = invoke("compute", "keras.CTC", f"{_S}/ctc_targets.csv", f"{_S}/ctc_log_probs.npy")
    assert r.exit_code == 0, r.stderr
    assert np.isfinite(float(r.stdout.strip()))
    bad = invoke("compute", "keras.CTC", f"{_S}/ctc_targets.csv", f"{_S}/ctc_log_probs.npy",
                 "--zero-infinity")
    assert bad.exit_code != 0 and "--zero-infinity" in bad.stderr


def test_cli_torch_ctc_without_target_lengths_explains_the_padding(invoke):
    r = invoke("compute", "ctc_loss", f"{_S}/ctc_targets.csv", f"{_S}/ctc_log_probs.npy")
    assert r.exit_code != 0
    assert "--target-lengths" in r.stderr and "blank" in r.stderr


def test_an_infeasible_sequence_is_warned_with_its_cause_and_fix():
    import warnings

    import lossctl
    from lossctl.errors import LossctlWarning

    lp = np.log(np.full((1, 2, 3), 1 / 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = lossctl.evaluate("ctc_loss", np.array([[1, 2, 1]]), lp, input_lengths=[2],
                               target_lengths=[3])
    assert res.value == np.inf
    texts = [str(w.message) for w in caught if issubclass(w.category, LossctlWarning)]
    assert any("too few frames for its target" in t and "zero_infinity=True" in t
               for t in texts), texts
