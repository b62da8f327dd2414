"""Tests for lossctl.losses.classification and lossctl.losses._numerics.

Golden numbers were computed with the real frameworks in a separate environment and are
hard-coded here (the project never imports a framework):
  keras 3.15.1 on the TensorFlow 2.21 backend unless a comment says "torch backend",
  torch 2.13.0+cpu, optax 0.2.8 (jax 0.10.2, x64 enabled), scikit-learn 1.9.1.
Each value's comment names the call that produced it. Worked examples come from issue 3 and
the D-numbers from shared/reference/losses.md section 5.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from lossctl.errors import DataError, ShapeError, UsageError
from lossctl.losses import _numerics as nm
from lossctl.losses import _targets
from lossctl.losses import binary, categorical, registry

#: the classification losses of both family modules, as one namespace
C = SimpleNamespace(**{k: getattr(m, k) for m in (binary, categorical) for k in m.__all__})

# Any RuntimeWarning (overflow, divide by zero, invalid value) is a test failure.
pytestmark = pytest.mark.filterwarnings("error")

F64 = dict(rtol=1e-9, atol=1e-15)
F32 = dict(rtol=1e-6, atol=1e-9)

# Shared fixture data (binary, 3 samples x 4 columns).
Y4 = np.array([[1, 0, 0, 1], [0, 1, 0, 0], [0, 0, 1, 1]], float)
P4 = np.array([[0.7, 0.1, 0.15, 0.6], [0.2, 0.5, 0.05, 0.02], [0.3, 0.3, 0.9, 0.999]])
X4 = np.array([[2.0, -1.0, 0.5, 3.0], [-0.5, 1.5, -2.0, -4.0], [0.0, 0.3, 2.5, 7.0]])
PW4 = np.array([3.0, 1.0, 0.5, 2.0])
CW4 = np.array([1.0, 3.0, 0.5, 2.0])

# Categorical fixture data (losses.md D8 / section 8).
LG = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [1.0, 1.0, 1.0]])
LY = np.array([0, 2, 1], dtype=np.int64)
CW3 = np.array([1.0, 3.0, 0.5])
YS = np.array([[0.2, 0.5, 0.3], [0.0, 0.1, 0.9]])
PS = np.array([[0.3, 0.3, 0.4], [0.5, 0.25, 0.25]])
XS = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
PP = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25]])


def close(actual, expected, **tol):
    np.testing.assert_allclose(actual, expected, **(tol or F64))


# ------------------------------------------------------------------------------ _numerics


class TestNumerics:
    def test_log_sigmoid_extremes_exact(self):
        x = np.array([-1e308, -1000.0, -30.0, 0.0, 30.0, 1000.0, 1e308])
        out = nm.log_sigmoid(x)
        assert np.all(np.isfinite(out))
        close(out[[0, 1]], [-1e308, -1000.0])
        close(out[2], -30.0 - np.log1p(np.exp(-30.0)))
        close(out[3], -np.log(2.0))
        close(out[4], -np.exp(-30.0), rtol=1e-12)  # -log1p(e^-30), no cancellation
        assert out[5] == 0.0 and out[6] == 0.0

    def test_softplus_and_sigmoid(self):
        x = np.array([-1e308, -1000.0, -1.0, 0.0, 1.0, 1000.0, 1e308])
        close(nm.softplus(x), [0.0, 0.0, np.log1p(np.exp(-1.0)), np.log(2.0),
                               1.0 + np.log1p(np.exp(-1.0)), 1000.0, 1e308])
        s = nm.sigmoid(x)
        close(s, [0.0, 0.0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-1.0)), 1.0, 1.0])
        assert nm.sigmoid(x[1:-1].astype(np.float32)).dtype == np.float32

    def test_log_softmax_shift_and_extremes(self):
        x = np.array([[1000.0, -1000.0, 0.0], [1.0, 2.0, 3.0], [1e308, -1e308, 0.0]])
        out = nm.log_softmax(x)
        close(out[0], [0.0, -2000.0, -1000.0])
        ref = np.array([1.0, 2.0, 3.0]) - np.log(np.exp([1.0, 2.0, 3.0]).sum())
        close(out[1], ref, rtol=1e-14)
        assert out[2, 0] == 0.0 and out[2, 1] == -np.inf and out[2, 2] == -1e308
        assert not np.isnan(out).any()

    def test_log_softmax_all_minus_inf_row_is_nan_free_in_others(self):
        # A -inf logit is allowed (masked class): probability exactly 0.
        out = nm.log_softmax(np.array([[0.0, -np.inf]]))
        assert out[0, 0] == 0.0 and out[0, 1] == -np.inf

    def test_logsumexp_infinite_rows(self):
        # like jax.nn.logsumexp: a non-finite row maximum is not used as the shift
        out = nm.logsumexp(np.array([[-np.inf, -np.inf], [np.inf, 0.0], [-np.inf, 1.0]]))
        assert out[0] == -np.inf and out[1] == np.inf and out[2] == 1.0

    def test_softmax_and_logsumexp(self):
        x = np.array([[1000.0, 1000.0], [-1000.0, 0.0]])
        close(nm.softmax(x), [[0.5, 0.5], [0.0, 1.0]])
        close(nm.logsumexp(x), [1000.0 + np.log(2.0), 0.0])
        close(nm.logsumexp(x, keepdims=True).shape, (2, 1))

    def test_xlogy(self):
        x = np.array([0.0, 0.0, 1.0, 2.0, 0.0])
        y = np.array([0.0, 5.0, 0.0, np.e, np.nan])
        out = nm.xlogy(x, y)
        assert out[0] == 0.0 and out[1] == 0.0 and out[2] == -np.inf
        close(out[3], 2.0)
        assert np.isnan(out[4])
        lo = nm.xlogy_from_log(np.array([0.0, 1.0]), np.array([-np.inf, -np.inf]))
        assert lo[0] == 0.0 and lo[1] == -np.inf

    def test_dtype_kept(self):
        x = np.array([[1.0, -2.0]], np.float32)
        for fn in (nm.log_sigmoid, nm.softplus, nm.sigmoid, nm.log_softmax, nm.softmax):
            assert fn(x).dtype == np.float32



    @pytest.mark.parametrize("dtype", [np.float32, np.float64])
    @pytest.mark.parametrize("c", [1, 3, 7, 8, 10, 17, 64, 129])
    def test_row_sum_and_row_max_give_numpys_bits(self, dtype, c):
        rng = np.random.default_rng(c)
        x = (rng.standard_normal((300, c)) * 10.0 ** rng.integers(-9, 9, (300, c))).astype(dtype)
        for a in (x, np.asfortranarray(x), x[::2], x[:, ::-1], np.asfortranarray(x)[1::3]):
            # the bits of numpy's sum of the rows laid out contiguously, in any layout (numpy's
            # own sum of a column-major block adds in another order)
            c_rows = np.ascontiguousarray(a)
            assert nm.row_sum(a).tobytes() == np.sum(c_rows, axis=-1).tobytes()
            assert nm.row_sum(a, keepdims=True).shape == (len(a), 1)
            assert nm.row_max(a).tobytes() == np.max(c_rows, axis=-1).tobytes()
            idx = np.arange(len(a)) * 7 % c
            assert _targets._gather(a, idx).tobytes() == c_rows[np.arange(len(a)), idx].tobytes()

    def test_keras_clip_copies_only_a_block_it_changes(self):
        inside = np.array([[0.2, 0.8], [1e-7, 1 - 1e-7]])
        assert _targets._keras_clip(inside) is inside
        for p in ([[0.0, 1.0]], [[0.5, np.nan]], [[-0.0, 0.3]]):
            p = np.array(p)
            got = _targets._keras_clip(p)
            assert got is not p
            assert got.tobytes() == np.clip(p, 1e-7, 1 - 1e-7).tobytes()
        empty = np.zeros((0, 3))
        assert _targets._keras_clip(empty).shape == (0, 3)

    def test_row_sum_probe_rejects_an_order_that_is_not_numpys(self, monkeypatch):
        """A numpy that summed rows in another order would be caught by the probe, and
        row_sum would use np.sum (the same bits)."""
        monkeypatch.setattr(nm, "_VERIFIED", {})
        monkeypatch.setattr(nm, "_columnwise", nm._sequential_columns)  # not numpy's order for c >= 8
        assert not nm._columnwise_sum_matches(np.dtype(np.float64), 10)
        x = nm._probe_values(64, 10)
        assert nm.row_sum(x).tobytes() == np.sum(x, axis=-1).tobytes()
        f = np.asfortranarray(x)  # the fallback still sums contiguous rows
        assert nm.row_sum(f).tobytes() == np.sum(x, axis=-1).tobytes()
        monkeypatch.setattr(nm, "_VERIFIED", {})
        monkeypatch.undo()
        assert nm._columnwise_sum_matches(np.dtype(np.float64), 10)
# ------------------------------------------------------------------------- worked examples


class TestWorkedExamples:
    YC = np.array([[0, 1, 0], [0, 0, 1]], float)
    PC = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])

    def test_cce_docs_example(self):
        # keras.losses.categorical_crossentropy(y, p): [0.05129329438755058, 2.3025850929940455];
        # keras.losses.CategoricalCrossentropy()(y, p) = 1.1769392490386963 (float32)
        out = C.categorical_crossentropy(self.YC, self.PC)
        close(out, [0.05129329438755058, 2.3025850929940455])
        close(out.mean(), 1.1769392490386963, rtol=1e-7)
        out32 = C.categorical_crossentropy(self.YC.astype(np.float32), self.PC.astype(np.float32))
        assert out32.dtype == np.float32
        # keras (TF) float32: [0.051293306052684784, 2.3025851249694824]
        close(out32, [0.051293306052684784, 2.3025851249694824], **F32)

    def test_scce_docs_example(self):
        # keras SparseCategoricalCrossentropy()([1, 2], p): on the JAX/NumPy/PyTorch backends
        # per sample [0.05129329438755058, 2.3025850929940455]; the default TensorFlow backend
        # clips before renormalising and gives 0.05129339438754555 for the first sample
        # (its 0 becomes 1e-7 and the clipped row is renormalised).
        jax = C.sparse_categorical_crossentropy(np.array([1, 2]), self.PC, convention="keras-jax")
        close(jax, [0.05129329438755058, 2.3025850929940455])
        close(jax.mean(), 1.1769392490386963, rtol=1e-7)
        out = C.sparse_categorical_crossentropy(np.array([1, 2]), self.PC)
        close(out, [0.05129339438754555, 2.3025850929940455])

    def test_sigmoid_ce_matrix(self):
        # tf.nn.sigmoid_cross_entropy_with_logits(labels=L, logits=X)
        L = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 0]], float)
        X = np.array([[12, 3, 2], [3, 10, 1], [1, 2, 5], [4, 6.5, 1.2], [3, 6, 1]], float)
        expected = [
            [6.144193477732805e-06, 3.048587351573742, 2.1269280110429727],
            [3.048587351573742, 4.539889921686464e-05, 1.3132616875182228],
            [1.3132616875182228, 2.1269280110429727, 0.006715348489118069],
            [0.01814992791780974, 0.0015023101597542838, 1.4632824673380311],
            [3.048587351573742, 0.0024756851377304495, 1.3132616875182228],
        ]
        for conv in ("keras", "torch"):
            out = C.binary_crossentropy(L, X, convention=conv, from_logits=True)
            assert out.shape == (5, 3)
            close(out, expected, rtol=1e-12)
        close(out[0, :3], [6.14419348e-06, 3.04858735e00, 2.12692801e00], rtol=1e-8)

    def test_sparse_softmax_ce(self):
        # tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[2, 1], logits=...)
        x = np.array([[2, 0.5, 6], [0.1, 0, 3]])
        for conv in ("keras", "torch"):
            out = C.sparse_categorical_crossentropy(np.array([2, 1]), x, convention=conv,
                                                    from_logits=True)
            close(out, [0.022155162157131997, 3.099673635546296], rtol=1e-12)
        close(C.cross_entropy(np.array([2, 1]), x), [0.02215516, 3.09967364], rtol=1e-7)

    def test_cce_kld_example(self):
        # keras.losses.categorical_crossentropy: [0.35667494393873245, 0.5108256237659907]
        y = np.array([[0, 0, 0, 1], [0, 1, 0, 0]], float)
        p = np.array([[0.1, 0.1, 0.1, 0.7], [0.1, 0.6, 0.1, 0.2]])
        for conv in ("keras", "torch"):
            close(C.categorical_crossentropy(y, p, convention=conv),
                  [0.35667494393873245, 0.5108256237659907])


# --------------------------------------------------------------------- binary cross-entropy


class TestBinaryCrossentropy:
    def test_keras_probabilities(self):
        # keras.losses.binary_crossentropy(Y4[..., None], P4[..., None])
        expected = [
            [0.35667494393873245, 0.10536051565782628, 0.16251892949777494, 0.5108256237659907],
            [0.2231435513142097, 0.6931471805599453, 0.05129329438755058, 0.020202707317519466],
            [0.35667494393873245, 0.35667494393873245, 0.10536051565782628, 0.0010005003335835344],
        ]
        out = C.binary_crossentropy(Y4, P4)
        assert out.shape == (3, 4) and out.dtype == np.float64
        close(out, expected, rtol=1e-12)

    def test_keras_probabilities_float32(self):
        # same call on float32 arrays
        expected = [
            [0.3566749691963196, 0.10536053776741028, 0.16251888871192932, 0.5108255743980408],
            [0.2231435477733612, 0.6931471824645996, 0.051293306052684784, 0.02020268701016903],
            [0.3566749691963196, 0.3566749691963196, 0.10536054521799088, 0.0010004874784499407],
        ]
        out = C.binary_crossentropy(Y4.astype(np.float32), P4.astype(np.float32))
        assert out.dtype == np.float32
        close(out, expected, **F32)

    def test_keras_label_smoothing(self):
        # keras.losses.binary_crossentropy(..., label_smoothing=0.2)
        expected = [
            [0.4414047299774528, 0.3250829733914482, 0.33597903503658555, 0.5513721345768071],
            [0.3617729874261988, 0.6931471805599453, 0.34573719230419464, 0.4093847371285821],
            [0.44140472997745284, 0.44140472997745284, 0.3250829733914482, 0.6916759781984386],
        ]
        close(C.binary_crossentropy(Y4, P4, label_smoothing=0.2), expected, rtol=1e-12)
        # losses.md section 8: y=[1,0], p=[0.9,0.3], ls=0.2 -> [0.325083, 0.441405]
        out = C.binary_crossentropy(np.array([[1.0], [0.0]]), np.array([[0.9], [0.3]]),
                                    label_smoothing=0.2)
        close(out[:, 0], [0.3250829733914482, 0.44140472997745284], rtol=1e-12)

    def test_keras_logits(self):
        # keras.losses.binary_crossentropy(..., from_logits=True)
        expected = [
            [0.1269280110429725, 0.3132616875182228, 0.9740769841801067, 0.048587351573742055],
            [0.4740769841801067, 0.20141327798275238, 0.1269280110429725, 0.01814992791780974],
            [0.6931471805599453, 0.8543552444685272, 0.07888973429254963, 0.0009114664537742447],
        ]
        close(C.binary_crossentropy(Y4, X4, from_logits=True), expected, rtol=1e-12)

    def test_torch_probabilities_weight(self):
        # F.binary_cross_entropy(P4, Y4, weight=CW4, reduction='none')
        expected = [
            [0.35667494393873245, 0.3160815469734789, 0.08125946474888746, 1.0216512475319814],
            [0.22314355131420976, 2.0794415416798357, 0.025646647193775268, 0.0404054146350389],
            [0.35667494393873234, 1.070024831816197, 0.05268025782891314, 0.0020010006671670687],
        ]
        out = C.binary_crossentropy(Y4, P4, convention="torch", class_weight=CW4)
        close(out, expected, rtol=1e-12)

    def test_torch_logits_pos_weight_and_weight(self):
        # F.binary_cross_entropy_with_logits(X4, Y4, weight=CW4, pos_weight=PW4, reduction=...)
        expected = [
            [0.3807840331289175, 0.9397850625546684, 0.48703849209005334, 0.19434940629496825],
            [0.4740769841801067, 0.6042398339482572, 0.06346400552148634, 0.0362998558356189],
            [0.6931471805599453, 2.5630657334055815, 0.019722433573137407, 0.003645865815096979],
        ]
        out = C.binary_crossentropy(Y4, X4, convention="torch", from_logits=True,
                                    pos_weight=PW4, class_weight=CW4)
        close(out, expected, rtol=1e-12)
        # reduction='mean' divides by the number of elements, not by the weights
        close(out.mean(), 0.5383015739089865, rtol=1e-12)

    def test_pos_weight_scalar(self):
        # losses.md 2.3: pos_weight=3, y=1, x=2 -> 0.380784 = 3 * 0.126928
        out = C.binary_crossentropy(np.array([[1.0]]), np.array([[2.0]]), from_logits=True,
                                    convention="torch", pos_weight=3.0)
        close(out, [[0.3807840331289175]], rtol=1e-12)
        # tf.nn.weighted_cross_entropy_with_logits(Y4, X4, pos_weight=3.0)
        expected = [
            [0.3807840331289175, 0.3132616875182228, 0.9740769841801067, 0.14576205472122616],
            [0.4740769841801067, 0.6042398339482571, 0.1269280110429727, 0.01814992791780945],
            [0.6931471805599453, 0.8543552444685272, 0.23666920287764887, 0.002734399361322734],
        ]
        close(C.binary_crossentropy(Y4, X4, from_logits=True, pos_weight=3.0), expected,
              rtol=1e-12)

    def test_saturation_d1_d2_d3(self):
        y = np.array([[1.0], [0.0], [1.0]])
        p = np.array([[0.0], [1.0], [1e-9]])
        # keras float64: [16.11809565095832, 16.118095651484676, 16.11809565095832]
        close(C.binary_crossentropy(y, p)[:, 0],
              [16.11809565095832, 16.118095651484676, 16.11809565095832], rtol=1e-12)
        # keras float32: [16.11809539794922, 15.942384719848633, 16.11809539794922]
        out32 = C.binary_crossentropy(y.astype(np.float32), p.astype(np.float32))
        assert out32.dtype == np.float32
        close(out32[:, 0], [16.11809539794922, 15.942384719848633, 16.11809539794922], **F32)
        assert abs(float(out32[1, 0]) - 15.942385) < 1e-5
        # torch: F.binary_cross_entropy -> [100, 100, 20.72326583694641] (float32 20.7232666)
        close(C.binary_crossentropy(y, p, convention="torch")[:, 0],
              [100.0, 100.0, 20.72326583694641], rtol=1e-12)
        close(C.binary_crossentropy(y.astype(np.float32), p.astype(np.float32),
                                    convention="torch")[:, 0],
              [100.0, 100.0, 20.7232666015625], **F32)

    def test_torch_uses_log1p_for_the_negative_term(self):
        # F.binary_cross_entropy([1e-12, 1e-4], [0, 0]) float64: [1.0000000000005e-12,
        # 0.00010000500033335834]; float32 (p=1e-4): 0.00010000499605666846
        y = np.zeros((1, 2))
        p = np.array([[1e-12, 1e-4]])
        close(C.binary_crossentropy(y, p, convention="torch"),
              [[1.0000000000005e-12, 0.00010000500033335834]], rtol=1e-12)
        out32 = C.binary_crossentropy(y[:, 1:].astype(np.float32), p[:, 1:].astype(np.float32),
                                      convention="torch")
        close(out32, [[0.00010000499605666846]], rtol=1e-7)

    def test_perfect_torch_prediction_is_positive_zero(self):
        out = C.binary_crossentropy(np.array([[1.0, 0.0]]), np.array([[1.0, 0.0]]),
                                    convention="torch")
        assert np.all(out == 0.0) and not np.any(np.signbit(out))

    def test_logits_as_probabilities_d7(self):
        # keras silently clips: float32 [1.1920928955078125e-07] * 2, float64 1.0000000494736474e-07
        y = np.array([[1.0], [0.0]])
        p = np.array([[2.0], [-3.0]])
        close(C.binary_crossentropy(y, p)[:, 0], [1.0000000494736474e-07] * 2, rtol=1e-9)
        close(C.binary_crossentropy(y.astype(np.float32), p.astype(np.float32))[:, 0],
              [1.1920928955078125e-07] * 2, **F32)

    def test_extreme_logits_finite_and_exact(self):
        y = np.array([[1.0, 0.0, 1.0, 0.0, 0.5, 0.5]])
        x = np.array([[1000.0, -1000.0, -1000.0, 1000.0, 1e308, -1e308]])
        for conv in ("keras", "torch"):
            out = C.binary_crossentropy(y, x, convention=conv, from_logits=True)
            assert not np.isnan(out).any()
            close(out, [[0.0, 0.0, 1000.0, 1000.0, 0.5e308, 0.5e308]])
            out = C.binary_crossentropy(y, x, convention=conv, from_logits=True, pos_weight=2.0)
            close(out, [[0.0, 0.0, 2000.0, 1000.0, 0.5e308, 1e308]])
        out32 = C.binary_crossentropy(y[:, :4].astype(np.float32),
                                      x[:, :4].astype(np.float32), from_logits=True)
        assert out32.dtype == np.float32
        close(out32, [[0.0, 0.0, 1000.0, 1000.0]])

    def test_one_dimensional_targets_for_a_single_column(self):
        y = np.array([1.0, 0.0, 1.0])
        p = np.array([[0.9], [0.2], [0.6]])
        close(C.binary_crossentropy(y, p), C.binary_crossentropy(y[:, None], p))
        with pytest.raises(ShapeError):
            C.binary_crossentropy(y, np.hstack([p, p]))

    def test_class_weight_shape_checked(self):
        with pytest.raises(UsageError, match="class_weight has 2 values"):
            C.binary_crossentropy(Y4, P4, class_weight=[1.0, 2.0])

    def test_label_smoothing_range(self):
        with pytest.raises(UsageError, match="label_smoothing"):
            C.binary_crossentropy(Y4, P4, label_smoothing=1.5)

    def test_unknown_convention(self):
        with pytest.raises(UsageError, match="unknown convention"):
            C.binary_crossentropy(Y4, P4, convention="jax")


# ------------------------------------------------------------------------------ focal losses


class TestBinaryFocal:
    def test_defaults(self):
        # keras.losses.binary_focal_crossentropy(Y4[..., None], P4[..., None])
        expected = [
            [0.03210074495448593, 0.0010536051565782623, 0.003656675913699937, 0.08173209980255854],
            [0.008925742052568384, 0.17328679513998632, 0.00012823323596887666, 8.081082927007801e-06],
            [0.03210074495448593, 0.03210074495448593, 0.0010536051565782623, 1.0005003335835363e-09],
        ]
        out = C.binary_focal_crossentropy(Y4, P4)
        assert out.shape == (3, 4)
        close(out, expected, rtol=1e-9)

    def test_class_balancing(self):
        # (..., gamma=0.5, alpha=0.4, apply_class_balancing=True)
        expected = [
            [0.07814356499685372, 0.01999075229571388, 0.03776598644330038, 0.1292297966621416],
            [0.05987569793751424, 0.19605162869370946, 0.006881717582428295, 0.0017142565611054127],
            [0.11721534749528058, 0.11721534749528058, 0.013327168197142589, 1.2655439415528894e-05],
        ]
        out = C.binary_focal_crossentropy(Y4, P4, gamma=0.5, alpha=0.4, class_balancing=True)
        close(out, expected, rtol=1e-9)
        # alpha is ignored without class balancing (losses.md D21)
        close(C.binary_focal_crossentropy(Y4, P4, alpha=0.9), C.binary_focal_crossentropy(Y4, P4))

    def test_label_smoothing_gamma3(self):
        # (..., gamma=3.0, label_smoothing=0.1)
        expected = [
            [0.013075737377442772, 0.0005905684669756048, 0.0015781510873474364, 0.03660386585137196],
            [0.0035583397634272743, 0.08664339756999316, 0.00017020200676366796, 6.753801966603848e-05],
            [0.013075737377442786, 0.013075737377442786, 0.000590568466975603, 4.567239559994401e-05],
        ]
        close(C.binary_focal_crossentropy(Y4, P4, gamma=3.0, label_smoothing=0.1), expected,
              rtol=1e-9)

    def test_float32(self):
        expected = [
            [0.032100751996040344, 0.0010536058107391, 0.0036566739436239004, 0.08173207938671112],
            [0.008925740607082844, 0.1732867956161499, 0.0001282333250856027, 8.081059604592156e-06],
            [0.032100748270750046, 0.032100748270750046, 0.0010536059271544218, 1.0004618244963126e-09],
        ]
        out = C.binary_focal_crossentropy(Y4.astype(np.float32), P4.astype(np.float32))
        assert out.dtype == np.float32
        close(out, expected, rtol=1e-6, atol=1e-12)

    def test_from_logits_follows_each_keras_backend_d21(self):
        # BinaryFocalCrossentropy(from_logits=True, gamma=0)(1, -50): 50.0 on the default
        # TensorFlow backend (the BCE term from the logits), 16.11809539794922 on the JAX,
        # NumPy and PyTorch backends (the clipped sigmoid)
        y1, x1 = np.array([[1.0]]), np.array([[-50.0]])
        close(C.binary_focal_crossentropy(y1, x1, from_logits=True, gamma=0.0), [[50.0]], rtol=1e-12)
        out = C.binary_focal_crossentropy(y1, x1, from_logits=True, gamma=0.0,
                                          convention="keras-jax")
        close(out, [[16.118095651484676]], rtol=1e-9)
        # keras torch backend, float32: row means [0.030678369104862213, 2.271491527557373];
        # away from saturation the two backends agree
        y = np.array([[1.0, 0, 1], [0, 1, 0]])
        x = np.array([[2.0, -1, 0.5], [3, -4, 0]])
        for conv in ("keras", "keras-jax"):
            out = C.binary_focal_crossentropy(y, x, from_logits=True, convention=conv)
            close(out.mean(axis=1), [0.030678369104862213, 2.271491527557373], rtol=1e-6)

    def test_extreme_logits(self):
        x = np.array([[1e308, -1e308, 1000.0, -1000.0]])
        out = C.binary_focal_crossentropy(np.array([[1.0, 0.0, 0.0, 1.0]]), x, from_logits=True)
        assert np.all(np.isfinite(out))


class TestSigmoidFocal:
    X = np.array([[2.0, -1.0, 0.5], [-3.0, 0.0, 4.0]])
    Y = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.7]])

    def test_optax_default(self):
        # optax.losses.sigmoid_focal_loss(X, Y)  (alpha=None, gamma=2)
        expected = [[0.0018035628352403748, 0.02265805750846733, 0.2483629078812906],
                    [0.00010928332449699753, 0.17328679513998632, 0.11495492177204883]]
        close(C.sigmoid_focal_loss(self.Y, self.X), expected, rtol=1e-12)

    def test_optax_alpha_gamma(self):
        # optax.losses.sigmoid_focal_loss(X, Y, gamma=0.5, alpha=0.25)
        expected = [[0.010955720247801106, 0.12184210526662467, 0.3663521739381072],
                    [0.00793582638704697, 0.1225322679335684, 0.27006446385641886]]
        close(C.sigmoid_focal_loss(self.Y, self.X, gamma=0.5, alpha=0.25), expected,
              rtol=1e-12)

    def test_optax_extreme(self):
        # optax.losses.sigmoid_focal_loss([[1000, -1000, 30, -30]], [[0, 1, .5, 1]], gamma=0.5)
        out = C.sigmoid_focal_loss(np.array([[0.0, 1.0, 0.5, 1.0]]),
                                   np.array([[1000.0, -1000.0, 30.0, -30.0]]), gamma=0.5)
        close(out, [[1000.0, 1000.0, 10.606601717798277, 29.99999999999869]], rtol=1e-12)
        out = C.sigmoid_focal_loss(np.array([[0.0, 1.0]]), np.array([[1e308, -1e308]]))
        close(out, [[1e308, 1e308]])

    def test_gamma_zero_is_bce(self):
        close(C.sigmoid_focal_loss(self.Y, self.X, gamma=0.0),
              C.binary_crossentropy(self.Y, self.X, from_logits=True), rtol=1e-14)
        # extreme logits: the term whose label weight is 0 must drop out of the log-sum-exp,
        # otherwise log(1 - p_t) underflows to -inf and gamma * -inf = NaN at gamma = 0
        y = np.array([[1.0, 0.0, 1.0, 0.0]])
        x = np.array([[1000.0, -1000.0, -1000.0, 1000.0]])
        close(C.sigmoid_focal_loss(y, x, gamma=0.0), [[0.0, 0.0, 1000.0, 1000.0]])

    def test_float32(self):
        out = C.sigmoid_focal_loss(self.Y.astype(np.float32), self.X.astype(np.float32))
        assert out.dtype == np.float32
        close(out, C.sigmoid_focal_loss(self.Y, self.X), rtol=2e-6, atol=1e-9)


# --------------------------------------------------------------------------- categorical


class TestCategoricalCrossentropy:
    def test_d4_renormalisation(self):
        y = np.array([[0.0, 1.0, 0.0]])
        p = np.array([[0.2, 0.2, 0.2]])
        close(C.categorical_crossentropy(y, p), [1.0986122886681098])  # keras
        close(C.categorical_crossentropy(y, p, convention="torch"), [1.6094379124341003])  # nll(log p)

    def test_d5_zero_probability(self):
        y = np.array([[0.0, 1.0, 0.0]])
        p = np.array([[0.5, 0.0, 0.5]])
        close(C.categorical_crossentropy(y, p), [16.11809565095832])
        assert C.categorical_crossentropy(y, p, convention="torch")[0] == np.inf
        # torch: a zero probability on a zero target contributes nothing (0 log 0 = 0)
        close(C.categorical_crossentropy(np.array([[1.0, 0, 0]]), p, convention="torch"),
              [np.log(2.0)])

    def test_d6_zero_row_is_nan_under_keras(self):
        out = C.categorical_crossentropy(np.array([[0.0, 1.0, 0.0]]), np.zeros((1, 3)))
        assert np.isnan(out[0])  # keras: NaN (0/0); the engine refuses such rows

    def test_soft_targets_keras_label_smoothing(self):
        # keras.losses.categorical_crossentropy(YS, PS, label_smoothing=0.1)
        close(C.categorical_crossentropy(YS, PS, label_smoothing=0.1),
              [1.1167092423488958, 1.3631894551012258], rtol=1e-12)

    def test_soft_targets_torch_logits_weight_smoothing(self):
        # F.cross_entropy(XS, YS, weight=[1,3,.5], label_smoothing=0.1, reduction='none')
        expected = [5.3416767110845775, 2.8510208872665457]
        close(C.categorical_crossentropy(YS, XS, convention="torch", from_logits=True,
                                         label_smoothing=0.1, class_weight=CW3), expected,
              rtol=1e-12)
        close(C.cross_entropy(YS, XS, label_smoothing=0.1, class_weight=CW3), expected,
              rtol=1e-12)

    def test_label_smoothing_golden(self):
        # losses.md section 8; keras CCE(from_logits, ls=0.1) and torch cross_entropy(ls=0.1)
        expected = [0.391311296657157, 1.011942848229244, 1.0986122886681098]
        onehot = np.eye(3)[LY]
        for conv in ("keras", "torch"):
            close(C.categorical_crossentropy(onehot, LG, convention=conv, from_logits=True,
                                             label_smoothing=0.1), expected, rtol=1e-12)
            close(C.sparse_categorical_crossentropy(LY, LG, convention=conv, from_logits=True,
                                                    label_smoothing=0.1), expected, rtol=1e-12)

    def test_d8_weighted_means(self):
        # torch cross_entropy(LG, LY, weight=[1,3,.5]): index mean 0.8973599081724684,
        # one-hot mean 1.3460398622587029; with ls=0.1: 0.9338342799551868, 1.4007514199327804
        onehot = np.eye(3)[LY]
        for ls, idx_mean, oh_mean, none in (
            (0.0, 0.8973599081724684, 1.3460398622587029,
             [0.24131129665715703, 0.500971424114622, 3.295836866004329]),
            (0.1, 0.9338342799551868, 1.4007514199327804,
             [0.4533768614900149, 0.6178323756042131, 3.1310450227041127]),
        ):
            per_idx = C.cross_entropy(LY, LG, label_smoothing=ls, class_weight=CW3)
            per_oh = C.cross_entropy(onehot, LG, label_smoothing=ls, class_weight=CW3)
            close(per_idx, none, rtol=1e-12)
            close(per_oh, none, rtol=1e-12)
            close(per_idx.sum() / CW3[LY].sum(), idx_mean, rtol=1e-12)  # engine: / sum w[y]
            close(per_oh.sum() / len(LY), oh_mean, rtol=1e-12)  # engine: / N

    def test_d8_unweighted_per_sample(self):
        # F.cross_entropy(LG, LY, reduction='none')
        close(C.cross_entropy(LY, LG), [0.24131129665715703, 1.001942848229244,
                                        1.0986122886681098], rtol=1e-12)

    def test_keras_class_weight_is_per_sample_factor(self):
        onehot = np.eye(3)[LY]
        base = C.categorical_crossentropy(onehot, LG, from_logits=True)
        close(C.categorical_crossentropy(onehot, LG, from_logits=True, class_weight=CW3),
              base * CW3[LY])
        # with smoothing keras scales the whole smoothed loss; torch weights each class term
        k = C.categorical_crossentropy(onehot, LG, from_logits=True, label_smoothing=0.1,
                                       class_weight=CW3)
        t = C.categorical_crossentropy(onehot, LG, from_logits=True, label_smoothing=0.1,
                                       class_weight=CW3, convention="torch")
        close(k, [0.391311296657157 * 1, 1.011942848229244 * 0.5, 1.0986122886681098 * 3])
        assert not np.allclose(k, t)

    def test_extreme_logits(self):
        y = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        x = np.array([[1000.0, -1000.0, 0.0], [1000.0, -1000.0, 0.0], [1e308, -1e308, 0.0]])
        for conv in ("keras", "torch"):
            out = C.categorical_crossentropy(y, x, convention=conv, from_logits=True)
            assert not np.isnan(out).any()
            close(out, [0.0, 2000.0, 1e308])
            assert not np.signbit(out[0])

    def test_float32_in_float32_out(self):
        y = np.eye(3, dtype=np.float32)[LY]
        for conv in ("keras", "torch"):
            for fl, p in ((False, PP.astype(np.float32)), (True, LG.astype(np.float32))):
                out = C.categorical_crossentropy(y, p, convention=conv, from_logits=fl,
                                                 label_smoothing=0.1, class_weight=CW3)
                assert out.dtype == np.float32 and out.shape == (3,)

    def test_index_targets_are_one_hot_encoded(self):
        close(C.categorical_crossentropy(LY, PP), C.categorical_crossentropy(np.eye(3)[LY], PP))

    def test_shape_mismatch(self):
        with pytest.raises(ShapeError):
            C.categorical_crossentropy(np.ones((3, 2)), PP)


class TestCategoricalFocal:
    def test_keras_values(self):
        # keras.losses.categorical_focal_crossentropy(YS, PS / XS(from_logits=True), **kw)
        cases = [
            ({}, [0.12798051773155117, 0.19494764453248462],
             [0.4463627411964811, 0.9533865869466056]),
            ({"gamma": 0.0}, [0.2794170456476004, 0.34657359027997264],
             [0.5386492255855708, 0.9914709759393573]),
            ({"alpha": [0.25, 0.5, 1.0], "gamma": 1.5, "label_smoothing": 0.1},
             [0.33718628346433144, 0.8169264678182451],
             [0.9695198513534256, 3.5170853295651074]),
        ]
        for kw, probs, logits in cases:
            close(C.categorical_focal_crossentropy(YS, PS, **kw), probs, rtol=1e-9)
            close(C.categorical_focal_crossentropy(YS, XS, from_logits=True, **kw), logits,
                  rtol=1e-9)

    def test_gamma0_is_quarter_cce(self):
        close(C.categorical_focal_crossentropy(YS, PS, gamma=0.0),
              0.25 * C.categorical_crossentropy(YS, PS), rtol=1e-12)

    def test_logits_are_clipped_d21(self):
        # CategoricalFocalCrossentropy(from_logits=True, gamma=0, alpha=1)([1,0], [-50,50])
        out = C.categorical_focal_crossentropy(np.array([[1.0, 0.0]]), np.array([[-50.0, 50.0]]),
                                               from_logits=True, gamma=0.0, alpha=1.0)
        close(out, [16.11809565095832], rtol=1e-9)

    def test_float32(self):
        out = C.categorical_focal_crossentropy(YS.astype(np.float32), PS.astype(np.float32))
        assert out.dtype == np.float32
        close(out, [0.12798051773155117, 0.19494764453248462], rtol=1e-6)


class TestSparse:
    def test_keras_logits(self):
        # keras.losses.sparse_categorical_crossentropy(LY, LG, from_logits=True)
        close(C.sparse_categorical_crossentropy(LY, LG, from_logits=True),
              [0.24131129665715703, 1.001942848229244, 1.0986122886681098], rtol=1e-12)

    def test_keras_smoothing_equals_cce(self):
        onehot = np.eye(3)[LY]
        for p, fl in ((PP, False), (LG, True)):
            for dt in (np.float64, np.float32):
                a = C.sparse_categorical_crossentropy(LY, p.astype(dt), from_logits=fl,
                                                      label_smoothing=0.2)
                b = C.categorical_crossentropy(onehot.astype(dt), p.astype(dt), from_logits=fl,
                                               label_smoothing=0.2)
                np.testing.assert_array_equal(a, b)

    def test_torch_probabilities_weight(self):
        # F.nll_loss(torch.log(PP), LY, weight=[1,3,.5], reduction='none')
        expected = [0.35667494393873245, 0.25541281188299536, 2.0794415416798357]
        close(C.sparse_categorical_crossentropy(LY, PP, convention="torch", class_weight=CW3),
              expected, rtol=1e-12)

    def test_torch_zero_probability_is_inf(self):
        out = C.sparse_categorical_crossentropy(np.array([1]), np.array([[0.5, 0.0, 0.5]]),
                                                convention="torch")
        assert out[0] == np.inf
        close(C.sparse_categorical_crossentropy(np.array([1]), np.array([[0.5, 0.0, 0.5]]),
                                                convention="keras-jax"), [16.11809565095832])
        # TensorFlow: -log(1e-7) + log(1 + 1e-7), the clipped row renormalised
        close(C.sparse_categorical_crossentropy(np.array([1]), np.array([[0.5, 0.0, 0.5]])),
              [16.11809565095832 + np.log1p(1e-7)])

    def test_torch_zero_weight_class_contributes_zero(self):
        out = C.sparse_categorical_crossentropy(np.array([1]), np.array([[0.5, 0.0, 0.5]]),
                                                convention="torch", class_weight=[1.0, 0.0, 1.0])
        assert out[0] == 0.0

    def test_keras_class_weight(self):
        base = C.sparse_categorical_crossentropy(LY, PP, label_smoothing=0.1)
        close(C.sparse_categorical_crossentropy(LY, PP, label_smoothing=0.1, class_weight=CW3),
              base * CW3[LY])

    def test_index_column_accepted_and_matrix_refused(self):
        close(C.sparse_categorical_crossentropy(LY[:, None], PP),
              C.sparse_categorical_crossentropy(LY, PP))
        with pytest.raises(ShapeError, match="class indices"):
            C.sparse_categorical_crossentropy(np.eye(3), PP)
        with pytest.raises(ShapeError, match="integers"):
            C.sparse_categorical_crossentropy(LY.astype(float), PP)

    def test_out_of_range_index_never_wraps(self):
        for bad in (-1, 3):
            with pytest.raises(DataError, match=f"class index {bad} is out of range"):
                C.sparse_categorical_crossentropy(np.array([0, bad, 1]), PP)
            with pytest.raises(DataError):
                C.nll(np.array([0, bad, 1]), np.log(PP))

    def test_extreme_logits(self):
        x = np.array([[1000.0, -1000.0], [1e308, -1e308], [-1e308, 1e308]])
        for conv in ("keras", "torch"):
            out = C.sparse_categorical_crossentropy(np.array([0, 0, 1]), x, convention=conv,
                                                    from_logits=True, label_smoothing=0.0)
            assert np.all(out == 0.0) and not np.signbit(out).any()
            out = C.sparse_categorical_crossentropy(np.array([1, 0, 1]), x[:1].repeat(3, 0),
                                                    convention=conv, from_logits=True)
            close(out, [2000.0, 0.0, 2000.0])

    def test_float32(self):
        for conv in ("keras", "torch"):
            for ls in (0.0, 0.1):
                out = C.sparse_categorical_crossentropy(LY, LG.astype(np.float32),
                                                        convention=conv, from_logits=True,
                                                        label_smoothing=ls, class_weight=CW3)
                assert out.dtype == np.float32


class TestNll:
    def test_torch_values(self):
        # F.nll_loss(log(PP), LY, weight=[1,3,.5]): none as below, mean 0.5981176216670141
        out = C.nll(LY, np.log(PP), class_weight=CW3)
        close(out, [0.35667494393873245, 0.25541281188299536, 2.0794415416798357], rtol=1e-12)
        close(out.sum() / CW3[LY].sum(), 0.5981176216670141, rtol=1e-12)
        close(C.nll(LY, np.log(PP)), -np.log(PP[[0, 1, 2], LY]))

    def test_any_real_inputs(self):
        close(C.nll(np.array([0, 1]), np.array([[2.0, 0.0], [0.0, -3.0]])), [-2.0, 3.0])


class TestGeneralizedCE:
    def test_keras_values(self):
        # CategoricalGeneralizedCrossEntropy(q=.5/.7, reduction=None)(LY, PP): float32
        close(C.categorical_generalized_cross_entropy(LY, PP.astype(np.float32), q=0.5),
              [0.32667994499206543, 0.4508066177368164, 0.5857864618301392], rtol=1e-6)
        close(C.categorical_generalized_cross_entropy(LY, PP.astype(np.float32), q=0.7),
              [0.31563442945480347, 0.42947396636009216, 0.5491825342178345], rtol=1e-6)
        # keras.src.losses.losses.categorical_generalized_cross_entropy(LY, PP, 0.5), float64
        close(C.categorical_generalized_cross_entropy(LY, PP, q=0.5),
              [0.3266799469318489, 0.4508066615170332, 0.5857864376269049], rtol=1e-12)

    def test_bounds_and_q_domain(self):
        out = C.categorical_generalized_cross_entropy(np.array([0, 1]),
                                                      np.array([[0.0, 1.0], [0.0, 1.0]]), q=0.25)
        close(out, [4.0, 0.0])
        for q in (0.0, 1.0, -0.5, 1.5):
            with pytest.raises(UsageError, match="q must be strictly between 0 and 1"):
                C.categorical_generalized_cross_entropy(LY, PP, q=q)


class TestPoly1:
    LAB = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, 0.5, 0.5]])

    def test_optax_values(self):
        # optax.losses.poly_loss_cross_entropy(LG, LAB, epsilon=2.0 / -1.0)
        close(C.poly1_cross_entropy(self.LAB, LG),
              [0.6701172274786052, 2.267612046007393, 2.431945622001443], rtol=1e-12)
        close(C.poly1_cross_entropy(self.LAB, LG, epsilon=-1.0),
              [0.02690833124643291, 0.3691082493401696, 0.43194562200144304], rtol=1e-12)

    def test_epsilon_zero_is_ce(self):
        close(C.poly1_cross_entropy(self.LAB, LG, epsilon=0.0),
              C.categorical_crossentropy(self.LAB, LG, from_logits=True), rtol=1e-14)

    def test_extreme_and_float32(self):
        out = C.poly1_cross_entropy(np.array([[1.0, 0.0]]), np.array([[1e308, -1e308]]))
        close(out, [0.0])
        out = C.poly1_cross_entropy(self.LAB.astype(np.float32), LG.astype(np.float32))
        assert out.dtype == np.float32
        close(out, [0.6701172274786052, 2.267612046007393, 2.431945622001443], rtol=1e-6)


class TestBrier:
    def test_sklearn_binary_single_column(self):
        # sklearn.metrics.brier_score_loss([0,1,1,0], [.1,.9,.8,.3]) = 0.0375
        y = np.array([0, 1, 1, 0])
        p = np.array([[0.1], [0.9], [0.8], [0.3]])
        out = C.brier_score(y, p)
        close(out, [0.01, 0.01, 0.04, 0.09], rtol=1e-12)
        close(out.mean(), 0.03749999999999999, rtol=1e-12)
        close(C.brier_score(y[:, None].astype(float), p), out)

    def test_sklearn_two_columns_halved(self):
        # brier_score_loss(y, [[1-p, p]], labels=[0, 1]) = 0.0375 (scale_by_half="auto")
        y = np.array([0, 1, 1, 0])
        p = np.array([0.1, 0.9, 0.8, 0.3])
        out = C.brier_score(y, np.stack([1 - p, p], 1))
        close(out.mean(), 0.03749999999999999, rtol=1e-12)

    def test_sklearn_three_classes(self):
        # brier_score_loss([0,1,2], P3, labels=[0,1,2]) = 0.15333333333333335
        p3 = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6]])
        out = C.brier_score(np.array([0, 1, 2]), p3)
        close(out.mean(), 0.15333333333333335, rtol=1e-12)
        close(C.brier_score(np.eye(3), p3), out)
        assert C.brier_score(np.eye(3, dtype=np.float32), p3.astype(np.float32)).dtype == np.float32


# ------------------------------------------------------------------------------ contract


ALL = [
    ("binary_crossentropy", "dense", {}),
    ("binary_focal_crossentropy", "dense", {}),
    ("sigmoid_focal_loss", "dense", {}),
    ("categorical_crossentropy", "dense", {}),
    ("categorical_focal_crossentropy", "dense", {}),
    ("sparse_categorical_crossentropy", "index", {}),
    ("cross_entropy", "index", {}),
    ("nll", "index", {}),
    ("categorical_generalized_cross_entropy", "index", {}),
    ("poly1_cross_entropy", "dense", {}),
    ("brier_score", "dense", {}),
]


@pytest.mark.parametrize("name,target,kw", ALL)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_contract_shape_dtype_kind(name, target, kw, dtype):
    fn = getattr(C, name)
    y = LY if target == "index" else np.eye(3)[LY].astype(dtype)
    p = PP.astype(dtype)
    if name == "nll":
        p = np.log(p)
    out = fn(y, p, **kw)
    assert out.dtype == dtype
    kind = registry.get(name).kind
    assert out.shape == ((3, 3) if kind == "elementwise" else (3,))
    assert np.all(np.isfinite(out))
    doc = fn.__doc__
    assert "Conventions:" in doc and "Returns:" in doc and "Args:" in doc


def test_empty_batch():
    for name, target, _ in ALL:
        fn = getattr(C, name)
        y = np.zeros(0, np.int64) if target == "index" else np.zeros((0, 3))
        out = fn(y, np.zeros((0, 3)))
        assert out.shape[0] == 0
