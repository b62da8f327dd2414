"""N-D inputs stream: `compute`, `onehot` and `sparse` on stacks of segmentation maps several
times ``--memory-limit`` stay within it (plus the interpreter), in blocks of whole samples.

Measured as in test_memory.py: each run is its own process (:func:`conftest.peak_rss`), and the
ceiling is the budget over the same command on a two-sample input. Outputs are checked too.
"""
from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import peak_rss

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="peak RSS as Linux reports it")

LIMIT_MB = 64
N, C, H, W = 600, 21, 64, 64  # 206 MB of float32 logits, 413 MB as float64


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("memory_nd")
    rng = np.random.default_rng(3)
    z = np.lib.format.open_memmap(d / "z.npy", mode="w+", dtype=np.float32, shape=(N, C, H, W))
    y = np.lib.format.open_memmap(d / "y.npy", mode="w+", dtype=np.uint8, shape=(N, H, W))
    for s in range(0, N, 100):
        z[s:s + 100] = rng.standard_normal((100, C, H, W), dtype=np.float32)
        labels = rng.integers(0, C, (100, H, W), dtype=np.uint8)
        labels[:, :2] = 255  # void borders
        y[s:s + 100] = labels
    z.flush()
    y.flush()
    np.save(d / "small_z.npy", np.asarray(z[:2]))
    np.save(d / "small_y.npy", np.asarray(y[:2]))
    del z, y
    return d


def _extra_kb(args, small_args, tmp_path):
    limit = ["--memory-limit", f"{LIMIT_MB}M"]
    base_proc, base = peak_rss([*small_args, *limit], tmp_path=tmp_path)
    assert base_proc.returncode == 0, base_proc.stderr.decode()
    proc, peak = peak_rss([*args, *limit], tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    assert peak - base <= LIMIT_MB * 1024, f"{(peak - base) / 1024:.0f} MB over the interpreter"
    return proc


def _reference_tail(d, k=20):
    """PyTorch's per-pixel cross_entropy (ignore_index=255) of the last k samples."""
    z = np.load(d / "z.npy", mmap_mode="r")[-k:].astype(np.float64)
    y = np.load(d / "y.npy", mmap_mode="r")[-k:].astype(np.int64)
    keep = y != 255
    t = np.where(keep, y, 0)
    lse = np.log(np.exp(z).sum(axis=1))
    return np.where(keep, lse - np.take_along_axis(z, t[:, None], axis=1)[:, 0], 0.0)


def test_compute_on_maps_and_its_elementwise_npy(data, tmp_path):
    out = tmp_path / "loss.npy"
    _extra_kb(["compute", "cross_entropy", data / "y.npy", data / "z.npy", "--ignore-class",
               "255", "--elementwise", "-o", out],
              ["compute", "cross_entropy", data / "small_y.npy", data / "small_z.npy",
               "--ignore-class", "255", "--elementwise", "-o", tmp_path / "small.npy"], tmp_path)
    got = np.load(out, mmap_mode="r")
    assert got.shape == (N, H, W)
    np.testing.assert_allclose(got[-20:], _reference_tail(data), rtol=1e-5, atol=1e-6)


def test_onehot_of_label_maps(data, tmp_path):
    out = tmp_path / "onehot.npy"  # 413 MB of int64
    _extra_kb(["onehot", data / "y.npy", "-n", C, "--ignore-class", "255", "--class-axis", "1",
               "-o", out],
              ["onehot", data / "small_y.npy", "-n", C, "--ignore-class", "255",
               "--class-axis", "1", "-o", tmp_path / "small.npy"], tmp_path)
    got = np.load(out, mmap_mode="r")
    y = np.load(data / "y.npy", mmap_mode="r")
    assert got.shape == (N, C, H, W)
    tail = np.asarray(got[-3:])
    assert (tail[:, :, :2] == 0).all()  # void pixels: all-zero vectors
    np.testing.assert_array_equal(tail[:, :, 2:].argmax(axis=1), y[-3:, 2:])


def test_sparse_argmax_of_nchw_logits(data, tmp_path):
    out = tmp_path / "pred.npy"
    _extra_kb(["sparse", data / "z.npy", "--argmax", "--class-axis", "1", "-o", out],
              ["sparse", data / "small_z.npy", "--argmax", "--class-axis", "1", "-o",
               tmp_path / "small.npy"], tmp_path)
    got = np.load(out, mmap_mode="r")
    z = np.load(data / "z.npy", mmap_mode="r")
    assert got.shape == (N, H, W)
    np.testing.assert_array_equal(got[-5:], np.asarray(z[-5:]).argmax(axis=1))
