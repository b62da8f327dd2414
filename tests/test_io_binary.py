"""lossctl.io on binary formats: NPY, NPZ, Parquet, Feather/Arrow, and corrupt files of each.

All test data is generated into tmp_path at run time (no binary fixtures).
"""
from __future__ import annotations

import io
import os
import tracemalloc
import warnings

import numpy as np
import pytest

from lossctl.errors import InputError, LossctlError, ShapeError
from lossctl.io import ReadOptions, open_source, read_array

pa = pytest.importorskip("pyarrow")


def write(tmp_path, name: str, data: bytes | str) -> str:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(p)


def read(spec, **kw):
    stdin = kw.pop("stdin", None)
    cols = kw.pop("cols", None)
    return read_array(spec, ReadOptions(**kw), cols, stdin=stdin)


def all_blocks(spec, block_rows, cols=None, **kw):
    with open_source(spec, ReadOptions(block_rows=block_rows, **kw)) as src:
        return list(src.blocks(src.select(cols)))


def err(exc_type, spec, **kw) -> LossctlError:
    with pytest.raises(exc_type) as ei:
        read(spec, **kw)
    return ei.value


class Pipe(io.RawIOBase):
    """A non-seekable stream that hands out at most `step` bytes per read, like a pipe."""

    def __init__(self, data: bytes, step: int = 1000) -> None:
        self._b = io.BytesIO(data)
        self._step = step

    def readable(self):
        return True

    def seekable(self):
        return False

    def readinto(self, b):
        data = self._b.read(min(len(b), self._step))
        b[: len(data)] = data
        return len(data)


# --- NPY / NPZ -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arr,dtype",
    [
        (np.arange(12, dtype=np.float32).reshape(4, 3) / 7, np.float64),
        (np.arange(5, dtype=np.int32), np.int64),
        (np.arange(5, dtype=np.int64).reshape(5, 1), np.int64),
        (np.array([True, False, True]), np.int64),
        (np.arange(6, dtype=">f8").reshape(3, 2), np.float64),
        (np.array([2**63 + 5, 1], dtype=np.uint64), np.float64),
        (np.array([2**63 - 1, 0], dtype=np.uint64), np.int64),
        (np.array(["cat", "dog", "cat"]), np.dtype("<U3")),
        (np.array([b"cat", b"dog"]), np.dtype("<U3")),
        (np.asfortranarray(np.arange(12.0).reshape(4, 3)), np.float64),
    ],
)
def test_npy_dtypes_and_shapes(tmp_path, arr, dtype):
    path = str(tmp_path / "a.npy")
    np.save(path, arr)
    data, src = read(path)
    expect = np.asarray(arr).reshape(len(arr), -1)
    if expect.dtype.kind == "S":
        expect = expect.astype(str)
    assert src.kind == "npy" and src.nrows == len(arr) and src.columns == [str(i + 1) for i in range(expect.shape[1])]
    assert data.dtype == dtype and data.shape == expect.shape
    assert np.array_equal(data, expect.astype(dtype))
    assert src.location(3) == "row 3"


def test_npy_column_selection_and_blocks(tmp_path):
    arr = np.arange(40, dtype=np.float64).reshape(10, 4)
    path = str(tmp_path / "a.npy")
    np.save(path, arr)
    blocks = all_blocks(path, 3, cols="4,1-2")
    assert [b.start for b in blocks] == [0, 3, 6, 9] and [len(b) for b in blocks] == [3, 3, 3, 1]
    assert np.array_equal(np.concatenate([b.data for b in blocks]), arr[:, [3, 0, 1]])


@pytest.mark.parametrize("shape,phrase", [((), "(N,)"), ((2, 0, 4), "size 0")])
def test_npy_bad_shape_is_a_shape_error(tmp_path, shape, phrase):
    """A 0-D array, or an N-D one whose samples are empty (3-D+ arrays are N-D sources,
    tests/test_io_nd.py); never the advice to reshape (it would mix the class axis)."""
    path = str(tmp_path / "r.npy")
    np.save(path, np.zeros(shape))
    e = err(ShapeError, path)
    assert e.source == path and phrase in str(e) and "reshape" not in str(e)


def test_npy_truncated(tmp_path):
    path = str(tmp_path / "t.npy")
    np.save(path, np.arange(100.0).reshape(50, 2))
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 100)
    e = err(InputError, path)
    assert "truncated" in str(e) and "row 43" in str(e) and "write it again" in str(e)
    assert e.row == 43 and e.location == "row 43"
    # a pipe only finds out while reading
    data = open(path, "rb").read()
    e = err(InputError, "-", stdin=Pipe(data))
    assert "truncated" in str(e) and e.source == "<stdin>" and e.row == 43


def test_npy_invalid_text_names_the_row(tmp_path):
    raw = np.array(["ok", "fine", "bad", "x"], dtype="<U4")
    cps = raw.view(np.uint32).copy()
    cps[2 * 4] = 0x110000  # the first code point of row 2: beyond U+10FFFF
    path = str(tmp_path / "u.npy")
    np.save(path, cps.view("<U4"))
    e = err(InputError, path, block_rows=2)
    assert "not valid text" in str(e) and e.row == 2 and e.location == "row 2"


class _Evil:
    """Unpickling this creates a marker file: proof that a loader executed pickled code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_object_npy_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "pwned"
    path = str(tmp_path / "evil.npy")
    np.save(path, np.array([_Evil(str(marker)), 1], dtype=object), allow_pickle=True)
    # control: the payload is live (a loader that unpickles creates the marker)
    control_marker = tmp_path / "control"
    control = str(tmp_path / "control.npy")
    np.save(control, np.array([_Evil(str(control_marker)), 1], dtype=object), allow_pickle=True)
    for f in np.load(control, allow_pickle=True):
        getattr(f, "close", lambda: None)()
    assert control_marker.exists()

    e = err(InputError, path)
    assert "refused: object arrays can run code when loaded" in str(e) and e.source == path
    e = err(InputError, "-", stdin=io.BytesIO(open(path, "rb").read()))
    assert "refused" in str(e)
    npz = str(tmp_path / "evil.npz")
    np.savez(npz, x=np.array([_Evil(str(marker))], dtype=object))
    e = err(InputError, npz)
    assert "refused" in str(e)
    assert not marker.exists()


def test_npz_keys(tmp_path):
    one = str(tmp_path / "one.npz")
    np.savez(one, preds=np.eye(3))
    data, src = read(one)
    assert src.kind == "npz" and np.array_equal(data, np.eye(3))
    many = str(tmp_path / "many.npz")
    np.savez_compressed(many, labels=np.array([0, 2, 1]), preds=np.eye(3))
    data, src = read(many + ":labels")
    assert data.tolist() == [[0], [2], [1]] and src.name == many + ":labels" and src.nrows == 3
    e = err(InputError, many)
    assert "labels, preds" in str(e) and f"{many}:labels" in str(e)
    e = err(InputError, many + ":nope")
    assert "no array 'nope'" in str(e) and "labels, preds" in str(e) and e.source == many + ":nope"
    blocks = all_blocks(many + ":preds", 2)
    assert [b.start for b in blocks] == [0, 2]


def test_npz_corrupt_member(tmp_path):
    path = str(tmp_path / "c.npz")
    np.savez(path, a=np.arange(1000.0))  # stored, not compressed: flip a data byte -> bad CRC
    raw = bytearray(open(path, "rb").read())
    raw[raw.index(b"\x93NUMPY") + 500] ^= 0xFF
    open(path, "wb").write(bytes(raw))
    e = err(InputError, path)
    assert "corrupt NPZ" in str(e) and e.source == path
    with open_source(path, ReadOptions(block_rows=10)) as src, pytest.raises(InputError, match="corrupt NPZ"):
        list(src.blocks())


def test_colon_in_path_is_not_a_key_unless_npz(tmp_path):
    path = write(tmp_path, "run:3.csv", "y\n1\n")
    assert read(path)[0].tolist() == [[1]]
    e = err(InputError, str(tmp_path / "missing.npz") + ":k")
    assert "no such file" in str(e)


def test_npy_streams_in_bounded_memory(tmp_path):
    arr = np.ones((200_000, 10), dtype=np.float32)  # 8 MB on disk, 16 MB as float64
    path = str(tmp_path / "big.npy")
    np.save(path, arr)
    tracemalloc.start()
    try:
        with open_source(path, ReadOptions(block_rows=4096)) as src:
            total = sum(float(b.data.sum()) for b in src.blocks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 2_000_000
    assert peak < 2_000_000, peak  # a block or two (4096 x 10 x 8 B = 330 KB), never the array
    tracemalloc.start()
    try:
        data, _ = read(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # read(): the result plus one raw float32 block (65536 x 10 x 4 B), no second copy
    assert data.shape == (200_000, 10) and peak < data.nbytes + 3_000_000, peak


# --- Parquet / Feather / Arrow ----------------------------------------------------------------------------------


def _table():
    return pa.table(
        {
            "label": pa.array([0, 2, 1, 2], pa.int32()),
            "p1": pa.array([0.5, None, 0.25, 1.0], pa.float32()),
            "flag": pa.array([True, False, True, True]),
            "name": pa.array(["cat", "dog", None, "cat"]).dictionary_encode(),
        }
    )


def test_parquet(tmp_path):
    import pyarrow.parquet as pq

    path = str(tmp_path / "t.parquet")
    pq.write_table(_table(), path, row_group_size=3)
    with open_source(path) as src:
        assert src.kind == "parquet" and src.nrows == 4 and src.columns == ["label", "p1", "flag", "name"]
        lab = src.read(src.select("label")).data
        assert lab.dtype == np.int64 and lab[:, 0].tolist() == [0, 2, 1, 2]
        p = src.read(src.select("p1")).data
        assert p.dtype == np.float64 and np.isnan(p[1, 0]) and p[3, 0] == 1.0
        assert src.read(src.select("flag")).data[:, 0].tolist() == [1, 0, 1, 1]
        assert src.read(src.select("name")).data[:, 0].tolist() == ["cat", "dog", "", "cat"]
        blocks = list(src.blocks(src.select("label,flag")))
        assert src.location(2) == "row 2"
    assert np.concatenate([b.data for b in blocks]).tolist() == [[0, 1], [2, 0], [1, 1], [2, 1]]
    blocks = all_blocks(path, 3, cols="label")
    assert [b.start for b in blocks] == [0, 3]


def test_parquet_unsupported_column_type_names_the_cols_option(tmp_path):
    import pyarrow.parquet as pq

    path = str(tmp_path / "l.parquet")
    # (lists of numbers are columns: tests/test_io_nd.py; lists of strings are not)
    pq.write_table(pa.table({"y": [1, 2], "v": pa.array([["a"], ["b"]])}), path)
    with open_source(path) as src, pytest.raises(InputError) as ei:
        src.read()
    assert "column 'v' has type list" in str(ei.value) and "select others with cols" in str(ei.value)
    assert "--" not in str(ei.value)


@pytest.mark.parametrize("fmt", ["feather", "arrow-file", "arrow-stream", "feather-v1"])
def test_feather_and_arrow(tmp_path, fmt):
    from pyarrow import feather

    t = _table().drop_columns(["name"])
    path = str(tmp_path / ("t.arrow" if fmt.startswith("arrow") else "t.feather"))
    if fmt == "feather":
        feather.write_feather(t, path, chunksize=3)
    elif fmt == "feather-v1":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            feather.write_feather(t, path, version=1)
    else:
        with pa.OSFile(path, "wb") as sink:
            new = pa.ipc.new_file if fmt == "arrow-file" else pa.ipc.new_stream
            with new(sink, t.schema) as w:
                w.write_table(t, max_chunksize=3)
    data, src = read(path, cols="label,flag")
    assert src.kind == "feather" and src.columns == ["label", "p1", "flag"]
    assert src.nrows == (None if fmt == "arrow-stream" else 4)
    assert data.tolist() == [[0, 1], [2, 0], [1, 1], [2, 1]]


def test_zero_row_inputs(tmp_path):
    import pyarrow.parquet as pq

    npy = str(tmp_path / "z.npy")
    np.save(npy, np.zeros((0, 3)))
    assert "no data rows" in str(err(InputError, npy))
    pqt = str(tmp_path / "z.parquet")
    pq.write_table(pa.table({"a": pa.array([], pa.float64())}), pqt)
    assert "no data rows" in str(err(InputError, pqt))
    arrow = str(tmp_path / "z.arrow")
    with pa.OSFile(arrow, "wb") as sink, pa.ipc.new_stream(sink, pa.schema([("a", pa.float64())])):
        pass
    assert "no data rows" in str(err(InputError, arrow))
    data, _ = read(write(tmp_path, "one.csv", "y\n1\n"))  # one row is fine
    assert data.tolist() == [[1]]


def test_corrupt_binary_files(tmp_path):
    e = err(InputError, write(tmp_path, "c.parquet", b"PAR1" + os.urandom(200)))
    assert "not a valid Parquet file" in str(e) and e.source.endswith("c.parquet")
    e = err(InputError, write(tmp_path, "c.feather", b"ARROW1" + os.urandom(200)))
    assert "Feather/Arrow" in str(e)
    e = err(InputError, write(tmp_path, "c.npz", b"PK\x03\x04garbage"))
    assert "NPZ" in str(e)
    e = err(InputError, write(tmp_path, "c.npy", "y\n1\n"))
    assert "not an NPY file" in str(e) and ".csv" in str(e)


# --- randomized: nothing but LossctlError escapes ---------------------------------------------------------------


def test_random_bytes_only_raise_lossctl_errors():
    import random

    rng = random.Random(99)
    buf = io.BytesIO()
    np.save(buf, np.eye(3))
    npy = buf.getvalue()
    for i in range(400):
        if i % 2:
            data = bytearray(npy)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data[: rng.randint(0, len(data))])
        else:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(0, 80)))
        options = ReadOptions(block_rows=2, small_text_bytes=rng.choice([0, 1 << 20]))
        try:
            with open_source("-", options, stdin=io.BytesIO(data)) as src:
                src.read()
        except LossctlError:
            pass


def test_corrupted_binary_files_only_raise_lossctl_errors(tmp_path):
    """Flipped bytes in Parquet, Feather (compressed or not) and NPZ: a clean InputError, never a
    crash (unvalidated Arrow IPC string offsets once segfaulted the interpreter here)."""
    import random

    import pyarrow.parquet as pq
    from pyarrow import feather

    rng = random.Random(7)
    t = pa.table({"a": pa.array(np.arange(300)), "b": pa.array(np.linspace(0, 1, 300)),
                  "s": pa.array([f"x{i % 7}" for i in range(300)])})
    good = {}
    pq.write_table(t, str(tmp_path / "g.parquet"), row_group_size=50)
    feather.write_feather(t, str(tmp_path / "g.feather"), chunksize=50)
    feather.write_feather(t, str(tmp_path / "u.feather"), chunksize=50, compression="uncompressed")
    np.savez_compressed(str(tmp_path / "g.npz"), a=np.arange(300.0))
    for name in ("g.parquet", "g.feather", "u.feather", "g.npz"):
        good[name] = (tmp_path / name).read_bytes()
    for i in range(300):
        name = rng.choice(sorted(good))
        data = bytearray(good[name])
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        path = write(tmp_path, "x" + os.path.splitext(name)[1], bytes(data))
        try:
            with open_source(path, ReadOptions(block_rows=37)) as src:
                src.read()
        except LossctlError:
            pass


# --- rows wider than a block: column pieces ------------------------------------------------------


def _rows_of(pieces) -> np.ndarray:
    """Pieces back into rows (checking their order)."""
    rows, cur, start = [], [], None
    for p in pieces:
        assert p.col == sum(x.shape[1] for x in cur)
        if p.col == 0:
            start = p.start
        assert p.start == start
        cur.append(p.data)
        if p.last:
            rows.append(np.concatenate(cur, axis=1))
            cur = []
    assert not cur
    return np.concatenate(rows)


@pytest.mark.parametrize("dtype", ["<f8", ">f4", "<i2", "|b1", "<u8"])
def test_npy_pieces_read_rows_in_column_pieces(tmp_path, dtype):
    rng = np.random.default_rng(3)
    arr = (rng.random((3, 50)) * 10).astype(dtype)
    path = tmp_path / "w.npy"
    np.save(path, arr)
    expect = arr.astype(np.float64 if arr.dtype.kind == "f" else np.int64)
    with open_source(str(path)) as src:
        pieces = list(src.pieces(max_cells=7))
        assert [p.data.shape[1] for p in pieces[:8]] == [7] * 7 + [1]
        np.testing.assert_array_equal(_rows_of(pieces), expect)
        np.testing.assert_array_equal(_rows_of(src.pieces(range(10, 33), max_cells=5)), expect[:, 10:33])
        picked = [40, 2, 3, 9]  # not a run of columns: whole rows, cut
        np.testing.assert_array_equal(_rows_of(src.pieces(picked, max_cells=3)), expect[:, picked])
        whole = list(src.pieces(max_cells=120))  # two rows fit: whole-row blocks
        assert [(p.start, p.col, p.last, p.data.shape) for p in whole] == [
            (0, 0, True, (2, 50)), (2, 0, True, (1, 50))]


def test_npy_pieces_from_stdin_npz_and_fortran_order(tmp_path):
    arr = np.arange(60, dtype=np.float64).reshape(3, 20)
    raw = io.BytesIO()
    np.save(raw, arr)
    with open_source("-", ReadOptions(), stdin=io.BytesIO(raw.getvalue())) as src:
        np.testing.assert_array_equal(_rows_of(src.pieces(range(5, 20), max_cells=4)), arr[:, 5:])
    np.savez(tmp_path / "a.npz", x=arr)
    with open_source(str(tmp_path / "a.npz")) as src:
        np.testing.assert_array_equal(_rows_of(src.pieces(max_cells=6)), arr)
    np.save(tmp_path / "f.npy", np.asfortranarray(arr))
    with open_source(str(tmp_path / "f.npy")) as src:
        np.testing.assert_array_equal(_rows_of(src.pieces(max_cells=6)), arr)


def test_npy_pieces_of_a_truncated_stream_name_the_row():
    raw = io.BytesIO()
    np.save(raw, np.zeros((3, 100)))
    data = raw.getvalue()[: -8 * 150]  # row 1 ends half way, row 2 is missing
    with open_source("-", ReadOptions(), stdin=io.BytesIO(data)) as src, \
            pytest.raises(InputError, match="truncated") as ei:
        list(src.pieces(max_cells=30))
    assert ei.value.location == "row 1" and ei.value.row == 1


def test_wide_npy_names_columns_lazily_and_selects_a_range(tmp_path):
    k = 50_000
    np.save(tmp_path / "w.npy", np.zeros((2, k), dtype=np.float32))
    with open_source(str(tmp_path / "w.npy")) as src:
        assert len(src.columns) == k and src.columns[0] == "1" and src.columns[-1] == str(k)
        assert src.columns == [str(j + 1) for j in range(k)]
        assert str(k) in src.columns and "0" not in src.columns
        assert src.select(None) == range(k) and src.select("7") == [6]
        assert sum(p.data.shape[1] for p in src.pieces(max_cells=4096)) == 2 * k
