"""Peak memory of whole commands on inputs whose rows are very wide.

Each test runs the real command as its own process with ``--memory-limit 64M`` on an input
several times that budget, and checks both the output and the command's own peak resident set
size: under the budget plus :data:`SLACK_MB` (the interpreter, numpy and the CLI take about
30 MB).

The peak is measured on the command's own process by a bare launcher that forks, execs and
``os.wait4``s it (``conftest.peak_rss``); never by ``ru_maxrss`` of a child of this test
process: on Linux a forked child starts from the parent's high-water mark, and pytest with its
imports is already larger than some of these limits.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import peak_rss

from lossctl import budget

BUDGET_MB = 64
#: What the interpreter and the imports may take on top of the budget.
SLACK_MB = 60
LIMIT_KB = (BUDGET_MB + SLACK_MB) * 1024

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="peak RSS as Linux reports it")


def run_measured(tmp_path, *args: str) -> tuple[subprocess.CompletedProcess, int]:
    """Run ``lossctl ARGS --memory-limit 64M`` as its own process (conftest.peak_rss); return
    the result, with text output, and its peak RSS in KB."""
    res, peak = peak_rss([*args, "--memory-limit", f"{BUDGET_MB}M"], tmp_path=tmp_path,
                         stdin=subprocess.DEVNULL)
    res.stdout, res.stderr = res.stdout.decode(), res.stderr.decode()
    return res, peak


def check_peak(peak_kb: int) -> None:
    print(f"peak RSS {peak_kb // 1024} MB")
    assert peak_kb < LIMIT_KB, f"peak RSS {peak_kb // 1024} MB, over {LIMIT_KB // 1024} MB"


def csv_row(k: int, fill: str, at: dict[int, str]) -> str:
    """A line of k cells of ``fill`` with the cells ``at`` set (made without a list of k)."""
    parts, done = [], 0
    for j in sorted(at):
        parts.append((fill + ",") * (j - done) + at[j] + ",")
        done = j + 1
    parts.append((fill + ",") * (k - done))
    return "".join(parts)[:-1] + "\n"


# --- 1. wide text -----------------------------------------------------------------------------


def test_sparse_argmax_on_a_million_column_csv(tmp_path):
    k = 1_000_000
    path = tmp_path / "scores.csv"
    path.write_text(csv_row(k, "0.5", {123_456: "0.75"}) + csv_row(k, "0.25", {k - 1: "0.5"}))
    assert path.stat().st_size > 7 * 2**20  # two rows of 8 MB once parsed
    res, peak = run_measured(tmp_path, "sparse", path, "--argmax")
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"123456\n{k - 1}\n"
    assert "tied" not in res.stderr
    check_peak(peak)


def test_sparse_strict_on_a_300k_column_csv_with_header(tmp_path):
    k = 300_000
    header = ",".join(f"c{j}" for j in range(k)) + "\n"
    path = tmp_path / "onehot.csv"
    path.write_text(header + csv_row(k, "0", {7: "1"}) + csv_row(k, "0", {k - 2: "1"})
                    + csv_row(k, "0", {150_000: "1.0"}))
    res, peak = run_measured(tmp_path, "sparse", path, "-q")
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"c7\nc{k - 2}\nc150000\n"
    check_peak(peak)


def test_sparse_strict_error_in_a_later_piece_names_the_line(tmp_path):
    k = 1_000_000
    path = tmp_path / "onehot.csv"
    path.write_text(csv_row(k, "0", {3: "1"}) + csv_row(k, "0", {5: "1", 900_000: "1"}))
    res, peak = run_measured(tmp_path, "sparse", path, "-o", tmp_path / "labels.csv")
    assert res.returncode == 1
    assert "line 2: the row has 2 ones (columns 6, 900001)" in res.stderr, res.stderr
    assert not (tmp_path / "labels.csv").exists()  # -o writes all or nothing
    check_peak(peak)


def test_compute_on_300k_class_predictions(tmp_path):
    import lossctl

    k, n = 300_000, 4
    rng = np.random.default_rng(0)
    p = rng.random((n, k)) + 0.5
    p /= p.sum(axis=1, keepdims=True)
    labels = [7, 0, k - 1, 150_000]
    np.savetxt(tmp_path / "p.csv", p, delimiter=",", fmt="%.17g")  # 5.4 MB per line
    (tmp_path / "y.csv").write_text("".join(f"{y}\n" for y in labels))
    res, peak = run_measured(tmp_path, "compute", "scce", tmp_path / "y.csv", tmp_path / "p.csv")
    assert res.returncode == 0, res.stderr
    expect = lossctl.evaluate("scce", labels, p).value
    assert float(res.stdout) == pytest.approx(expect, rel=1e-12)
    check_peak(peak)


def test_block_rows_floor_is_one_row_for_wide_rows():
    limit = budget.parse_size("64M")
    row = 8 * (1 + 300_000)
    assert budget.block_rows(limit, row) == 1
    assert budget.block_rows(limit, 8 * 1_000_001) == 1
    assert budget.block_rows(limit, 16) >= budget.MIN_BLOCK_ROWS  # narrow rows keep the floor
    big = budget.parse_size("256M")
    room = big - budget.INTERPRETER
    assert budget.block_rows(big, 8 * 20_000) == budget.MIN_BLOCK_ROWS  # 1024 rows fit once
    assert budget.block_rows(big, 8 * 30_000) == room // (budget.COPIES * 8 * 30_000)  # do not
    cells = budget.block_cells(limit)
    assert budget.COPIES * 8 * cells <= limit - budget.INTERPRETER


# --- 2. one-hot rows of 10^8 classes ------------------------------------------------------------


def test_onehot_hundred_million_classes_to_csv(tmp_path):
    c = 100_000_000
    (tmp_path / "y.csv").write_text("5\n")
    out = tmp_path / "oh.csv"
    res, peak = run_measured(tmp_path, "onehot", tmp_path / "y.csv", "-n", c, "-o", out)
    assert res.returncode == 0, res.stderr
    assert out.stat().st_size == 2 * c
    ones = 0
    with open(out, "rb") as f:
        assert f.read(12) == b"0,0,0,0,0,1,"
        f.seek(0)
        while chunk := f.read(1 << 24):
            ones += chunk.count(b"1")
        f.seek(-4, os.SEEK_END)
        assert f.read() == b",0,0\n"[-4:]
    assert ones == 1
    check_peak(peak)


def test_onehot_wide_rows_to_npy_with_offset_and_header_names(tmp_path):
    c = 30_000_000
    (tmp_path / "y.csv").write_text("1\n30000000\n")
    out = tmp_path / "oh.npy"
    res, peak = run_measured(tmp_path, "onehot", tmp_path / "y.csv", "-n", c, "--offset", 1,
                             "-o", out)
    assert res.returncode == 0, res.stderr
    a = np.load(out, mmap_mode="r")
    assert a.shape == (2, c) and a.dtype == np.int64
    assert a[0, 0] == 1 and a[1, c - 1] == 1
    assert int(a[0].sum()) == 1 and int(a[1].sum()) == 1
    check_peak(peak)


def test_onehot_wide_csv_header_is_streamed(tmp_path):
    c = 5_000_000
    (tmp_path / "y.csv").write_text("4999999\n")
    out = tmp_path / "oh.csv"
    res, peak = run_measured(tmp_path, "onehot", tmp_path / "y.csv", "-n", c, "--header",
                             "--smooth", "0.1", "-o", out)
    assert res.returncode == 0, res.stderr
    from lossctl.out.numbers import format_number

    with open(out) as f:
        header = f.readline()
        row = f.readline()
        assert f.read() == ""
    assert header.startswith("0,1,2,") and header.endswith(",4999998,4999999\n")
    assert header.count(",") == c - 1
    eps = 0.1
    zero, one = format_number(0.0 * (1 - eps) + eps / c), format_number(1.0 * (1 - eps) + eps / c)
    assert row.count(",") == c - 1 and row.count(zero) == c - 1
    assert row.startswith(f"{zero},{zero},") and row.endswith(f",{zero},{one}\n")
    check_peak(peak)


# --- 3. wide NPY --------------------------------------------------------------------------------


def _wide_npy(path, n: int, k: int, values: dict[tuple[int, int], float]) -> None:
    """A (n, k) float64 NPY of zeros with ``values`` set, written without holding it."""
    a = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(n, k))
    for (i, j), v in values.items():
        a[i, j] = v
    a.flush()
    del a


def test_sparse_argmax_on_a_wide_npy(tmp_path):
    k = 20_000_000  # 320 MB: five times the budget
    path = tmp_path / "scores.npy"
    _wide_npy(path, 2, k, {(0, 123): 1.0, (1, k - 1): 0.9, (1, 5): -1.0})
    res, peak = run_measured(tmp_path, "sparse", path, "--argmax")
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"123\n{k - 1}\n"
    check_peak(peak)


def test_sparse_strict_and_threshold_on_a_wide_npy(tmp_path):
    k = 12_000_000
    path = tmp_path / "onehot.npy"
    _wide_npy(path, 2, k, {(0, k - 1): 1.0, (1, 0): 1.0})
    res, peak = run_measured(tmp_path, "sparse", path, "-f", "npy", "-o", tmp_path / "y.npy")
    assert res.returncode == 0, res.stderr
    y = np.load(tmp_path / "y.npy")
    assert y.shape == (2,) and y.tolist() == [k - 1, 0]
    check_peak(peak)
    res, peak = run_measured(tmp_path, "sparse", path, "--threshold", "0.5", "--offset", "1")
    assert res.returncode == 0, res.stderr
    assert res.stdout == f"{k}\n1\n"
    check_peak(peak)


def test_sparse_nan_in_a_wide_npy_names_row_and_column(tmp_path):
    k = 12_000_000
    path = tmp_path / "scores.npy"
    _wide_npy(path, 2, k, {(0, 1): 1.0, (1, 3): 1.0, (1, 11_000_000): np.nan})
    res, peak = run_measured(tmp_path, "sparse", path, "--argmax")
    assert res.returncode == 1
    assert "row 1: value nan in column 11000001" in res.stderr, res.stderr
    check_peak(peak)
