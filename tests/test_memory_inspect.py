"""`lossctl inspect` streams its inputs: peak memory within ``--memory-limit`` plus the interpreter.

Each check runs ``python -m lossctl inspect`` as its own process on inputs several times the
budget (3,000,000 x 10 float32 predictions: 120 MB on disk, 240 MB as float64; before it
streamed, inspect took about 900 MB on them) and measures that process's own peak resident set
size with :func:`conftest.peak_rss` (a tiny launcher that forks, execs and ``os.wait4``s the
command, as ``benchmarks/run.py`` does; not ``ru_maxrss`` of a child of pytest, which on Linux
starts from the high-water mark of the process it was forked from, this one with its generated
arrays). The output is checked too; wall time is not.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import peak_rss

ROWS, CLASSES = 3_000_000, 10
LIMIT = "64M"
#: the budget, plus what Python, numpy and the CLI take before reading anything (~45 MB), with
#: room for the allocator
CEILING_KB = (64 + 60) * 1024
BAD_ROW = 2_999_990  # the one row whose probabilities do not sum to 1
ONE_HOT_ROW = 123_457  # a row [1, 0, ..., 0]: the minimum 0 and the maximum 1
CHUNK = 500_000

def _labels(start: int, n: int) -> np.ndarray:
    return (np.arange(start, start + n, dtype=np.int64) * 7) % CLASSES  # 300,000 of each class


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """labels.npy (int64), probs.npy and logits.npy (float32 [N, 10]), and both.npy (float32
    [N, 11]: the label, then the probabilities), written chunk by chunk."""
    d = tmp_path_factory.mktemp("inspect_memory")
    rng = np.random.default_rng(11)
    fmt = np.lib.format
    y = fmt.open_memmap(d / "labels.npy", mode="w+", dtype=np.int64, shape=(ROWS,))
    probs = fmt.open_memmap(d / "probs.npy", mode="w+", dtype=np.float32, shape=(ROWS, CLASSES))
    logits = fmt.open_memmap(d / "logits.npy", mode="w+", dtype=np.float32, shape=(ROWS, CLASSES))
    both = fmt.open_memmap(d / "both.npy", mode="w+", dtype=np.float32, shape=(ROWS, CLASSES + 1))
    for s in range(0, ROWS, CHUNK):
        z = rng.standard_normal((CHUNK, CLASSES), dtype=np.float32)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        if s <= ONE_HOT_ROW < s + CHUNK:
            p[ONE_HOT_ROW - s] = np.eye(CLASSES, dtype=np.float32)[0]
        if s <= BAD_ROW < s + CHUNK:
            p[BAD_ROW - s] = 0.2
        y[s:s + CHUNK] = _labels(s, CHUNK)
        probs[s:s + CHUNK] = p
        logits[s:s + CHUNK] = z
        both[s:s + CHUNK, 0] = y[s:s + CHUNK]
        both[s:s + CHUNK, 1:] = p
    for m in (y, probs, logits, both):
        m.flush()
    del y, probs, logits, both
    return d


def _inspect(tmp_path: Path, *args: str) -> tuple[dict, int]:
    """``lossctl inspect *args -f json --memory-limit 64M``: its JSON and its peak RSS (KB)."""
    proc, peak = peak_rss(["inspect", *args, "-f", "json", "--memory-limit", LIMIT],
                          tmp_path=tmp_path, stdin=subprocess.DEVNULL, timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    return json.loads(proc.stdout), peak


def _check_labels(y_true: dict) -> None:
    assert (y_true["encoding"], y_true["rows"], y_true["columns"]) == ("index", ROWS, 1)
    assert y_true["classes"] == list(range(CLASSES))
    assert y_true["counts"] == [ROWS // CLASSES] * CLASSES


def test_labels_and_probabilities_stream_within_the_budget(data, tmp_path):
    info, peak = _inspect(tmp_path, str(data / "labels.npy"), str(data / "probs.npy"))
    assert peak < CEILING_KB, f"peak RSS {peak / 1024:.0f} MB over {CEILING_KB / 1024:.0f} MB"
    _check_labels(info["y_true"])
    p = info["y_pred"]
    assert (p["kind"], p["rows"], p["columns"]) == ("independent_probabilities", ROWS, CLASSES)
    assert (p["rows_not_summing_to_one"], p["first_row_not_summing_to_one"]) == (1, BAD_ROW)
    assert (p["min"], p["max"]) == (0.0, 1.0) and p["nan"] == p["posinf"] == p["neginf"] == 0
    assert info["fits"] is True
    assert info["recommendations"][0]["loss"] == "sparse_categorical_crossentropy"
    assert info["conversions"][0]["command"].startswith(f"lossctl onehot {data / 'labels.npy'} -n 10")


def test_labels_and_logits_stream_within_the_budget(data, tmp_path):
    info, peak = _inspect(tmp_path, str(data / "labels.npy"), str(data / "logits.npy"))
    assert peak < CEILING_KB, f"peak RSS {peak / 1024:.0f} MB over {CEILING_KB / 1024:.0f} MB"
    _check_labels(info["y_true"])
    p = info["y_pred"]
    assert (p["kind"], p["rows"]) == ("logits", ROWS)
    assert p["min"] < -4 and p["max"] > 4 and p["rows_not_summing_to_one"] > ROWS * 0.99
    first = info["recommendations"][0]
    assert first["loss"] == "sparse_categorical_crossentropy" and "--from-logits" in first["command"]


def test_one_file_holding_both_streams_within_the_budget(data, tmp_path):
    info, peak = _inspect(tmp_path, str(data / "both.npy"), "--true-cols", "1", "--pred-cols", "2-11")
    assert peak < CEILING_KB, f"peak RSS {peak / 1024:.0f} MB over {CEILING_KB / 1024:.0f} MB"
    _check_labels(info["y_true"])
    assert info["y_pred"]["first_row_not_summing_to_one"] == BAD_ROW
    assert "--cols 1 " in info["conversions"][0]["command"]


def test_labels_alone_stream_within_the_budget(data, tmp_path):
    info, peak = _inspect(tmp_path, str(data / "labels.npy"))
    assert peak < CEILING_KB, f"peak RSS {peak / 1024:.0f} MB over {CEILING_KB / 1024:.0f} MB"
    _check_labels(info["y_true"])
    assert info["y_pred"] is None
