"""Tests for lossctl.readers: every format, column specs, the header rule, bad inputs, streaming.

All test data is generated into tmp_path at run time (no binary fixtures).
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest

from lossctl import readers
from lossctl.errors import InputError, LossctlError, ShapeError, UsageError
from lossctl.readers import Block, ReadOptions, open_source, read_array

pa = pytest.importorskip("pyarrow")


# --- helpers ------------------------------------------------------------------------------------------


def write(tmp_path, name: str, data: bytes | str) -> str:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(p)


def read(spec, **kw):
    stdin = kw.pop("stdin", None)
    cols = kw.pop("cols", None)
    data, src = read_array(spec, ReadOptions(**kw), cols, stdin=stdin)
    return data, src


def all_blocks(spec, block_rows, cols=None, stdin=None, **kw):
    with open_source(spec, ReadOptions(block_rows=block_rows, **kw), stdin=stdin) as src:
        blocks = list(src.blocks(src.select(cols)))
    return blocks


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


@pytest.fixture
def arrow_engine(monkeypatch):
    """Force the pyarrow text engine with tiny chunks (many chunk boundaries)."""
    monkeypatch.setattr(readers, "_SMALL_TEXT_BYTES", 0)
    monkeypatch.setattr(readers, "_TEXT_CHUNK_BYTES", 64)


EXPECTED = np.array([[1, 0.25], [0, 0.5], [2, 0.125]])


# --- text formats ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,content",
    [
        ("a.csv", "y,p\n1,0.25\n0,0.5\n2,0.125\n"),
        ("a.tsv", "y\tp\n1\t0.25\n0\t0.5\n2\t0.125\n"),
        ("semi.csv", "y;p\n1;0.25\n0;0.5\n2;0.125\n"),
        ("ws.txt", "  y   p\n1 0.25  \n 0\t\t0.5\n2    0.125\n"),
        ("bom.csv", "\ufeffy,p\n1,0.25\n0,0.5\n2,0.125\n"),
        ("crlf.csv", "y,p\r\n1,0.25\r\n0,0.5\r\n2,0.125\r\n"),
        ("noext", "y,p\n1,0.25\n0,0.5\n2,0.125"),  # no extension, no final newline
        ("blank.csv", "y,p\n1,0.25\n0,0.5\n2,0.125\n\n\n\n"),  # blank trailing lines
        ("quoted.csv", '"y","p"\n"1","0.25"\n0,"0.5"\n2,0.125\n'),
    ],
)
@pytest.mark.parametrize("engine", ["python", "arrow"])
def test_text_variants_read_the_same(tmp_path, monkeypatch, name, content, engine):
    if engine == "arrow":
        monkeypatch.setattr(readers, "_SMALL_TEXT_BYTES", 0)
        monkeypatch.setattr(readers, "_TEXT_CHUNK_BYTES", 16)
    data, src = read(write(tmp_path, name, content))
    assert src.kind == "text" and src.has_header and src.columns == ["y", "p"] and src.nrows is None
    assert data.dtype == np.float64
    np.testing.assert_array_equal(data, EXPECTED)
    ydata, _ = read(src.name, cols="y")
    assert ydata.dtype == np.int64 and ydata.tolist() == [[1], [0], [2]]
    assert [src.location(i) for i in range(3)] == ["line 2", "line 3", "line 4"]


def test_leading_blank_lines_and_locations(tmp_path):
    data, src = read(write(tmp_path, "l.csv", "\n\r\ny,p\r\n\r\n1,0.5\r\n2,0.25\r\n"))
    assert src.columns == ["y", "p"] and data.tolist() == [[1, 0.5], [2, 0.25]]
    assert [src.location(0), src.location(1)] == ["line 5", "line 6"]


def test_no_header_and_forced_header(tmp_path):
    path = write(tmp_path, "n.csv", "1,2\n3,4\n")
    data, src = read(path)
    assert not src.has_header and src.columns == ["1", "2"] and data.tolist() == [[1, 2], [3, 4]]
    assert src.location(0) == "line 1"
    data, src = read(path, header=True)
    assert src.columns == ["1", "2"] and src.has_header and data.tolist() == [[3, 4]]
    path = write(tmp_path, "h.csv", "a,b\nc,d\n")
    data, src = read(path, header=False)
    assert data.tolist() == [["a", "b"], ["c", "d"]]


def test_forced_delimiter_and_aliases(tmp_path):
    path = write(tmp_path, "x.txt", "a;b,c\nd;e,f\n")
    data, _ = read(path, delimiter=",", header=False)
    assert data.tolist() == [["a;b", "c"], ["d;e", "f"]]
    data, _ = read(path, header=False)  # sniffed: ';' wins the tie
    assert data.tolist() == [["a", "b,c"], ["d", "e,f"]]
    assert ReadOptions(delimiter="tab").delimiter == "\t"
    assert ReadOptions(delimiter="whitespace").delimiter == " "
    with pytest.raises(UsageError, match="unknown delimiter"):
        ReadOptions(delimiter="|")
    with pytest.raises(UsageError):
        ReadOptions(block_rows=0)


def test_empty_cells_are_nan_and_missing_spellings(tmp_path):
    data, _ = read(write(tmp_path, "m.csv", "a,b\n1,\n,2.5\nNA,3\n4,null\n"))
    assert data.dtype == np.float64
    np.testing.assert_array_equal(data, [[1, np.nan], [np.nan, 2.5], [np.nan, 3], [4, np.nan]])


@pytest.mark.parametrize("engine", ["python", "arrow"])
def test_nan_inf_spellings(tmp_path, monkeypatch, engine):
    if engine == "arrow":
        monkeypatch.setattr(readers, "_SMALL_TEXT_BYTES", 0)
    text = "p\nnan\nNaN\nNAN\ninf\nInf\n-inf\nInfinity\n-Infinity\n+inf\n1e-3\n.5\n5.\n"
    data, _ = read(write(tmp_path, "n.csv", text))
    got = data[:, 0]
    assert np.isnan(got[:3]).all()
    assert got[3:].tolist() == [np.inf, np.inf, -np.inf, np.inf, -np.inf, np.inf, 0.001, 0.5, 5.0]


@pytest.mark.parametrize("engine", ["python", "arrow"])
def test_int64_exact_and_huge_ints(tmp_path, monkeypatch, engine):
    if engine == "arrow":
        monkeypatch.setattr(readers, "_SMALL_TEXT_BYTES", 0)
    big = 2**63 - 1
    data, _ = read(write(tmp_path, "i.csv", f"y\n{big}\n{-big}\n{2**53 + 1}\n"))
    assert data.dtype == np.int64 and data[:, 0].tolist() == [big, -big, 2**53 + 1]
    data, _ = read(write(tmp_path, "f.csv", f"y\n1\n{2**64}\n"))  # beyond int64: a float
    assert data.dtype == np.float64 and data[1, 0] == float(2**64)


def test_bool_text_columns_are_0_1(tmp_path):
    data, _ = read(write(tmp_path, "b.csv", "y,p\ntrue,0.5\nFalse,0.25\nTRUE,1\n"), cols="y")
    assert data.dtype == np.int64 and data[:, 0].tolist() == [1, 0, 1]


def test_trailing_delimiter_is_ignored(tmp_path):
    data, src = read(write(tmp_path, "t.csv", "a,b\n1,2,\n3,4,\n"))
    assert src.columns == ["a", "b"] and data.tolist() == [[1, 2], [3, 4]]
    data, src = read(write(tmp_path, "t2.csv", "1,2,\n3,4,\n"))
    assert src.columns == ["1", "2"] and data.tolist() == [[1, 2], [3, 4]]


def test_wide_file_10000_columns(tmp_path):
    rows = np.arange(30000, dtype=np.int64).reshape(3, 10000)
    text = "\n".join(",".join(map(str, r)) for r in rows) + "\n"
    data, src = read(write(tmp_path, "wide.csv", text))
    assert len(src.columns) == 10000 and np.array_equal(data, rows)


def test_path_with_spaces_unicode_and_colon(tmp_path):
    data, src = read(write(tmp_path, "my fïle: ü.csv", "y\n1\n2\n"))
    assert data.tolist() == [[1], [2]] and src.name.endswith("my fïle: ü.csv")


# --- header rule -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content,has_header,first",
    [
        ("cat\ndog\ncat\n", False, "cat"),  # string labels: the first row is data
        ("label\ncat\ndog\ncat\n", True, "cat"),  # a name that never reappears above repeating labels
        ("label\ncat\ndog\n", False, "label"),  # too short to tell: data (use --header)
        ("y\n1\n0\n", True, "1"),  # a string above numbers
        ("label,p0\ncat,0.5\ndog,0.5\n", True, "cat"),  # a numeric column decides
        ("cat,0.5\ndog,0.5\n", False, "cat"),  # a number in the first row: data
        ("0,1,2\n0.1,0.2,0.7\n", False, "0.0"),  # all numeric: data
        ("is_cat\ntrue\nfalse\n", True, "1"),  # a string above booleans
        ("a,b\nx,y\nx,z\n", True, "x"),
    ],
)
def test_header_rule(tmp_path, content, has_header, first):
    data, src = read(write(tmp_path, "h.csv", content))
    assert src.has_header is has_header
    assert str(data[0, 0]) == first


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


@pytest.mark.parametrize("shape", [(), (2, 3, 4)])
def test_npy_bad_rank_is_a_shape_error(tmp_path, shape):
    path = str(tmp_path / "r.npy")
    np.save(path, np.zeros(shape))
    e = err(ShapeError, path)
    assert e.source == path and ("reshape" in str(e) or "(N,)" in str(e))


def test_npy_truncated(tmp_path):
    path = str(tmp_path / "t.npy")
    np.save(path, np.arange(100.0).reshape(50, 2))
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - 100)
    e = err(InputError, path)
    assert "truncated" in str(e) and "row 43" in str(e) and "write it again" in str(e)
    # a pipe only finds out while reading
    data = open(path, "rb").read()
    e = err(InputError, "-", stdin=Pipe(data))
    assert "truncated" in str(e) and e.source == "<stdin>"


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


@pytest.mark.parametrize("fmt", ["feather", "arrow-file", "arrow-stream", "feather-v1"])
def test_feather_and_arrow(tmp_path, fmt):
    import pyarrow.feather as feather

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


# --- standard input -------------------------------------------------------------------------------------------------


def test_stdin_text_npy_parquet(tmp_path):
    import pyarrow.parquet as pq

    data, src = read("-", stdin=io.BytesIO(b"y,p\n1,0.5\n0,0.25\n"))
    assert src.name == "<stdin>" and src.kind == "text" and data.tolist() == [[1, 0.5], [0, 0.25]]

    buf = io.BytesIO()
    arr = np.arange(20000, dtype=np.float32).reshape(-1, 4)
    np.save(buf, arr)
    blocks = all_blocks("-", 777, stdin=Pipe(buf.getvalue(), step=999))
    assert np.array_equal(np.concatenate([b.data for b in blocks]), arr)
    assert blocks[1].start == 777

    path = str(tmp_path / "t.parquet")
    pq.write_table(_table(), path)
    data, src = read("-", stdin=io.BytesIO(open(path, "rb").read()), cols="label")
    assert src.kind == "parquet" and data[:, 0].tolist() == [0, 2, 1, 2]
    assert "lossctl-stdin-" in src._path and not os.path.exists(src._path)  # spool removed on close

    arrow = str(tmp_path / "t.arrow")
    with pa.OSFile(arrow, "wb") as sink, pa.ipc.new_file(sink, _table().schema) as w:
        w.write_table(_table())
    data, src = read("-", stdin=Pipe(open(arrow, "rb").read()), cols="p1")
    assert src.kind == "feather" and data[0, 0] == 0.5 and not os.path.exists(src._path)

    npz = str(tmp_path / "t.npz")
    np.savez(npz, a=np.arange(3))
    data, src = read("-", stdin=io.BytesIO(open(npz, "rb").read()))
    assert src.kind == "npz" and data[:, 0].tolist() == [0, 1, 2]


def test_stdin_big_text_is_single_pass_and_streams(monkeypatch):
    monkeypatch.setattr(readers, "_SAMPLE_BYTES", 64)
    monkeypatch.setattr(readers, "_SMALL_TEXT_BYTES", 64)
    monkeypatch.setattr(readers, "_TEXT_CHUNK_BYTES", 50)
    text = "y\n" + "".join(f"{i % 7}\n" for i in range(500))
    with open_source("-", ReadOptions(block_rows=64), stdin=Pipe(text.encode(), step=13)) as src:
        got = np.concatenate([b.data for b in src.blocks()])
        assert got[:, 0].tolist() == [i % 7 for i in range(500)]
        assert src.location(499) == "line 501"
        with pytest.raises(InputError, match="only once"):
            src.blocks()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_like_process_substitution(tmp_path):
    import threading

    buf = io.BytesIO()
    np.save(buf, np.arange(6).reshape(3, 2))
    for name, payload, expect in [("p.csv", b"y,p\n1,0.5\n", [[1, 0.5]]),
                                  ("p", buf.getvalue(), [[0, 1], [2, 3], [4, 5]])]:
        fifo = str(tmp_path / name)
        os.mkfifo(fifo)
        writer = threading.Thread(target=lambda: open(fifo, "wb").write(payload))
        writer.start()
        data, src = read(fifo)
        writer.join()
        assert data.tolist() == expect and src.name == fifo


def test_stdin_empty_and_tty():
    e = err(InputError, "-", stdin=io.BytesIO(b""))
    assert "no data rows" in str(e) and "<stdin>" in str(e)

    class Tty(io.BytesIO):
        def isatty(self):
            return True

    e = err(InputError, "-", stdin=Tty(b"1\n"))
    assert "terminal" in str(e)


# --- column specs ------------------------------------------------------------------------------------------------


@pytest.fixture
def wide_csv(tmp_path):
    head = ["id", "label"] + [f"p{i}" for i in range(10)] + ["weight"]
    row = ["7", "3"] + [str(i / 10) for i in range(10)] + ["1.5"]
    return write(tmp_path, "w.csv", ",".join(head) + "\n" + ",".join(row) + "\n")


@pytest.mark.parametrize(
    "spec,expect",
    [
        (None, list(range(13))),
        ("label", [1]),
        ("p*", list(range(2, 12))),
        ("3-12", list(range(2, 12))),
        ("weight,label,1", [12, 1, 0]),
        ("p[0-2]", [2, 3, 4]),
        ("13-12", [12, 11]),
    ],
)
def test_select(wide_csv, spec, expect):
    with open_source(wide_csv) as src:
        assert src.select(spec) == expect


@pytest.mark.parametrize("spec", ["nope", "q*", "14", "2-20", "label,,p1"])
def test_select_unknown_lists_columns(wide_csv, spec):
    with open_source(wide_csv) as src:
        with pytest.raises(InputError) as ei:
            src.select(spec)
    msg = str(ei.value)
    assert ei.value.source == wide_csv
    if spec != "label,,p1":
        assert "available columns" in msg.lower() and "label" in msg and "weight" in msg


def test_select_number_named_header(tmp_path):
    # an exact name wins over a column number
    with open_source(write(tmp_path, "n.csv", "2,1\nx,7\ny,8\n"), ReadOptions(header=True)) as src:
        assert src.select("1") == [1] and src.select("2") == [0]


def test_string_label_block_mixed_with_numbers(wide_csv, tmp_path):
    data, _ = read(write(tmp_path, "s.csv", "label,p\ncat,0.5\ndog,0.25\ncat,1\n"))
    assert data.dtype.kind == "U" and data[:, 0].tolist() == ["cat", "dog", "cat"]
    assert data[:, 1].astype(float).tolist() == [0.5, 0.25, 1.0]


# --- bad text input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["python", "arrow"])
@pytest.mark.parametrize(
    "content,line,phrases",
    [
        ("a,b,c,d\n1,2,3,4\n5,6,7\n", 3, ["3 fields, expected 4", "missing or extra delimiter"]),
        ("a,b\n1,2\n3,\"4\n5,6\n", 3, ["unbalanced quote", "close the quote"]),
        ("a;b\n0,5;0,25\n", 2, ["decimal comma", "--delimiter ';'"]),
        ('a,b\n"1,234.5",2\n', 2, ["thousands separator", "decimal point"]),
        ("a,b\n1,2\n1,2,5\n", 3, ["3 fields, expected 2", "decimal comma or thousands"]),
        ("y,p\n" + "1,0.5\n" * 30 + "2,abc\n", 32, ["'abc' in column 'p' is not a number", "fix this value"]),
        ("y\n" + "1\n" * 30 + "1,5\n", 32, ["2 fields, expected 1"]),
    ],
)
def test_bad_text_names_file_line_and_fix(tmp_path, monkeypatch, engine, content, line, phrases):
    if engine == "arrow":
        monkeypatch.setattr(readers, "_SMALL_TEXT_BYTES", 0)
        monkeypatch.setattr(readers, "_TEXT_CHUNK_BYTES", 40)
    monkeypatch.setattr(readers, "_SNIFF_BYTES", 64)  # the bad line lies beyond the sniffed part
    path = write(tmp_path, "bad.csv", content)
    e = err(InputError, path)
    msg = str(e)
    assert e.source == path and msg.startswith(path)
    assert e.location == f"line {line}", msg
    for p in phrases:
        assert p.lower() in msg.lower(), msg


def test_multi_label_cells_stay_strings(tmp_path):
    data, src = read(write(tmp_path, "tags.csv", "tags\n0;2\n1\n2 0\n"))
    assert src.has_header and data[:, 0].tolist() == ["0;2", "1", "2 0"]
    data, src = read(write(tmp_path, "q.csv", 'id,tags\n1,"0,2"\n2,"1"\n'), cols="tags")
    assert data[:, 0].tolist() == ["0,2", "1"]  # in a comma file a quoted "0,2" is not a decimal comma
    data, src = read(write(tmp_path, "d.csv", "date,y\n2024-01-31,1\n2024-02-01,0\n"))
    assert src.has_header and data[:, 0].tolist() == ["2024-01-31", "2024-02-01"]


@pytest.mark.parametrize(
    "data,phrases",
    [
        (b"", ["no data rows", "empty"]),
        (b"\n\n  \n", ["no data rows"]),
        (b"p1,p2,p3\n", ["no data rows", "only a header", "--no-header"]),
        (b"p1,p2,p3\n\n\n", ["no data rows", "only a header"]),
        ("y,p\n1,0.5\n".encode("utf-16"), ["UTF-16", "iconv -f UTF-16 -t UTF-8"]),
        ("y,p\n1,0.5\n".encode("utf-16-le"), ["UTF-16", "iconv"]),
        (bytes(range(256)) * 8, ["not a text file"]),
        (b"\x93NUMPY\x01\x00garbage", ["not a text file", ".npy"]),
        (__import__("gzip").compress(b"y\n1\n" * 100), ["not a text file", "gzip-compressed", "decompress"]),
        (b"y\ncaf\xe9\n", ["not valid UTF-8", "line 2", "iconv"]),
    ],
)
def test_bad_files(tmp_path, data, phrases):
    path = write(tmp_path, "bad.csv", data)
    e = err(InputError, path)
    msg = str(e)
    assert e.source == path
    for p in phrases:
        assert p in msg, msg


def test_missing_directory_and_unreadable(tmp_path):
    e = err(InputError, str(tmp_path / "nope.csv"))
    assert "no such file" in str(e)
    e = err(InputError, str(tmp_path))
    assert "directory" in str(e)
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        p = write(tmp_path, "locked.csv", "1\n")
        os.chmod(p, 0)
        e = err(InputError, p)
        assert "permission" in str(e)


# --- pyarrow engine specifics -----------------------------------------------------------------------------------------


def test_int_column_turning_fractional_later(tmp_path, monkeypatch):
    """pyarrow infers nothing here: an int column that holds 2.5 later is re-read as text."""
    monkeypatch.setattr(readers, "_SMALL_TEXT_BYTES", 0)
    monkeypatch.setattr(readers, "_SNIFF_BYTES", 64)
    monkeypatch.setattr(readers, "_TEXT_CHUNK_BYTES", 256)
    big = 2**62 + 1
    rows = [f"{i % 5},{i}" for i in range(200)] + ["2.5,7", "4,8", " 3 ,9", ",10"]
    rows[100] = f"{big},100"
    path = write(tmp_path, "late.csv", "y,i\n" + "\n".join(rows) + "\n")
    with open_source(path, ReadOptions(block_rows=50)) as src:
        blocks = list(src.blocks([0]))
    assert blocks[0].data.dtype == np.int64  # early blocks keep exact int64
    assert blocks[2].data.dtype == np.int64 and blocks[2].data[0, 0] == big  # exact, not via float
    got = np.concatenate([b.data for b in blocks])[:, 0]
    assert got[:100].tolist() == [i % 5 for i in range(100)] and got[101:200].tolist() == [i % 5 for i in range(101, 200)]
    assert got[200] == 2.5 and got[201] == 4 and got[202] == 3 and np.isnan(got[203])


def test_blank_lines_locations_across_chunks(tmp_path, arrow_engine):
    lines = ["y,p"]
    expect_lines = []
    for i in range(60):
        if i % 7 == 3:
            lines.append("")
        if i % 11 == 5:
            lines.append("\r")
        lines.append(f"{i},0.5")
        expect_lines.append(len(lines))
    path = write(tmp_path, "b.csv", "\n".join(lines) + "\n")
    data, src = read(path)
    assert data[:, 0].tolist() == list(range(60))
    assert [src.location(i) for i in range(60)] == [f"line {n}" for n in expect_lines]
    # and an error after blank lines names the right line
    bad = lines + ["1,2,3"]
    e = err(InputError, write(tmp_path, "b2.csv", "\n".join(bad) + "\n"))
    assert e.location == f"line {len(bad)}"


TRICKY = [
    b"a,b\n1,2\n3,4\n",
    b"\xef\xbb\xbfa;b\r\n1;2.5\r\n3;\r\n",
    b"label\ncat\ndog\ncat\n",
    b"1 2  3\n  4 5 6  \n\n7\t8 9\n",
    b"y,p\n1,0.5\n2, 0.25 \n +3 ,NA\n",
    b"y\n1\n2\n2.5\n",
    b"y\n1\n2\n\n4\n",
    b"a,b\n1,2\n3,4,5\n",
    b"1,2,\n3,4,\n",
    b"y,p\n1,0.5\n2,1_0\n",
    b"y\n1\n99999999999999999999\n",
    b'a,b\n1,"x""y"\n3,4\n',
    b"a,b\n1,2\n\xff\n",
    b"t\ntrue\nfalse\n\nTRUE\n",
    b"a\tb\n1\t\n\t2\n",
]


@pytest.mark.parametrize("content", TRICKY)
def test_python_and_arrow_engines_agree(content):
    def run(small: bool):
        old = readers._SMALL_TEXT_BYTES, readers._TEXT_CHUNK_BYTES
        readers._SMALL_TEXT_BYTES, readers._TEXT_CHUNK_BYTES = (1 << 20, 1 << 20) if small else (0, 16)
        try:
            data, src = read("-", stdin=io.BytesIO(content), block_rows=2)
            return ("ok", src.columns, data.dtype.kind, data.tolist(), [src.location(i) for i in range(len(data))])
        except LossctlError as e:
            return (type(e).__name__, str(e))
        finally:
            readers._SMALL_TEXT_BYTES, readers._TEXT_CHUNK_BYTES = old

    assert repr(run(True)) == repr(run(False))


# --- blocks ------------------------------------------------------------------------------------------------------


def _formats(tmp_path, arr):
    import pyarrow.feather as feather
    import pyarrow.parquet as pq

    paths = {}
    paths["npy"] = str(tmp_path / "a.npy")
    np.save(paths["npy"], arr)
    paths["npz"] = str(tmp_path / "a.npz")
    np.savez_compressed(paths["npz"], a=arr)
    t = pa.table({f"c{j}": arr[:, j] for j in range(arr.shape[1])})
    paths["parquet"] = str(tmp_path / "a.parquet")
    pq.write_table(t, paths["parquet"], row_group_size=97)
    paths["feather"] = str(tmp_path / "a.feather")
    feather.write_feather(t, paths["feather"], chunksize=89)
    text = "\n".join(",".join(repr(float(v)) for v in row) for row in arr) + "\n"
    paths["csv"] = write(tmp_path, "a.csv", text)
    paths["tsv"] = write(tmp_path, "a.tsv", text.replace(",", "\t"))
    paths["txt"] = write(tmp_path, "a.txt", text.replace(",", "   "))
    return paths


def test_block_size_invariance_all_formats(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "_SMALL_TEXT_BYTES", 0)  # text through the chunked pyarrow engine
    monkeypatch.setattr(readers, "_TEXT_CHUNK_BYTES", 4096)
    rng = np.random.default_rng(1)
    arr = rng.standard_normal((1000, 3))
    arr[5, 1] = 1e300
    arr[6, 2] = 5e-324
    for kind, path in _formats(tmp_path, arr).items():
        whole, src = read(path)
        assert np.array_equal(whole, arr), kind
        for n in (1, 7, 64, 1000, 5000):
            blocks = all_blocks(path, n)
            assert all(len(b) == n for b in blocks[:-1]) and 0 < len(blocks[-1]) <= n, (kind, n)
            assert [b.start for b in blocks] == list(range(0, 1000, n)), (kind, n)
            assert np.array_equal(np.concatenate([b.data for b in blocks]), arr), (kind, n)
    # text engine chunk size does not matter either
    for chunk in (50, 333, 1 << 20):
        monkeypatch.setattr(readers, "_TEXT_CHUNK_BYTES", chunk)
        assert np.array_equal(read(str(tmp_path / "a.csv"))[0], arr)


def test_files_are_re_iterable_and_concurrent(tmp_path):
    arr = np.arange(30.0).reshape(10, 3)
    for kind, path in _formats(tmp_path, arr).items():
        with open_source(path, ReadOptions(block_rows=4)) as src:
            it1, it2 = src.blocks(), src.blocks([2])
            a = [next(it1).data, next(it2).data]
            rest1 = [b.data for b in it1]
            rest2 = [b.data for b in it2]
            assert np.array_equal(np.concatenate([a[0], *rest1]), arr), kind
            assert np.array_equal(np.concatenate([a[1], *rest2]), arr[:, [2]]), kind
            assert np.array_equal(src.read().data, arr), kind


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


def test_block_dataclass_and_read_on_empty_selection(tmp_path):
    b = Block(np.zeros((2, 1)), 5)
    assert len(b) == 2 and b.start == 5
    path = write(tmp_path, "x.csv", "1,2\n")
    with open_source(path) as src:
        with pytest.raises(ValueError):
            src.read([5])


# --- import hygiene ------------------------------------------------------------------------------------------------


def test_import_and_npy_and_small_csv_do_not_import_pyarrow(tmp_path):
    npy = str(tmp_path / "a.npy")
    np.save(npy, np.eye(3))
    csv_path = write(tmp_path, "a.csv", "y,p\n1,0.5\n")
    code = (
        "import sys\n"
        "import lossctl.readers as r\n"
        "assert 'pyarrow' not in sys.modules, 'import'\n"
        f"r.read_array({npy!r})\n"
        "assert 'pyarrow' not in sys.modules, 'npy'\n"
        f"r.read_array({csv_path!r})\n"
        "assert 'pyarrow' not in sys.modules, 'small csv'\n"
        "assert 'typer' not in sys.modules and 'rich' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


# --- randomized: the engines agree and nothing but LossctlError escapes --------------------------------------------

_FUZZ_CELLS = ["1", "0", "-3", "2.5", "1e3", "nan", "-inf", "Infinity", "", " ", "NA", "cat", "true", "False",
               "1,5", '"1,234.5"', '"x"', '"', "9" * 25, "+7", " 4 ", "1_0", "\u0663", "0x10", "a b", "\t"]


def _random_text(rng) -> bytes:
    d = rng.choice([",", ";", "\t", " ", "  "])
    k = rng.randint(1, 4)
    rows = [d.join(f"c{j}" for j in range(k))] if rng.random() < 0.5 else []
    pools = [rng.choice([["1", "0", "-3"], ["2.5", "nan", "-inf", "1"], ["cat", "dog"], ["true", "False"], _FUZZ_CELLS])
             for _ in range(k)]
    for _ in range(rng.randint(0, 30)):
        cells = [rng.choice(p) for p in pools]
        if rng.random() < 0.05:
            cells.append(rng.choice(_FUZZ_CELLS))
        if rng.random() < 0.05:
            cells = cells[:-1]
        rows.append(d.join(cells))
        if rng.random() < 0.05:
            rows.append("")
    nl = rng.choice(["\n", "\r\n"])
    return (nl.join(rows) + (nl if rng.random() < 0.8 else "")).encode()


def test_random_text_engines_agree(monkeypatch):
    import random

    rng = random.Random(1234)

    def run(data, small, chunk):
        monkeypatch.setattr(readers, "_SMALL_TEXT_BYTES", (1 << 20) if small else 0)
        monkeypatch.setattr(readers, "_TEXT_CHUNK_BYTES", chunk)
        try:
            with open_source("-", ReadOptions(block_rows=3), stdin=io.BytesIO(data)) as src:
                b = src.read()
                return ("ok", src.columns, b.data.dtype.kind, repr(b.data.tolist()),
                        [src.location(i) for i in range(len(b.data))])
        except LossctlError as e:
            return ("error", type(e).__name__, str(e))

    outcomes = set()
    for _ in range(300):
        data = _random_text(rng)
        a = run(data, True, 1 << 20)
        assert a == run(data, False, rng.choice([16, 64, 4096])), data
        outcomes.add(a[0] + (a[2] if a[0] == "ok" else ""))
    assert {"oki", "okf", "okU", "error"} <= outcomes  # the generator covers every outcome


def test_random_bytes_only_raise_lossctl_errors(monkeypatch):
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
        monkeypatch.setattr(readers, "_SMALL_TEXT_BYTES", rng.choice([0, 1 << 20]))
        try:
            with open_source("-", ReadOptions(block_rows=2), stdin=io.BytesIO(data)) as src:
                src.read()
        except LossctlError:
            pass


def test_corrupted_binary_files_only_raise_lossctl_errors(tmp_path):
    """Flipped bytes in Parquet, Feather (compressed or not) and NPZ: a clean InputError, never a
    crash (unvalidated Arrow IPC string offsets once segfaulted the interpreter here)."""
    import random

    import pyarrow.feather as feather
    import pyarrow.parquet as pq

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
