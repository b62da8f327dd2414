"""N-D inputs: segmentation maps and sequences, any class axis (lossctl.layout, lossctl.elements).

The framework values themselves are in tests/fixtures (nd_cases.py: PyTorch NCHW/NCT and
Keras NHWC/NTC, with ignore, weights, smoothing, probability targets, every reduction, and
Dice/Tversky axes). These tests hold what the fixtures cannot: block independence, the layouts
agreeing with each other and with 2-D rows, the choice of the class axis, and the messages.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import lossctl
from lossctl.engine import Computation
from lossctl.errors import DataError, LossctlNote, ShapeError, UsageError

RNG = np.random.default_rng(7)
N, H, W, C = 5, 3, 4, 6
Z_NHWC = RNG.standard_normal((N, H, W, C)) * 2
Z_NCHW = np.moveaxis(Z_NHWC, -1, 1)
Y = RNG.integers(0, C, (N, H, W))
Y_VOID = Y.copy()
Y_VOID[1, 0, :2] = 255
Y_VOID[3] = 255  # a sample with every element ignored


def _feed(comp, y, z, splits, w=None):
    """Feed ``comp`` the samples cut at ``splits``; returns (result, per-sample values)."""
    per = []
    edges = [0, *splits, len(z)]
    for a, b in zip(edges[:-1], edges[1:]):
        if b > a:
            blk = comp.feed(y[a:b], z[a:b], None if w is None else w[a:b], start=a)
            per.append(blk.per_sample)
    return comp.finish(), np.concatenate(per)


@pytest.mark.parametrize(("loss", "opts", "z"), [
    ("sparse_categorical_crossentropy", {"from_logits": True}, Z_NHWC),
    ("cross_entropy", {"label_smoothing": 0.1}, Z_NCHW),
])
def test_value_and_per_sample_do_not_depend_on_the_blocks(loss, opts, z):
    whole, per_whole = _feed(Computation(loss, ignore_class=255, **opts), Y_VOID, z, [])
    for splits in ([1], [1, 2, 3, 4], [2, 4], [4]):
        res, per = _feed(Computation(loss, ignore_class=255, **opts), Y_VOID, z, splits)
        assert res.value == whole.value  # bit for bit
        np.testing.assert_array_equal(per, per_whole)


def test_the_two_layouts_give_the_same_numbers():
    keras = lossctl.evaluate("scce", Y_VOID, Z_NHWC, from_logits=True, ignore_class=255)
    torch = lossctl.evaluate("cross_entropy", Y_VOID, Z_NCHW, ignore_class=255)
    assert keras.value == pytest.approx(torch.value, rel=1e-12)
    # an all-ignored sample: Keras's mean of nothing is 0, PyTorch's is NaN
    assert keras.per_sample[3] == 0.0 and np.isnan(torch.per_sample[3])
    np.testing.assert_allclose(np.delete(keras.per_sample, 3), np.delete(torch.per_sample, 3),
                               rtol=1e-12)


def test_n_d_equals_its_elements_as_rows():
    """Over all elements the N-D value is the 2-D value of the flattened elements; each
    sample's value is the mean over its own elements."""
    nd = lossctl.evaluate("scce", Y, Z_NHWC, from_logits=True)
    rows = lossctl.evaluate("scce", Y.reshape(-1), Z_NHWC.reshape(-1, C), from_logits=True)
    assert nd.value == pytest.approx(rows.value, rel=1e-13)
    np.testing.assert_allclose(nd.per_sample, rows.per_sample.reshape(N, -1).mean(axis=1),
                               rtol=1e-13)
    assert (nd.samples, nd.elements, nd.shape) == (N, N * H * W, (H, W, C))


def test_sum_and_batchmean_per_sample_are_batches_of_one():
    res = lossctl.evaluate("cross_entropy", Y, Z_NCHW, reduction="sum")
    assert res.value == pytest.approx(res.per_sample.sum(), rel=1e-13)
    bm = lossctl.evaluate("kl_div", np.full((N, C, 7), 1 / C),
                          np.log(np.full((N, C, 7), 1 / C)) - 0.1, reduction="batchmean")
    assert bm.value == pytest.approx(bm.per_sample.sum() / N, rel=1e-13)


def test_class_axis_chooses_the_layout():
    torch_layout = lossctl.evaluate("scce", Y, Z_NCHW, from_logits=True, class_axis=1)
    keras_layout = lossctl.evaluate("scce", Y, Z_NHWC, from_logits=True)
    assert torch_layout.value == pytest.approx(keras_layout.value, rel=1e-12)
    with pytest.raises(UsageError, match="class_axis=0 is the axis of the samples"):
        lossctl.evaluate("scce", Y, Z_NHWC, class_axis=0)
    with pytest.raises(ShapeError, match="class_axis=4 is not an axis"):
        lossctl.evaluate("scce", Y, Z_NHWC, class_axis=4)


def test_labels_that_fit_only_the_other_axis_pick_it_with_a_note():
    with pytest.warns(LossctlNote, match=r"classes on axis 1, PyTorch's layout"):
        res = lossctl.evaluate("scce", Y, Z_NCHW, from_logits=True)  # keras convention, NCHW
    assert res.value == pytest.approx(
        lossctl.evaluate("scce", Y, Z_NHWC, from_logits=True).value, rel=1e-12)


def test_an_ambiguous_layout_says_so():
    z = RNG.standard_normal((2, 4, 4, 4))
    y = RNG.integers(0, 4, (2, 4, 4))
    with pytest.warns(LossctlNote, match="on axis 1 or on the last axis"):
        lossctl.evaluate("cross_entropy", y, z)


def test_errors_name_the_sample_and_the_element():
    y = Y.copy()
    y[2, 1, 3] = 255
    with pytest.raises(DataError) as e:
        lossctl.evaluate("scce", y, Z_NHWC, from_logits=True)
    text = str(e.value)
    assert "row 2, element (1, 3)" in text and "label 255 is out of range" in text
    assert "ignore_class=255" in text  # the fix for void pixels
    assert e.value.row == 2
    z = Z_NHWC.copy()
    z[4, 2, 0, 1] = np.nan
    with pytest.raises(DataError, match=r"row 4, element \(2, 0\).*not a finite number"):
        lossctl.evaluate("scce", Y, z, from_logits=True)


def test_shape_errors_give_the_fix():
    with pytest.raises(ShapeError, match="These look like one-hot or probability maps"):
        lossctl.evaluate("scce", np.eye(C)[Y], Z_NHWC, from_logits=True)
    with pytest.raises(ShapeError, match=r"has shape \(N, 3, 4, 5\), but y_pred has \(N, 3, 4, 6\)"):
        lossctl.evaluate("categorical_crossentropy", np.zeros((N, H, W, 5)), Z_NHWC)
    with pytest.raises(ShapeError, match="one weight per sample"):
        lossctl.evaluate("scce", Y, Z_NHWC, from_logits=True, sample_weight=np.ones((N, 2)))


def test_sample_weights_per_sample_and_per_element():
    w = np.array([1.0, 2.0, 0.5, 0.0, 3.0])
    per = lossctl.evaluate("scce", Y, Z_NHWC, from_logits=True, sample_weight=w)
    wmap = lossctl.evaluate("scce", Y, Z_NHWC, from_logits=True,
                            sample_weight=np.broadcast_to(w[:, None, None], Y.shape))
    assert per.value == pytest.approx(wmap.value, rel=1e-13)
    base = lossctl.evaluate("scce", Y, Z_NHWC, from_logits=True)
    np.testing.assert_allclose(per.per_sample, base.per_sample * w, rtol=1e-13)


def test_elementwise_maps_keep_the_layout():
    res = lossctl.evaluate("cross_entropy", Y_VOID, Z_NCHW, ignore_class=255, elementwise=True,
                           reduction="none")
    assert res.elementwise.shape == (N, H, W)
    assert res.elementwise[1, 0, 0] == 0.0 and res.elementwise[1, 0, 2] > 0
    bce = lossctl.evaluate("bce", (Z_NCHW > 0).astype(float), 1 / (1 + np.exp(-Z_NCHW)),
                           convention="torch", elementwise=True)
    assert bce.elementwise.shape == Z_NCHW.shape  # before any reduction, in the input's layout


def test_regression_and_binary_maps():
    t = RNG.standard_normal((N, 2, 3))
    p = RNG.standard_normal((N, 2, 3))
    for conv in ("keras", "torch"):
        res = lossctl.evaluate("mse", t, p, convention=conv)
        assert res.value == pytest.approx(np.mean((t - p) ** 2), rel=1e-13)
        np.testing.assert_allclose(res.per_sample, ((t - p) ** 2).mean(axis=(1, 2)), rtol=1e-13)


def test_compare_uses_one_class_axis_for_every_convention():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = lossctl.evaluate("scce", Y, Z_NCHW, from_logits=True, compare=["keras", "torch"])
    values = [r.value for r in res.compare]
    assert values[0] == pytest.approx(values[1], rel=1e-12)


# --- Dice and Tversky over Keras's axis --------------------------------------------------------

MASK = (RNG.random((N, H, W, 2)) > 0.5).astype(float)
PROB = RNG.random((N, H, W, 2))


def _dice(y, p, axes):
    inter = (y * p).sum(axis=axes)
    return 1 - 2 * inter / (y.sum(axis=axes) + p.sum(axis=axes) + 1e-7)


@pytest.mark.parametrize(("axis", "axes"), [(None, None), ("1,2", (1, 2)), ("1,2,3", (1, 2, 3)),
                                            ("-1", (3,))])
def test_dice_axes(axis, axes):
    res = lossctl.evaluate("dice", MASK, PROB, axis=axis)
    want = _dice(MASK, PROB, axes)
    assert res.value == pytest.approx(float(np.mean(want)), rel=1e-12)
    if axes is not None:
        np.testing.assert_allclose(res.per_sample, want.reshape(N, -1).mean(axis=1), rtol=1e-12)
    else:  # each sample's own ratio
        np.testing.assert_allclose(res.per_sample, _dice(MASK, PROB, (1, 2, 3)), rtol=1e-12)


def test_dice_pooled_streams_in_blocks():
    whole, _ = _feed(Computation("dice"), MASK, PROB, [])
    cut, _ = _feed(Computation("dice"), MASK, PROB, [1, 3])
    assert cut.value == pytest.approx(whole.value, rel=1e-15)


def test_dice_axis_errors():
    with pytest.raises(UsageError, match="includes axis 0, the batch"):
        lossctl.evaluate("dice", MASK, PROB, axis="0,1")
    with pytest.raises(ShapeError, match="is not an axis of the samples"):
        lossctl.evaluate("dice", MASK, PROB, axis="5")
    with pytest.raises(UsageError, match="does not combine with axis='none'"):
        lossctl.evaluate("dice", MASK, PROB, sample_weight=np.ones(N))
    res = lossctl.evaluate("dice", MASK, PROB, axis="1,2,3", sample_weight=np.arange(N) + 1.0)
    want = _dice(MASK, PROB, (1, 2, 3)) * (np.arange(N) + 1.0)
    assert res.value == pytest.approx(want.mean(), rel=1e-12)
