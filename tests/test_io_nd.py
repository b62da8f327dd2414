"""lossctl.io on N-D inputs (issue 12): NPY/NPZ arrays of rank 3 and more, and the list columns
of Parquet/Feather/Arrow files (per-row vectors as columns, nested lists as N-D arrays).

The contract (lossctl/io/source.py): ``Source.dims`` is None for a tabular source, else one
sample's shape; blocks of an N-D source are ``(n, *dims)``, cut along the first axis only;
``select(None)`` selects everything and a column SPEC on an N-D array is a UsageError.
All test data is generated into tmp_path at run time.
"""
from __future__ import annotations

import io
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import _LAUNCHER, subprocess_env

from lossctl import budget
from lossctl.errors import InputError, ShapeError, UsageError
from lossctl.io import ReadOptions, open_source, read_array
from lossctl.record import replace

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

SHAPES = [(5, 3, 4), (4, 3, 5, 2), (3, 2, 3, 2, 2)]  # (N,C,T) / NCHW / 5-D volumes
DTYPES = [np.float32, np.float64, ">f8", np.int8, np.int32, np.int64, np.uint16, bool]


def _array(shape, dtype, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "b":
        return rng.random(shape) < 0.5
    return (rng.random(shape) * 20).astype(dtype)


def _expected(a: np.ndarray) -> np.ndarray:
    return a.astype(np.float64 if a.dtype.kind == "f" else np.int64)


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a)
    return buf.getvalue()


def _blocks(src, cols=None):
    return list(src.blocks(cols))


def _joined(blocks) -> np.ndarray:
    return np.concatenate([b.data for b in blocks])


# --- NPY / NPZ ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{len(s)}d")
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_npy_nd_file_and_stdin(tmp_path, shape, dtype):
    a = _array(shape, dtype)
    path = tmp_path / "a.npy"
    np.save(path, a)
    want = _expected(a)
    with open_source(str(path), ReadOptions(block_rows=2)) as src:
        assert src.dims == shape[1:] and src.nrows == shape[0] and src.columns == []
        assert src.select(None) is None and src.select("") is None
        blocks = _blocks(src, src.select(None))
        assert [b.start for b in blocks] == list(range(0, shape[0], 2))
        assert all(b.data.shape[1:] == shape[1:] for b in blocks)
        got = _joined(blocks)
        assert got.dtype == want.dtype and np.array_equal(got, want)
        whole = src.read().data
        assert whole.shape == shape and whole.dtype == want.dtype and np.array_equal(whole, want)
    data, _ = read_array(str(path))
    assert np.array_equal(data, want)
    with open_source("-", ReadOptions(block_rows=3), stdin=io.BytesIO(_npy_bytes(a))) as src:
        assert src.dims == shape[1:] and src.single_pass
        got = _joined(_blocks(src))
    assert got.dtype == want.dtype and np.array_equal(got, want)


@pytest.mark.parametrize("fortran", [False, True], ids=["C", "F"])
def test_blocks_are_whole_samples_whatever_the_block_size(tmp_path, fortran):
    a = _array((11, 3, 4, 5), np.float32, seed=3)
    path = tmp_path / "a.npy"
    np.save(path, np.asfortranarray(a) if fortran else a)
    sample = math.prod(a.shape[1:]) * 8
    sizes = [1, 2, 3, 4, 10, 11, 12, 65536]
    sizes += [budget.block_rows(budget.parse_size(b), sample) for b in ("64M", "256M", "4G")]
    for rows in sizes:
        with open_source(str(path), ReadOptions(block_rows=rows)) as src:
            blocks = _blocks(src)
        step = min(rows, 11)
        assert [b.start for b in blocks] == list(range(0, 11, step))
        assert [len(b) for b in blocks[:-1]] == [step] * (len(blocks) - 1)
        assert np.array_equal(_joined(blocks), a.astype(np.float64))


def test_one_large_sample_per_block_within_the_budget(tmp_path):
    """A 512x512x21 float64 sample is 44 MB: the budget gives blocks of one sample."""
    shape = (3, 512, 512, 21)
    rows = budget.block_rows(budget.parse_size("256M"), math.prod(shape[1:]) * 8)
    assert rows == 1
    a = np.zeros(shape, dtype=np.float32)
    a[:, 0, 0, 0] = [1, 2, 3]
    path = tmp_path / "seg.npy"
    np.save(path, a)
    with open_source(str(path), ReadOptions(block_rows=rows)) as src:
        blocks = _blocks(src)
    assert [b.data.shape for b in blocks] == [(1, 512, 512, 21)] * 3
    assert [float(b.data[0, 0, 0, 0]) for b in blocks] == [1.0, 2.0, 3.0]


def test_fortran_order_from_a_file_and_refused_from_a_stream(tmp_path, monkeypatch):
    from lossctl.io import npy

    a = _array((9, 4, 3, 2), np.int32, seed=5)
    path = tmp_path / "f.npy"
    np.save(path, np.asfortranarray(a))
    monkeypatch.setattr(npy, "MAP_BYTES", 100)  # a block copied in many runs of columns
    with open_source(str(path), ReadOptions(block_rows=4)) as src:
        assert src.dims == (4, 3, 2)
        got = _joined(_blocks(src))
        assert src.read().data.shape == a.shape
    assert got.dtype == np.int64 and got.flags.c_contiguous and np.array_equal(got, a)
    with pytest.raises(InputError) as ei:
        open_source("-", stdin=io.BytesIO(path.read_bytes()))
    e = ei.value
    assert e.source == "<stdin>" and "Fortran-order 4-D array" in str(e)
    assert "np.ascontiguousarray" in str(e) and "\n" not in str(e)
    npz = tmp_path / "f.npz"
    np.savez(npz, x=np.asfortranarray(a))
    with pytest.raises(InputError, match="ascontiguousarray"):
        open_source(str(npz))


def test_npz_members(tmp_path):
    labels = _array((6, 4, 4), np.uint8, seed=1)
    probs = _array((6, 3, 4, 4), np.float32, seed=2)
    path = tmp_path / "seg.npz"
    np.savez_compressed(path, labels=labels, probs=probs, ids=np.arange(6))
    with open_source(f"{path}:probs", ReadOptions(block_rows=4)) as src:
        assert src.kind == "npz" and src.dims == (3, 4, 4) and src.nrows == 6
        assert np.array_equal(_joined(_blocks(src)), probs.astype(np.float64))
    with open_source(f"{path}:labels") as src:
        assert src.dims == (4, 4) and np.array_equal(src.read().data, labels.astype(np.int64))
    with open_source(f"{path}:ids") as src:  # a 1-D member stays a column
        assert src.dims is None and src.columns == ["1"]


@pytest.mark.parametrize("spec", ["1", "1-2", "p*", "label"])
def test_select_refuses_column_specs_naming_the_role_option(tmp_path, spec):
    from lossctl.errors import render_options
    from lossctl.inputs import select

    path = tmp_path / "p.npy"
    np.save(path, np.zeros((4, 3, 2, 2)))
    with open_source(str(path)) as src:
        with pytest.raises(UsageError) as ei:
            src.select(spec)
        e = ei.value
        assert e.option == "cols" and e.source == str(path)
        assert f"cols={spec!r}" in str(e) and "4-D array of shape (4, 3, 2, 2)" in str(e)
        assert "no columns" in str(e) and "class_axis" in str(e) and "reshape" not in str(e)
        with pytest.raises(UsageError) as ei:
            select(src, spec, "pred_cols")  # the pipeline's name for the role's option
        e = ei.value
        assert e.option == "pred_cols" and f"pred_cols={spec!r}" in str(e)
        flags = render_options(e.message, lambda name, value: f"--{name.replace('_', '-')}")
        assert "--pred-cols" in flags


def test_pieces_are_refused_on_an_nd_source(tmp_path):
    path = tmp_path / "p.npy"
    np.save(path, np.zeros((2, 2, 2)))
    with open_source(str(path)) as src, pytest.raises(ShapeError, match="3-D array"):
        src.pieces(None, max_cells=4)


def test_nd_shape_and_dtype_errors(tmp_path):
    path = tmp_path / "z.npy"
    np.save(path, np.zeros((4, 3, 0, 2)))
    with pytest.raises(ShapeError) as ei:
        open_source(str(path))
    assert "size 0" in str(ei.value) and "reshape" not in str(ei.value)
    np.save(path, np.zeros((0, 3, 2)))
    with pytest.raises(InputError, match="no data rows"):
        open_source(str(path))
    np.save(path, np.array([[["a", "b"]], [["c", "d"]]]))
    with pytest.raises(InputError) as ei:
        open_source(str(path))
    assert "3-D array of strings" in str(ei.value) and not isinstance(ei.value, ShapeError)
    np.save(path, np.array(1.0))  # the 0-D message stays
    with pytest.raises(ShapeError, match=r"0-D array.*\(N,\)"):
        open_source(str(path))


def test_truncated_nd_file_and_stream_name_the_sample(tmp_path):
    a = np.arange(10 * 4 * 5, dtype=np.float64).reshape(10, 4, 5)
    path = tmp_path / "t.npy"
    np.save(path, a)
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) - 3 * 20 * 8 - 5])  # 6 whole samples and part of one
    with pytest.raises(InputError) as ei:
        open_source(str(path))
    assert "truncated" in str(ei.value) and ei.value.row == 6
    with open_source("-", ReadOptions(block_rows=4), stdin=io.BytesIO(path.read_bytes())) as src:
        with pytest.raises(InputError) as ei:
            _blocks(src)
    assert "truncated" in str(ei.value) and ei.value.row == 6 and ei.value.source == "<stdin>"


def test_a_sample_too_large_to_allocate_is_a_clean_error():
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (2, 10**9, 10**9, 3)})
    with open_source("-", stdin=io.BytesIO(header.getvalue())) as src:
        with pytest.raises(ShapeError, match="more than this machine can allocate"):
            _blocks(src)


# --- Parquet / Feather / Arrow list columns -------------------------------------------------------


def _model_outputs(n=7):
    """A label column, a fixed_size_list probability vector and a variable list of logits."""
    rng = np.random.default_rng(9)
    probs = rng.random((n, 3)).astype(np.float32)
    logits = rng.standard_normal((n, 2))
    table = pa.table({
        "label": pa.array(rng.integers(0, 3, n), pa.int32()),
        "probs": pa.FixedSizeListArray.from_arrays(pa.array(probs.reshape(-1)), 3),
        "logits": pa.array(list(logits), pa.list_(pa.float64())),
    })
    return table, probs.astype(np.float64), logits


def _write(table, tmp_path, fmt: str, batch=3) -> str:
    from pyarrow import feather

    if fmt == "parquet":
        path = str(tmp_path / "t.parquet")
        pq.write_table(table, path, row_group_size=batch)
    elif fmt == "feather":
        path = str(tmp_path / "t.feather")
        feather.write_feather(table, path, chunksize=batch)
    else:
        path = str(tmp_path / "t.arrows")
        with pa.OSFile(path, "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table, max_chunksize=batch)
    return path


FORMATS = ["parquet", "feather", "arrow-stream"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_list_columns_expand_into_named_columns(tmp_path, fmt):
    table, probs, logits = _model_outputs()
    labels = table.column("label").to_numpy().astype(np.int64)
    path = _write(table, tmp_path, fmt)
    with open_source(path, ReadOptions(block_rows=2)) as src:
        assert src.dims is None
        assert src.columns == ["label", "probs[0]", "probs[1]", "probs[2]", "logits[0]",
                               "logits[1]"]
        assert src.select("probs") == [1, 2, 3] and src.dims is None
        assert src.select("probs*") == [1, 2, 3] and src.select("logits?[01]?") == [4, 5]
        assert src.select("probs[2],label") == [3, 0] and src.select("2-3") == [1, 2]
        got = src.read(src.select("label,probs")).data
        assert got.shape == (7, 4) and got.dtype == np.float64
        assert np.array_equal(got[:, 0], labels) and np.array_equal(got[:, 1:], probs)
        assert np.allclose(src.read(src.select("logits")).data, logits)
        assert src.read(src.select("label")).data.dtype == np.int64
        blocks = _blocks(src, src.select("probs[1],logits[0]"))
        assert [b.start for b in blocks] == [0, 2, 4, 6] and all(b.data.ndim == 2 for b in blocks)
        assert np.allclose(_joined(blocks), np.c_[probs[:, 1], logits[:, 0]])
        everything = src.read(src.select(None)).data
    assert everything.shape == (7, 6) and np.allclose(everything[:, 1:4], probs)


def test_integer_and_bool_vectors_stay_int64(tmp_path):
    table = pa.table({"onehot": pa.array([[0, 1], [1, 0], [1, 0]], pa.list_(pa.int8(), 2)),
                      "flags": pa.array([[True, False], [False, False], [True, True]])})
    path = _write(table, tmp_path, "parquet")
    data, src = read_array(path)
    assert src.columns == ["onehot[0]", "onehot[1]", "flags[0]", "flags[1]"]
    assert data.dtype == np.int64 and data.tolist() == [[0, 1, 1, 0], [1, 0, 0, 0], [1, 0, 1, 1]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_ragged_list_row_is_an_error_naming_the_row(tmp_path, fmt):
    rows = [[0.1, 0.9]] * 5 + [[0.2, 0.3, 0.5]] + [[0.5, 0.5]]  # row 5 is in the second batch
    path = _write(pa.table({"y": list(range(7)), "p": pa.array(rows)}), tmp_path, fmt, batch=4)
    with open_source(path, ReadOptions(block_rows=4)) as src:
        assert src.columns == ["y", "p[0]", "p[1]"]
        assert src.read(src.select("y")).data.shape == (7, 1)  # other columns are fine
        with pytest.raises(InputError) as ei:
            src.read(src.select("p"))
    e = ei.value
    assert e.row == 5 and e.location == "row 5" and e.source == path
    assert "column 'p' holds 3 values in this row, where its rows hold 2" in str(e)
    assert "\n" not in str(e)


@pytest.mark.parametrize("fmt", FORMATS)
def test_nulls_are_nan(tmp_path, fmt):
    table = pa.table({
        "p": pa.array([[0.5, None], None, [1.0, 0.0]], pa.list_(pa.float64(), 2)),
        "v": pa.array([[1, 2], [3, None], None]),
        "m": pa.array([[[1, None], [3, 4]], None, [[5, 6], None]]),
    })
    path = _write(table, tmp_path, fmt)
    nan = np.nan
    with open_source(path) as src:
        p = src.read(src.select("p,v")).data
        np.testing.assert_array_equal(p, [[0.5, nan, 1, 2], [nan, nan, 3, nan], [1, 0, nan, nan]])
        m = src.read(src.select("m")).data
    np.testing.assert_array_equal(m, [[[1, nan], [3, 4]], [[nan, nan], [nan, nan]],
                                      [[5, 6], [nan, nan]]])


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("fixed", [True, False], ids=["fixed", "variable"])
def test_nested_lists_are_an_nd_source(tmp_path, fmt, fixed):
    masks = np.random.default_rng(4).integers(0, 3, (5, 2, 3))
    inner = pa.list_(pa.int64(), 3) if fixed else pa.list_(pa.int64())
    typ = pa.list_(inner, 2) if fixed else pa.list_(inner)
    path = _write(pa.table({"mask": pa.array(masks.tolist(), typ)}), tmp_path, fmt, batch=2)
    with open_source(path, ReadOptions(block_rows=2)) as src:
        assert src.columns == ["mask"] and src.dims == (2, 3)
        assert src.select(None) == [0] and src.select("mask") == [0]
        blocks = _blocks(src, [0])
        assert [b.data.shape for b in blocks] == [(2, 2, 3), (2, 2, 3), (1, 2, 3)]
        got = _joined(blocks)
        assert got.dtype == np.int64 and np.array_equal(got, masks)
        assert np.array_equal(src.read().data, masks)
        with pytest.raises(ShapeError):
            src.pieces([0], max_cells=4)


def test_nested_column_with_other_columns(tmp_path):
    masks = np.arange(4 * 2 * 2, dtype=np.float64).reshape(4, 2, 2)
    probs = np.arange(4 * 2 * 2 * 3, dtype=np.float64).reshape(4, 2, 2, 3) / 100
    table = pa.table({"id": [1, 2, 3, 4], "mask": pa.array(masks.tolist()),
                      "probs": pa.array(probs.tolist())})
    path = _write(table, tmp_path, "parquet")
    with open_source(path) as src:
        assert src.columns == ["id", "mask", "probs"] and src.dims is None
        with pytest.raises(UsageError) as ei:
            src.select(None)
        assert ei.value.option == "cols" and "'mask' (2, 2)" in str(ei.value)
        with pytest.raises(UsageError) as ei:
            src.select("id,mask")
        assert ei.value.option == "cols" and "cannot select it with other" in str(ei.value)
        assert src.select("probs") == [2] and src.dims == (2, 2, 3)
        assert src.select("mask") == [1] and src.dims == (2, 2)  # dims: the latest selection
        assert src.dims_of([2]) == (2, 2, 3) and src.dims_of([0]) is None
        assert np.array_equal(src.read([2]).data, probs)
        assert np.array_equal(src.read([1]).data, masks)
        assert src.select("id") == [0] and src.dims is None
        assert src.read([0]).data.tolist() == [[1], [2], [3], [4]]


def test_a_ragged_nested_row_names_the_row(tmp_path):
    rows = [[[1, 2], [3, 4]], [[1, 2], [3, 4]], [[1, 2], [3]], [[0, 0], [0, 0]]]
    path = _write(pa.table({"mask": pa.array(rows)}), tmp_path, "parquet", batch=2)
    with open_source(path, ReadOptions(block_rows=2)) as src:
        assert src.dims == (2, 2)
        with pytest.raises(InputError) as ei:
            src.read()
    assert ei.value.row == 2 and "level 2" in str(ei.value)


def test_nd_columns_are_never_named_per_value(tmp_path):
    """A (64, 64, 3) array per row is one column entry; a vector of 10,000 values is named
    lazily, like a wide CSV."""
    from lossctl.io.source import LazyNames

    big = pa.FixedSizeListArray.from_arrays(
        pa.FixedSizeListArray.from_arrays(
            pa.FixedSizeListArray.from_arrays(pa.array(np.zeros(2 * 64 * 64 * 3)), 3), 64), 64)
    wide = pa.FixedSizeListArray.from_arrays(pa.array(np.arange(2 * 10_000.0)), 10_000)
    path = _write(pa.table({"image": big}), tmp_path, "parquet")
    with open_source(path) as src:
        assert src.columns == ["image"] and src.dims == (64, 64, 3)
    path = _write(pa.table({"y": [0, 1], "scores": wide}), tmp_path, "parquet")
    with open_source(path) as src:
        assert isinstance(src.columns, LazyNames) and len(src.columns) == 10_001
        assert src.columns[1] == "scores[0]" and src.columns[-1] == "scores[9999]"
        sel = src.select("scores")
        assert len(sel) == 10_000 and sel[0] == 1
        assert src.read(sel).data[1, -1] == 19_999.0
        assert src.select("scores[9998]") == [9999]


def test_lists_of_strings_and_all_null_lists_are_errors_when_selected(tmp_path):
    table = pa.table({"y": [1, 2], "s": pa.array([["a"], ["b"]]),
                      "e": pa.array([None, None], pa.list_(pa.float64()))})
    path = _write(table, tmp_path, "parquet")
    with open_source(path) as src:
        assert src.columns == ["y", "s", "e"]
        assert src.read(src.select("y")).data.tolist() == [[1], [2]]
        with pytest.raises(InputError, match="column 's' has type list"):
            src.read(src.select("s"))
        with pytest.raises(InputError, match="only null lists"):
            src.read(src.select("e"))


# --- peak memory -----------------------------------------------------------------------------------

#: Opens a source as the pipeline does (blocks sized from the budget with 8 bytes a value),
#: reads every block and prints the row count and the sum.
_READ_ALL = """
import math, sys
import numpy as np
from lossctl import budget
from lossctl.record import replace
from lossctl.io import open_source
path, limit, spec = sys.argv[1], budget.parse_size(sys.argv[2]), sys.argv[3] or None
with open_source(path) as src:
    sel = src.select(spec)
    cells = math.prod(src.dims) if src.dims is not None else len(sel)
    src.options = replace(src.options, block_rows=budget.block_rows(limit, 8 * cells))
    rows, total = 0, 0.0
    for b in src.blocks(sel):
        rows += len(b)
        total += float(np.nansum(b.data))
print(rows, total)
"""
LIMIT_MB = 64


def _peak_read(tmp_path, path, spec=""):
    """Read ``path`` in a process of its own: (rows, sum, peak RSS in KB), the peak from
    ``os.wait4`` in conftest's launcher (never ru_maxrss of a child of pytest)."""
    report = tmp_path / f"rss-{len(list(tmp_path.glob('rss-*')))}.txt"
    cmd = [sys.executable, "-c", _LAUNCHER, str(report), sys.executable, "-c", _READ_ALL,
           str(path), f"{LIMIT_MB}M", spec]
    env = subprocess_env(ARROW_DEFAULT_MEMORY_POOL="system")  # as the CLI does (cli/root.py)
    proc = subprocess.run(cmd, capture_output=True, env=env, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr.decode()
    rows, total = proc.stdout.split()
    return int(rows), float(total), int(report.read_text())


pytestmark_rss = pytest.mark.skipif(sys.platform != "linux", reason="peak RSS as Linux reports it")


@pytestmark_rss
def test_peak_rss_of_an_nd_npy_several_times_the_budget(tmp_path):
    sample = (21, 64, 64)  # 690 KB a sample as float64
    n = 600  # 206 MB of float32 on disk, 413 MB as float64
    path = tmp_path / "probs.npy"
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, *sample))
    for s in range(0, n, 100):
        mm[s : s + 100] = 0.25
    mm.flush()
    del mm
    small = tmp_path / "small.npy"
    np.save(small, np.full((2, *sample), 0.25, dtype=np.float32))
    assert os.path.getsize(path) > 3 * LIMIT_MB * 2**20
    _, _, base = _peak_read(tmp_path, small)
    rows, total, peak = _peak_read(tmp_path, path)
    assert rows == n and total == pytest.approx(0.25 * n * math.prod(sample))
    assert peak - base < LIMIT_MB * 1024, f"{(peak - base) // 1024} MB over the interpreter"


@pytestmark_rss
def test_peak_rss_of_a_parquet_list_file_several_times_the_budget(tmp_path):
    n, k, group = 400_000, 64, 20_000  # 102 MB of float32 values, 205 MB as float64
    path = tmp_path / "probs.parquet"
    schema = pa.schema([("label", pa.int64()), ("probs", pa.list_(pa.float32(), k))])
    rng = np.random.default_rng(0)
    expect = 0.0
    with pq.ParquetWriter(path, schema, compression="none", use_dictionary=False) as w:
        for s in range(0, n, group):
            values = rng.random(group * k, dtype=np.float32)
            expect += float(values.sum(dtype=np.float64))
            w.write_table(pa.table({
                "label": pa.array(np.arange(s, s + group) % k),
                "probs": pa.FixedSizeListArray.from_arrays(pa.array(values), k)}, schema=schema))
    small = tmp_path / "small.parquet"
    pq.write_table(pa.table({
        "label": pa.array([0, 1]),
        "probs": pa.FixedSizeListArray.from_arrays(pa.array(np.full(2 * k, 1 / k, np.float32)),
                                                   k)}, schema=schema), small)
    assert os.path.getsize(path) > LIMIT_MB * 2**20 * 3 / 2
    _, _, base = _peak_read(tmp_path, small, "label,probs")
    rows, total, peak = _peak_read(tmp_path, path, "label,probs")
    assert rows == n
    assert total == pytest.approx(float(np.sum(np.arange(n) % k)) + expect, rel=1e-9)
    assert peak - base < LIMIT_MB * 1024, f"{(peak - base) // 1024} MB over the interpreter"


def test_block_rows_of_the_options_are_respected_by_parquet_lists(tmp_path):
    table, probs, _ = _model_outputs(n=10)
    path = _write(table, tmp_path, "parquet", batch=10)
    with open_source(path) as src:
        src.options = replace(src.options, block_rows=3)
        blocks = _blocks(src, src.select("probs"))
    assert [len(b) for b in blocks] == [3, 3, 3, 1] and np.array_equal(_joined(blocks), probs)
