"""optax's losses (and tf.nn's l2_loss / log_poisson_loss) beyond the framework fixtures
(tests/fixtures/values_optax.json): names and their collisions, options, errors, the CLI.

The numbers quoted below were computed with optax 0.2.8 (jax x64) and TensorFlow 2.21; no
framework is imported here.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from lossctl import evaluate
from lossctl.errors import DataError, LossctlError, UsageError
from lossctl.losses import fenchel, ranking, registry, segmentation
from lossctl.losses import divergence as D

# --- names ----------------------------------------------------------------------------------------

OPTAX = {
    "binary_dice_loss": "binary_dice_loss",
    "convex_kl_divergence": "generalized_kl_divergence",
    "cosine_distance": "cosine_distance",
    "cosine_similarity": "optax_cosine_similarity",
    "dice_loss": "dice_loss",
    "generalized_kl_divergence": "generalized_kl_divergence",
    "hinge_loss": "optax_hinge_loss",
    "huber_loss": "huber",
    "kl_divergence": "optax_kl_divergence",
    "kl_divergence_with_log_targets": "optax_kl_divergence",
    "l2_loss": "l2_loss",
    "log_cosh": "log_cosh",
    "multiclass_generalized_dice_loss": "multiclass_generalized_dice_loss",
    "multiclass_hinge_loss": "multiclass_hinge_loss",
    "multiclass_perceptron_loss": "multiclass_perceptron_loss",
    "multiclass_sparsemax_loss": "multiclass_sparsemax_loss",
    "perceptron_loss": "perceptron_loss",
    "ranking_softmax_loss": "ranking_softmax_loss",
    "safe_softmax_cross_entropy": "categorical_crossentropy",
    "sigmoid_focal_loss": "sigmoid_focal_loss",
    "sparsemax_loss": "sparsemax_loss",
}


@pytest.mark.parametrize(("name", "canonical"), OPTAX.items())
def test_optax_names_resolve(name, canonical):
    spec, alias = registry.lookup(f"optax.{name}")
    assert spec.name == canonical
    assert "optax" in registry.framework_of(spec)


def test_tf_nn_names_resolve():
    spec, alias = registry.lookup("tf.nn.l2_loss")
    assert spec.name == "tf_nn_l2_loss"
    spec, alias = registry.lookup("tf.nn.log_poisson_loss")
    assert spec.name == "poisson_nll" and alias.defaults["log_input"] is True
    assert alias.defaults["convention"] == "torch"  # reduce_sum over every element


@pytest.mark.parametrize(("bare", "canonical", "prefixed"), [
    ("cosine_similarity", "cosine_similarity", "optax.cosine_similarity"),
    ("kl_divergence", "kl_divergence", "optax.kl_divergence"),
    ("l2_loss", "l2_loss", "tf.nn.l2_loss"),
    ("huber_loss", "huber", "optax.huber_loss"),
])
def test_collisions_keep_the_bare_meaning(bare, canonical, prefixed):
    assert registry.get(bare).name == canonical
    spec, _ = registry.lookup(prefixed)
    assert spec.name != canonical or prefixed == "optax.huber_loss"


def test_cosine_signs():
    y = np.array([[1.0, 2.0], [1.0, 0.0]])
    p = np.array([[2.0, 4.0], [0.0, 3.0]])
    keras = evaluate("cosine_similarity", y, p, reduction="none").per_sample
    plus = evaluate("optax.cosine_similarity", y, p, reduction="none").per_sample
    dist = evaluate("optax.cosine_distance", y, p, reduction="none").per_sample
    np.testing.assert_allclose(keras, [-1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(plus, [1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(dist, [0.0, 1.0], atol=1e-12)


def test_cosine_zero_vector_is_nan_unless_epsilon():
    # optax: cosine_similarity([[0, 0]], [[1, 1]]) = nan (0/0) with its default epsilon=0
    y, p = np.array([[1.0, 1.0]]), np.array([[0.0, 0.0]])
    assert np.isnan(D.optax_cosine_similarity(y, p)[0])
    assert D.optax_cosine_similarity(y, p, epsilon=1e-12)[0] == 0.0
    assert D.cosine_distance(y, p, epsilon=1e-12)[0] == 1.0
    with pytest.raises(UsageError):
        evaluate("optax.cosine_distance", y, p, epsilon=-1.0)


def test_huber_loss_prefixes_choose_the_convention():
    y, p = np.array([[0.0, 0.0]]), np.array([[0.5, 3.0]])
    torch = evaluate("huber_loss", y, p)
    optax = evaluate("optax.huber_loss", y, p)
    assert torch.convention == "torch" and optax.convention == "keras"
    assert optax.value == pytest.approx((0.125 + 2.5) / 2)
    np.testing.assert_allclose(optax.elementwise, [[0.125, 2.5]])


# --- values ---------------------------------------------------------------------------------------


def test_kl_divergence_takes_log_predictions_and_means_over_rows():
    # optax.kl_divergence(log([.25, .75]), [.5, .5]) = 0.14384104
    t, q = np.array([[0.5, 0.5], [0.5, 0.5]]), np.array([[0.25, 0.75], [0.25, 0.75]])
    r = evaluate("optax.kl_divergence", t, np.log(q))
    assert r.value == pytest.approx(0.14384104, abs=1e-8)  # the mean over rows, not over N*C
    assert evaluate("optax.kl_divergence", t, q, log_input=False).value == pytest.approx(r.value)
    with pytest.raises(DataError):
        evaluate("optax.kl_divergence", t, q)  # probabilities are not log-probabilities
    lt = evaluate("optax.kl_divergence_with_log_targets", np.log(t), np.log(q))
    assert lt.value == pytest.approx(r.value)


def test_generalized_kl_divergence():
    # optax.generalized_kl_divergence(log([2, 1]), [1, 3]) = 1.60268969
    r = evaluate("optax.convex_kl_divergence", [[1.0, 3.0]], np.log([[2.0, 1.0]]))
    assert r.value == pytest.approx(1.60268969, abs=1e-8)
    assert D.generalized_kl_divergence(np.array([[1.0, 3.0]]), np.array([[2.0, 1.0]]),
                                       log_input=False)[0] == pytest.approx(1.60268969, abs=1e-8)
    # equal measures: 0; a zero target contributes only its prediction
    np.testing.assert_allclose(D.generalized_kl_divergence(np.array([[0.0, 2.0]]),
                                                           np.log([[0.5, 2.0]])), [0.5])


def test_multiclass_margins_and_sparsemax():
    # optax: hinge [0, 1], perceptron [0, 0], sparsemax [0, 0.25]
    sc = np.array([[0.5, -1.0, -3.0], [1.0, 1.0, 0.0]])
    lab = np.array([0, 1])
    np.testing.assert_allclose(fenchel.multiclass_hinge_loss(lab, sc), [0.0, 1.0])
    np.testing.assert_allclose(fenchel.multiclass_perceptron_loss(lab, sc), [0.0, 0.0])
    np.testing.assert_allclose(fenchel.multiclass_sparsemax_loss(lab, sc), [0.0, 0.25])
    keras = evaluate("categorical_hinge", np.eye(3)[lab], sc, reduction="none").per_sample
    assert keras[0] == pytest.approx(0.5)  # Keras's max over (1 - y) s includes a 0
    r = evaluate("optax.multiclass_hinge_loss", lab + 1, sc, offset=1, reduction="none")
    np.testing.assert_allclose(r.per_sample, [0.0, 1.0])
    with pytest.raises(LossctlError):
        evaluate("optax.multiclass_hinge_loss", [0, 3], sc)  # class 3 of 3


def test_projection_simplex_rows_sum_to_one_with_ties():
    s = np.array([[1.0, 1.0, 1.0, 0.0], [3.0, 0.0, 0.0, 0.0], [0.2, 0.1, 0.4, 0.3]])
    p = fenchel.projection_simplex(s)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(p[0], [1 / 3, 1 / 3, 1 / 3, 0.0])
    np.testing.assert_allclose(p[1], [1.0, 0.0, 0.0, 0.0])
    assert np.all(p >= 0)


def test_binary_losses_do_not_convert_labels():
    s = np.array([[0.5, -2.0]])
    assert evaluate("optax.hinge_loss", [[0.0, 0.0]], s).value == pytest.approx(1.0)
    assert evaluate("hinge", [[0.0, 0.0]], s).value != pytest.approx(1.0)  # Keras converts
    assert evaluate("optax.perceptron_loss", [[1.0, -1.0]], s, reduction="none").per_sample[0] == 0
    # sparsemax_loss: a soft label counts as 1 -> sparse_plus([2, 0, -2]) = [2, 0.25, 0]
    el = fenchel.sparsemax_loss(np.array([[1.0, 1.0, 0.3]]), np.array([[-2.0, 0.0, 2.0]]))
    np.testing.assert_allclose(el, [[2.0, 0.25, 0.0]])


def test_tf_nn_l2_loss_is_the_sum():
    y = np.array([[1.0, 2.0], [0.0, 0.0], [3.0, -1.0]])
    p = np.array([[1.5, 1.0], [2.0, 0.0], [3.0, 1.0]])
    total = 0.5 * float(np.sum((p - y) ** 2))
    assert evaluate("tf.nn.l2_loss", y, p, reduction="sum").value == pytest.approx(total)
    assert evaluate("tf.nn.l2_loss", y, p).value == pytest.approx(total)  # sum by default
    assert evaluate("tf.nn.l2_loss", y, p, reduction="mean").value == pytest.approx(total / 3)
    el = evaluate("l2_loss", y, p)  # optax's: elementwise 0.5 e^2, mean over elements
    assert el.value == pytest.approx(total / 6)


def test_log_poisson_loss_full():
    y, x = np.array([[0.0, 1.0, 3.0]]), np.array([[0.5, -1.0, 1.0]])
    base = np.exp(x) - y * x
    stirling = 3 * np.log(3) - 3 + 0.5 * np.log(2 * np.pi * 3)
    r = evaluate("tf.nn.log_poisson_loss", y, x, full=True, reduction="sum")
    assert r.value == pytest.approx(base.sum() + stirling)


def test_ranking_where_leaves_lists_out_of_the_mean():
    # optax.ranking_softmax_loss(s, y, where=w, reduce_fn=None) = [7.04703665, 0]; mean 7.047...
    s = np.array([[2.0, 1.0, 0.0, -1.0], [1.0, 0.5, 1.5, 0.0]])
    y = np.array([[1.0, 0.0, 0.0, 2.0], [0.0, 0.0, 1.0, 0.0]])
    w = np.array([[1, 1, 0, 1], [0, 0, 0, 0]])
    values, counted = ranking.ranking_softmax_loss(y, s, where=w)
    np.testing.assert_allclose(values, [7.04703665, 0.0], atol=1e-8)
    assert counted.tolist() == [True, False]
    r = evaluate("optax.ranking_softmax_loss", y, s, where=w)
    assert r.value == pytest.approx(7.04703665, abs=1e-8)
    with pytest.raises(LossctlError):
        evaluate("optax.ranking_softmax_loss", y, s, where=w[:, :3])
    with pytest.raises(UsageError):
        evaluate("optax.dice_loss", y, s, where=w)  # a role of another loss


def test_dice_options_and_errors():
    # optax.dice_loss([[2, 0, -1]], [[1, 0, 0]]) = 0.03840825 (each element its own ratio)
    r = evaluate("optax.dice_loss", [[1.0, 0.0, 0.0]], [[2.0, 0.0, -1.0]])
    assert r.value == pytest.approx(0.03840825, abs=1e-8)
    with pytest.raises(DataError):  # optax: apply_softmax=False needs probability rows
        evaluate("optax.dice_loss", [[1.0, 0.0]], [[0.2, 0.9]], from_logits=False)
    with pytest.raises(UsageError):
        evaluate("optax.dice_loss", [[1.0, 0.0]], [[0.2, 0.9]], smooth=-1)
    with pytest.raises(UsageError):
        evaluate("optax.kl_divergence", [[1.0, 0.0]], [[-0.1, -2.0]], smooth=1)
    # binary_dice_loss with from_logits=False: the ratio of the probabilities as given
    v = segmentation.binary_dice_loss(np.array([[0.0, 1.0]]), np.array([[0.2, 0.9]]),
                                      from_logits=False)
    assert v[0] == pytest.approx(1 - (0.9 + 1) / (0.5 * 1.1 + 0.5 + 1))


def test_generalized_dice_weights_come_from_the_whole_batch():
    y = np.eye(3)[[0, 0, 0, 1, 2]]
    z = np.random.default_rng(3).standard_normal((5, 3))
    whole = evaluate("optax.multiclass_generalized_dice_loss", y, z).value
    assert whole == pytest.approx(float(np.mean(
        segmentation.multiclass_generalized_dice_loss(y, z))))
    # not the mean of the rows taken one at a time (each row alone has other weights)
    alone = np.mean([segmentation.multiclass_generalized_dice_loss(y[i:i + 1], z[i:i + 1])
                     for i in range(5)])
    assert whole != pytest.approx(float(alone))


def test_safe_softmax_cross_entropy_underflowed_class_is_zero():
    # log_softmax([-1e308, 1e308, 0]) = [-inf, 0, -1e308]: the label-0 class adds 0, not NaN
    r = evaluate("optax.safe_softmax_cross_entropy", [[0.0, 1.0, 0.0]], [[-1e308, 1e308, 0.0]])
    assert r.value == 0.0
    with pytest.raises(DataError):  # -inf logits themselves are refused by the engine
        evaluate("optax.safe_softmax_cross_entropy", [[0.0, 1.0]], [[-np.inf, 1.0]])


# --- the command line -----------------------------------------------------------------------------


def test_cli_prefixed_names_and_options(invoke, write_text):
    y = write_text("y.csv", "a,b\n1,2\n0,0\n")
    p = write_text("p.csv", "a,b\n2,4\n1,1\n")
    r = invoke("compute", "optax.cosine_similarity", y, p, "--epsilon", "1e-12", "-f", "json")
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["loss"] == "optax_cosine_similarity"
    assert out["value"] == pytest.approx(0.5)  # [1, 0] averaged
    r = invoke("compute", "optax.cosine_similarity", y, p, "--epsilon", "-1")
    assert r.exit_code == 2 and "--epsilon" in r.stderr
    r = invoke("compute", "tf.nn.l2_loss", y, p, "--reduction", "sum")
    assert r.exit_code == 0 and float(r.stdout.strip()) == pytest.approx(0.5 * (1 + 4 + 1 + 1))


def test_tf_nn_l2_loss_defaults_to_tensorflow_s_one_number():
    import lossctl

    y, p = np.array([[1.0], [2.0], [3.0]]), np.array([[1.5], [2.0], [5.0]])
    res = lossctl.evaluate("tf.nn.l2_loss", y, p)
    assert res.reduction == "sum" and res.value == 2.125  # tf.nn.l2_loss([0.5, 0, 2])
    assert lossctl.evaluate("tf.nn.l2_loss", y, p, reduction="mean").value == 2.125 / 3
    assert lossctl.evaluate("optax.l2_loss", y, p).reduction == "mean"
