"""`lossctl compute`, `onehot` and `sparse` stream: peak memory within ``--memory-limit`` plus
what the interpreter takes, on inputs several times the budget.

Each run is its own process, measured with :func:`conftest.peak_rss` (the process's own
high-water mark). The ceiling is the budget plus the peak of the same command on a small
input (Python, numpy, pyarrow and the CLI before any data), so the check measures what the data
costs and not how heavy an import is on this machine. The outputs are checked too; wall time is
not.

Before these were streamed, ``compute -f json`` on 10M rows took 1.6 GB at ``--memory-limit
64M``, ``--compare`` 660 MB, ``onehot -n 100000000`` 8.4 GB and ``sparse --argmax`` on a
(2, 3e7) array 4.6 GB.
"""
from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import peak_rss

ROWS, CLASSES = 4_000_000, 3  # 96 MB of float64 predictions, 32 MB of int64 labels
LIMIT_MB = 64
CHUNK = 500_000


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """y.npy (int64 [N]), p.npy (float32 [N, 3] probabilities), p.csv and y.csv (the first
    2,000,000 rows as text: 60 MB), and small versions of each (small_*: ten rows of the
    arrays, 60,000 rows of the text, enough for the pyarrow engine)."""
    d = tmp_path_factory.mktemp("memory")
    rng = np.random.default_rng(5)
    fmt = np.lib.format
    y = fmt.open_memmap(d / "y.npy", mode="w+", dtype=np.int64, shape=(ROWS,))
    p = fmt.open_memmap(d / "p.npy", mode="w+", dtype=np.float32, shape=(ROWS, CLASSES))
    # pyarrow's CSV writer (shortest round-trip floats) is ~10x faster than np.savetxt here
    import pyarrow as pa
    import pyarrow.csv as pacsv

    with pacsv.CSVWriter(d / "p.csv", pa.schema([(c, pa.float32()) for c in "abc"])) as pc, \
            pacsv.CSVWriter(d / "y.csv", pa.schema([("label", pa.int64())])) as yc:
        for s in range(0, ROWS, CHUNK):
            z = rng.standard_normal((CHUNK, CLASSES))
            e = np.exp(z - z.max(axis=1, keepdims=True))
            block = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
            labels = rng.integers(0, CLASSES, CHUNK)
            y[s:s + CHUNK] = labels
            p[s:s + CHUNK] = block
            if s < ROWS // 2:
                pc.write_table(pa.table({c: block[:, i] for i, c in enumerate("abc")}))
                yc.write_table(pa.table({"label": labels}))
    y.flush()
    p.flush()
    np.save(d / "small_y.npy", np.asarray(y[:10]))
    np.save(d / "small_p.npy", np.asarray(p[:10]))
    for name in ("p.csv", "y.csv"):  # 60,000 rows: p.csv is read by pyarrow, as the big one
        with open(d / name) as f:
            (d / f"small_{name}").write_text("".join(next(f) for _ in range(60_001)))
    del y, p
    return d


def _expected(d, rows=ROWS):
    y = np.load(d / "y.npy", mmap_mode="r")[:rows]
    p = np.load(d / "p.npy", mmap_mode="r")[:rows].astype(np.float64)
    p = p / p.sum(axis=1, keepdims=True)  # Keras renormalises; float32 rows sum to 1 +- 1e-7
    return -np.log(np.clip(p[np.arange(rows), y], 1e-7, 1 - 1e-7))


def _run(d, args, small_args, tmp_path):
    """(process, extra KB over the run on the small inputs of the same command)."""
    limit = ["--memory-limit", f"{LIMIT_MB}M"]
    base_proc, base = peak_rss([*small_args, *limit], tmp_path=tmp_path)
    assert base_proc.returncode == 0, base_proc.stderr.decode()
    proc, peak = peak_rss([*args, *limit], tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc, peak - base


def _within_budget(extra_kb):
    assert extra_kb <= LIMIT_MB * 1024, f"{extra_kb / 1024:.0f} MB over the interpreter"


@pytest.mark.parametrize("fmt", ["value", "json", "csv", "npy"])
def test_compute_streams_every_output_format(data, tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    tail = [] if fmt == "value" else ["-f", fmt, "-o", out]
    small_tail = [] if fmt == "value" else ["-f", fmt, "-o", tmp_path / f"small.{fmt}"]
    proc, extra = _run(
        data, ["compute", "scce", data / "y.npy", data / "p.npy", *tail],
        ["compute", "scce", data / "small_y.npy", data / "small_p.npy", *small_tail], tmp_path)
    _within_budget(extra)
    want = _expected(data)
    if fmt == "value":
        assert float(proc.stdout) == pytest.approx(want.mean(), rel=1e-9)
    elif fmt == "json":
        doc = json.loads(out.read_text())
        assert len(doc["per_sample"]) == ROWS
        assert doc["value"] == pytest.approx(want.mean(), rel=1e-9)
        assert doc["per_sample"][ROWS - 1] == pytest.approx(want[-1], rel=1e-6)
    elif fmt == "npy":
        got = np.load(out, mmap_mode="r")
        assert got.shape == (ROWS,)
        np.testing.assert_allclose(got[-5:], want[-5:], rtol=1e-6)
    else:
        with open(out) as f:
            header = next(f)
            assert header.strip().split(",")[-1] == "loss"
            assert sum(1 for _ in f) == ROWS


def test_compare_feeds_every_convention_in_one_pass(data, tmp_path):
    proc, extra = _run(
        data, ["compute", "scce", data / "y.npy", data / "p.npy", "--compare", "all",
               "-f", "json"],
        ["compute", "scce", data / "small_y.npy", data / "small_p.npy", "--compare", "all",
         "-f", "json"], tmp_path)
    _within_budget(extra)
    rows = json.loads(proc.stdout)["compare"]
    assert {r["convention"] for r in rows} >= {"keras", "torch"}
    keras = next(r for r in rows if r["convention"] == "keras")
    assert keras["value"] == pytest.approx(_expected(data).mean(), rel=1e-9)


def test_text_inputs_are_parsed_in_budget_sized_chunks(data, tmp_path):
    proc, extra = _run(
        data, ["compute", "scce", data / "y.csv", data / "p.csv"],
        ["compute", "scce", data / "small_y.csv", data / "small_p.csv"], tmp_path)
    _within_budget(extra)
    # the text holds 7 significant digits: the value agrees with the float32 arrays to ~1e-6
    assert float(proc.stdout) == pytest.approx(_expected(data, ROWS // 2).mean(), rel=1e-5)


def test_gzip_text_is_decompressed_as_a_stream_within_the_budget(data, tmp_path):
    """A gzip CSV is read as one stream (lossctl.io.compressed): the 60 MB of text never held
    at once, the same value as the plain file."""
    import gzip
    import shutil

    packed = tmp_path / "p.csv.gz"
    with open(data / "p.csv", "rb") as src, gzip.open(packed, "wb", compresslevel=1) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    proc, extra = _run(
        data, ["compute", "scce", data / "y.csv", packed],
        ["compute", "scce", data / "small_y.csv", data / "small_p.csv"], tmp_path)
    _within_budget(extra)
    assert float(proc.stdout) == pytest.approx(_expected(data, ROWS // 2).mean(), rel=1e-5)


def test_onehot_of_a_tall_input(data, tmp_path):
    out = tmp_path / "onehot.npy"
    _, extra = _run(
        data, ["onehot", data / "y.npy", "-n", CLASSES, "-f", "npy", "-o", out],
        ["onehot", data / "small_y.npy", "-n", CLASSES, "-f", "npy", "-o",
         tmp_path / "small.npy"], tmp_path)
    _within_budget(extra)
    got = np.load(out, mmap_mode="r")
    y = np.load(data / "y.npy", mmap_mode="r")
    assert got.shape == (ROWS, CLASSES)
    np.testing.assert_array_equal(got[-1000:].argmax(axis=1), y[-1000:])


def test_sparse_of_a_tall_input(data, tmp_path):
    out = tmp_path / "labels.npy"
    _, extra = _run(
        data, ["sparse", data / "p.npy", "--argmax", "-f", "npy", "-o", out],
        ["sparse", data / "small_p.npy", "--argmax", "-f", "npy", "-o",
         tmp_path / "small.npy"], tmp_path)
    _within_budget(extra)
    got = np.load(out, mmap_mode="r")
    p = np.load(data / "p.npy", mmap_mode="r")
    assert got.shape == (ROWS,)
    np.testing.assert_array_equal(got[-1000:], p[-1000:].argmax(axis=1))
