"""Tests for lossctl.losses.divergence (KL divergence, cosine similarity).

Golden numbers were computed with keras 3.15.1 (TensorFlow 2.21 backend), torch 2.13.0+cpu and
optax 0.2.8 in a separate environment and are hard-coded here; each comment names the call.
"""
from __future__ import annotations

import numpy as np
import pytest

from lossctl.errors import ShapeError, UsageError
from lossctl.losses import divergence as D
from lossctl.losses import registry

pytestmark = pytest.mark.filterwarnings("error")

KT = np.array([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]])
KQ = np.array([[0.25, 0.25, 0.5], [0.6, 0.3, 0.1]])


def close(actual, expected, **tol):
    np.testing.assert_allclose(actual, expected, **(tol or dict(rtol=1e-9, atol=1e-15)))


class TestKLDivergence:
    T = np.array([[0.0, 0.0, 0.0, 1.0]])
    Q = np.array([[0.1, 0.1, 0.1, 0.7]])

    def test_worked_example_keras(self):
        # keras.losses.kl_divergence(T, Q) = 0.356670799285565 (float32: 0.3566708266735077)
        out = D.kl_divergence(self.T, self.Q)
        assert out.shape == (1,)
        close(out, [0.356670799285565], rtol=1e-12)
        out32 = D.kl_divergence(self.T.astype(np.float32), self.Q.astype(np.float32))
        assert out32.dtype == np.float32
        close(out32, [0.3566708266735077], rtol=1e-6)

    def test_worked_example_torch(self):
        # F.kl_div(log Q, T, reduction='none').sum(1) = 0.35667494393873245 = -log 0.7
        close(D.kl_divergence(self.T, np.log(self.Q), convention="torch", log_input=True),
              [0.35667494393873245], rtol=1e-12)
        close(D.kl_divergence(self.T, self.Q, convention="torch"), [-np.log(0.7)], rtol=1e-12)

    def test_d11_zero_prediction(self):
        t = np.array([[0.2, 0.3, 0.5]])
        q = np.array([[0.0, 0.5, 0.5]])
        close(D.kl_divergence(t, q), [2.7484838605750466], rtol=1e-12)  # keras
        assert D.kl_divergence(t, q, convention="torch")[0] == np.inf  # kl_div(log q, t)
        assert D.kl_divergence(t, np.log(np.where(q > 0, q, 1.0)) + np.where(q > 0, 0, -np.inf),
                               convention="torch", log_input=True)[0] == np.inf

    def test_d12_target_above_one(self):
        t = np.array([[2.0, 0.0]])
        q = np.array([[0.5, 0.5]])
        close(D.kl_divergence(t, q), [0.6931456380650982], rtol=1e-12)  # keras clips t to 1
        close(D.kl_divergence(t, q, convention="torch"), [2.772588722239781], rtol=1e-12)

    def test_d13_reductions(self):
        # keras per-sample [0.010067756775344432, 0.026812454257447993];
        # KLDivergence()(KT, KQ) = 0.01844009757041931 (float32)
        k = D.kl_divergence(KT, KQ)
        close(k, [0.010067756775344432, 0.026812454257447993], rtol=1e-12)
        close(k.mean(), 0.01844009757041931, rtol=1e-6)
        # torch: none-rowsum [0.010067756775344383, 0.026812454257447937],
        # 'mean' 0.00614670183879872 (= sum / (N*C)), 'batchmean' 0.01844010551639616 (= sum / N)
        t = D.kl_divergence(KT, np.log(KQ), convention="torch", log_input=True)
        close(t, [0.010067756775344383, 0.026812454257447937], rtol=1e-12)
        close(t.sum() / KT.size, 0.00614670183879872, rtol=1e-12)
        close(t.sum() / KT.shape[0], 0.01844010551639616, rtol=1e-12)

    def test_log_target(self):
        # F.kl_div(log KQ, log KT, log_target=True, reduction='none').sum(1)
        out = D.kl_divergence(np.log(KT), np.log(KQ), convention="torch", log_input=True,
                              log_target=True)
        close(out, [0.01006775677534439, 0.026812454257447937], rtol=1e-12)
        # keras convention exponentiates log inputs before its clip
        close(D.kl_divergence(np.log(KT), np.log(KQ), log_input=True, log_target=True),
              D.kl_divergence(KT, KQ), rtol=1e-12)

    def test_zero_target_never_nan(self):
        t = np.array([[0.0, 1.0], [0.0, 1.0]])
        log_q = np.array([[-np.inf, 0.0], [-1e308, 0.0]])
        out = D.kl_divergence(t, log_q, convention="torch", log_input=True)
        close(out, [0.0, 0.0])
        out = D.kl_divergence(np.array([[-np.inf, 0.0]]), np.array([[-np.inf, 0.0]]),
                              convention="torch", log_input=True, log_target=True)
        close(out, [0.0])

    def test_identical_is_zero(self):
        for conv in ("keras", "torch"):
            out = D.kl_divergence(KT, KT, convention=conv)
            assert np.all(out == 0.0) and not np.signbit(out).any()

    def test_float32_torch(self):
        out = D.kl_divergence(KT.astype(np.float32), np.log(KQ).astype(np.float32),
                              convention="torch", log_input=True)
        assert out.dtype == np.float32
        close(out, [0.010067756775344383, 0.026812454257447937], rtol=2e-5)

    def test_shape_and_convention_errors(self):
        with pytest.raises(ShapeError):
            D.kl_divergence(KT[:, :2], KQ)
        with pytest.raises(UsageError):
            D.kl_divergence(KT, KQ, convention="jax")


class TestCosineSimilarity:
    A = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [3.0, -4.0]])
    B = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [-1.0, -1.0], [1.0, 2.0]])

    def test_keras_values_d20(self):
        # keras.losses.cosine_similarity(A, B) = [-0.0, -1.0, -0.0, 0.9999999999999998,
        # 0.4472135954999579]
        out = D.cosine_similarity(self.A, self.B)
        close(out, [0.0, -1.0, 0.0, 0.9999999999999998, 0.4472135954999579], rtol=1e-12)
        assert not np.signbit(out[[0, 2]]).any()  # 0.0, not Keras' -0.0

    def test_float32(self):
        # float32: [-0.0, -1.0, -0.0, 0.9999999403953552, 0.44721361994743347]
        out = D.cosine_similarity(self.A.astype(np.float32), self.B.astype(np.float32))
        assert out.dtype == np.float32
        close(out, [0.0, -1.0, 0.0, 0.9999999403953552, 0.44721361994743347], rtol=1e-6)

    def test_keras_epsilon_on_tiny_vectors(self):
        # keras.losses.cosine_similarity([[1e-8, 0]], [[1, 0]]) = -0.1: a norm below 1e-7 is
        # scaled by 1e7 instead of being normalised (keras.ops.normalize, epsilon=1e-7)
        close(D.cosine_similarity(np.array([[1e-8, 0.0]]), np.array([[1.0, 0.0]])), [-0.1],
              rtol=1e-9)

    def test_huge_vectors_keep_their_direction(self):
        a = np.array([[1e200, 1e200], [3e300, -4e300]])
        b = np.array([[1e200, 1e200], [1.0, 2.0]])
        close(D.cosine_similarity(a, b), [-1.0, 0.4472135954999579], rtol=1e-12)
        a32 = np.array([[1e30, 1e30]], np.float32)
        close(D.cosine_similarity(a32, a32), [-1.0], rtol=1e-6)

    def test_shape(self):
        with pytest.raises(ShapeError):
            D.cosine_similarity(self.A, self.B[:, :1])


@pytest.mark.parametrize("name", ["kl_divergence", "cosine_similarity"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_contract(name, dtype):
    fn = getattr(D, name)
    out = fn(KT.astype(dtype), KQ.astype(dtype))
    assert out.dtype == dtype and out.shape == (2,)
    assert registry.get(name).kind == "row"
    doc = fn.__doc__
    assert "Conventions:" in doc and "Returns:" in doc and "Args:" in doc
    assert fn(np.zeros((0, 3), dtype), np.zeros((0, 3), dtype)).shape == (0,)
