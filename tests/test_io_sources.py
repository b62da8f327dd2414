"""lossctl.io sources in general: standard input and pipes, column SPECs, blocks, closing,
options, aligned and prefetch, and what importing the package costs.

All test data is generated into tmp_path at run time (no binary fixtures).
"""
from __future__ import annotations

import io
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from lossctl.errors import InputError, LossctlError, ShapeError, UsageError
from lossctl.io import (
    DELIMITERS,
    Block,
    ReadOptions,
    aligned,
    normalize_delimiter,
    open_source,
    prefetch,
    read_array,
    sniff,
)

pa = pytest.importorskip("pyarrow")

TEXT_ARROW = {"small_text_bytes": 0, "chunk_bytes": 4096}  # text through the chunked pyarrow engine


def write(tmp_path, name: str, data: bytes | str) -> str:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(p)


def read(spec, **kw):
    stdin = kw.pop("stdin", None)
    cols = kw.pop("cols", None)
    return read_array(spec, ReadOptions(**kw), cols, stdin=stdin)


def all_blocks(spec, block_rows, cols=None, stdin=None, **kw):
    with open_source(spec, ReadOptions(block_rows=block_rows, **kw), stdin=stdin) as src:
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


def _table():
    return pa.table(
        {
            "label": pa.array([0, 2, 1, 2], pa.int32()),
            "p1": pa.array([0.5, None, 0.25, 1.0], pa.float32()),
            "flag": pa.array([True, False, True, True]),
            "name": pa.array(["cat", "dog", None, "cat"]).dictionary_encode(),
        }
    )


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
    monkeypatch.setattr(sniff, "SAMPLE_BYTES", 64)
    text = "y\n" + "".join(f"{i % 7}\n" for i in range(500))
    options = ReadOptions(block_rows=64, small_text_bytes=64, chunk_bytes=50)
    with open_source("-", options, stdin=Pipe(text.encode(), step=13)) as src:
        got = np.concatenate([b.data for b in src.blocks()])
        assert got[:, 0].tolist() == [i % 7 for i in range(500)]
        assert src.location(499) == "line 501"
        with pytest.raises(InputError, match="only once"):
            src.blocks()


def test_small_text_bytes_decides_the_engine(tmp_path):
    """An input up to small_text_bytes is parsed by the Python engine, even above the default
    sample size; a larger one streams through pyarrow."""
    from lossctl.io.text import TextSource

    path = write(tmp_path, "m.csv", "y\n" + "1\n" * (600 << 10))  # 1.2 MB
    with open_source(path) as src:
        assert isinstance(src, TextSource) and not src._small
    with open_source(path, ReadOptions(small_text_bytes=2 << 20)) as src:
        assert src._small and src.read().data.shape == (600 << 10, 1)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_named_pipe_like_process_substitution(tmp_path):
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


def test_unreadable_through_the_spec_modules_open(tmp_path, monkeypatch):
    """Every file opened by path goes through lossctl.io.spec's open (the bad-input matrix
    replaces it to simulate chmod 000 when running as root)."""
    from lossctl.io import spec

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    paths = [write(tmp_path, "a.csv", "1\n"), write(tmp_path, "a.feather", b"ARROW1\x00\x00")]
    monkeypatch.setattr(spec, "open", denied, raising=False)
    for p in paths:
        e = err(InputError, p)
        assert "permission denied" in str(e) and e.source == p


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
    with open_source(wide_csv) as src, pytest.raises(InputError) as ei:
        src.select(spec)
    msg = str(ei.value)
    assert ei.value.source == wide_csv and ei.value.option == "cols"
    if spec != "label,,p1":
        assert "available columns" in msg.lower() and "label" in msg and "weight" in msg


def test_select_number_named_header(tmp_path):
    # an exact name wins over a column number
    with open_source(write(tmp_path, "n.csv", "2,1\nx,7\ny,8\n"), ReadOptions(header=True)) as src:
        assert src.select("1") == [1] and src.select("2") == [0]


# --- blocks ------------------------------------------------------------------------------------------------------


def _formats(tmp_path, arr):
    import pyarrow.parquet as pq
    from pyarrow import feather

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


def test_block_size_invariance_all_formats(tmp_path):
    rng = np.random.default_rng(1)
    arr = rng.standard_normal((1000, 3))
    arr[5, 1] = 1e300
    arr[6, 2] = 5e-324
    for kind, path in _formats(tmp_path, arr).items():
        whole, src = read(path, **TEXT_ARROW)
        assert np.array_equal(whole, arr), kind
        for n in (1, 7, 64, 1000, 5000):
            blocks = all_blocks(path, n, **TEXT_ARROW)
            assert all(len(b) == n for b in blocks[:-1]) and 0 < len(blocks[-1]) <= n, (kind, n)
            assert [b.start for b in blocks] == list(range(0, 1000, n)), (kind, n)
            assert np.array_equal(np.concatenate([b.data for b in blocks]), arr), (kind, n)
    # text engine chunk size does not matter either
    for chunk in (50, 333, 1 << 20):
        assert np.array_equal(read(str(tmp_path / "a.csv"), small_text_bytes=0, chunk_bytes=chunk)[0], arr)


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


def test_block_dataclass_and_read_on_empty_selection(tmp_path):
    b = Block(np.zeros((2, 1)), 5)
    assert len(b) == 2 and b.start == 5
    path = write(tmp_path, "x.csv", "1,2\n")
    with open_source(path) as src, pytest.raises(ValueError):
        src.read([5])


# --- closing ---------------------------------------------------------------------------------------------------


def _reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "lossctl-reader" and t.is_alive()]


def test_close_stops_the_iterators_and_threads_it_handed_out(tmp_path):
    path = write(tmp_path, "big.csv", "y,p\n" + "1,0.5\n" * 5000)
    before = len(_reader_threads())
    src = open_source(path, ReadOptions(block_rows=10, small_text_bytes=0, chunk_bytes=256))
    it1, it2 = src.blocks(), src.blocks([0])
    next(it1), next(it2)
    assert len(_reader_threads()) == before + 2  # one parser thread per pass, one chunk ahead
    src.close()
    assert len(_reader_threads()) == before  # joined, before the files were closed
    for it in (it1, it2):  # closed, like a closed file: not a short read that looks complete
        with pytest.raises(ValueError, match="closed"):
            next(it)


def test_close_stops_a_worker_iterated_from_another_thread(tmp_path):
    """compute wraps the blocks in its own prefetch: closing the source while that worker is
    inside our iterator still stops our parser thread; the foreign worker gets ValueError."""
    path = write(tmp_path, "big.csv", "y\n" + "1\n" * 20000)
    before = len(_reader_threads())
    src = open_source(path, ReadOptions(block_rows=5, small_text_bytes=0, chunk_bytes=128))
    outer = prefetch(src.blocks(), depth=1)
    next(outer)
    src.close()
    with pytest.raises(ValueError):
        for _ in outer:
            pass
    outer.close()
    assert len(_reader_threads()) == before


def test_a_closed_source_refuses_new_reads_but_still_names_rows(tmp_path):
    arr = np.arange(12.0).reshape(4, 3)
    for kind, path in _formats(tmp_path, arr).items():
        data, src = read(path)  # read_array closes the source it returns
        assert np.array_equal(data, arr) and src.location(2) in ("row 2", "line 3"), kind
        with pytest.raises(ValueError, match="closed"):
            src.read()
        with pytest.raises(ValueError, match="closed"):
            src.blocks()


# --- options -----------------------------------------------------------------------------------------------------


def test_read_options_fields_and_validation():
    o = ReadOptions()
    assert (o.header, o.delimiter, o.block_rows, o.chunk_bytes, o.small_text_bytes) == (
        None, None, 65536, 8 << 20, 1 << 20)
    assert ReadOptions(chunk_bytes=1, small_text_bytes=0).chunk_bytes == 1
    for bad in ({"chunk_bytes": 0}, {"chunk_bytes": 1.5}, {"small_text_bytes": -1},
                {"small_text_bytes": "1"}, {"block_rows": 0}):
        with pytest.raises(UsageError) as ei:
            ReadOptions(**bad)
        (name,) = bad
        assert ei.value.option == name and str(ei.value).startswith(name)


def test_normalize_delimiter_is_the_one_alias_table():
    assert normalize_delimiter(None) is None
    assert {normalize_delimiter(k) for k in DELIMITERS} == {",", "\t", ";", " "}
    assert normalize_delimiter(" Tab ") == "\t" and normalize_delimiter("SEMICOLON") == ";"
    assert normalize_delimiter(" ") == " " and normalize_delimiter("\t") == "\t"
    assert normalize_delimiter("\\s+") == " "
    for bad in ("|", "  ", "tabs", ""):
        with pytest.raises(UsageError, match="unknown delimiter") as ei:
            normalize_delimiter(bad)
        assert ei.value.option == "delimiter" and "--" not in str(ei.value)


# --- aligned and prefetch ----------------------------------------------------------------------------------------


def _blocks(n: int, step: int, width: int = 1):
    a = np.arange(n * width).reshape(n, width)
    return [Block(a[s:s + step], s) for s in range(0, n, step)]


def test_aligned_recuts_blocks_of_different_sizes():
    t, p = _blocks(10, 3), _blocks(10, 4, width=2)
    out = list(aligned(t, p, None))
    assert [s for s, _ in out] == [0, 3, 4, 6, 8, 9]
    assert all(len(a) == len(b) and w is None for _, (a, b, w) in out)
    assert np.concatenate([a for _, (a, _, _) in out])[:, 0].tolist() == list(range(10))
    assert list(aligned(iter([]), iter([]))) == []
    assert [len(a) for _, (a,) in aligned([np.zeros((2, 1)), np.zeros((0, 1)), np.zeros((3, 1))])] == [2, 3]


def test_aligned_row_mismatch_uses_the_one_text_with_roles():
    roles = [("y_true", "y.csv"), ("y_pred", "p.csv"), ("sample_weight", None)]
    with pytest.raises(ShapeError) as ei:
        list(aligned(_blocks(10, 3), _blocks(12, 5, width=3), None, roles=roles, columns=3))
    msg = str(ei.value)
    assert "y_true has 10 rows but y_pred has 12 (y.csv: 10, p.csv: 12)" in msg
    assert "got logits shape [12,3] and labels shape [10]" in msg
    with pytest.raises(ShapeError) as ei:
        list(aligned(_blocks(10, 3), _blocks(10, 4), _blocks(9, 2), roles=[
            ("y_true", "y.csv"), ("y_pred", "p.csv"), ("sample_weight", "w.csv")]))
    assert "9 sample weights for 10 rows" in str(ei.value) and ei.value.source == "w.csv"
    with pytest.raises(ShapeError) as ei:
        list(aligned(_blocks(5, 2), _blocks(7, 7)))
    assert "input1 has 5 rows but input2 has 7" in str(ei.value)
    with pytest.raises(ValueError):
        list(aligned(_blocks(5, 2), roles=[("a", None), ("b", None)]))


def test_prefetch_keeps_order_passes_errors_and_joins():
    def gen():
        yield from range(5)
        raise KeyError("boom")

    before = len(_reader_threads())
    it = prefetch(gen(), depth=2)
    got = []
    with pytest.raises(KeyError):
        for x in it:
            got.append(x)
    assert got == [0, 1, 2, 3, 4] and len(_reader_threads()) == before
    it = prefetch(iter(range(100)))
    assert next(it) == 0
    it.close()
    assert len(_reader_threads()) == before
    never_started = prefetch(iter(range(3)))  # the thread starts on the first next()
    assert len(_reader_threads()) == before
    never_started.close()


# --- import hygiene ------------------------------------------------------------------------------------------------


def test_import_and_npy_and_small_csv_do_not_import_pyarrow(tmp_path):
    npy = str(tmp_path / "a.npy")
    np.save(npy, np.eye(3))
    csv_path = write(tmp_path, "a.csv", "y,p\n1,0.5\n")
    code = (
        "import sys\n"
        "import lossctl.io as r, lossctl.io.options\n"
        "assert 'numpy' not in sys.modules, 'import numpy'\n"
        "r.ReadOptions(delimiter='tab')\n"
        "assert 'numpy' not in sys.modules, 'options'\n"
        f"r.read_array({npy!r})\n"
        "assert 'pyarrow' not in sys.modules, 'npy'\n"
        f"r.read_array({csv_path!r})\n"
        "assert 'pyarrow' not in sys.modules, 'small csv'\n"
        "assert 'typer' not in sys.modules and 'rich' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_no_flag_is_spelled_in_the_package():
    """Messages name options through opt(), never a command-line flag."""
    import re
    from pathlib import Path

    import lossctl.io

    pkg = Path(lossctl.io.__file__).parent
    flags = re.compile(r"--[a-z]")
    hits = [f"{p.name}:{i}" for p in sorted(pkg.glob("*.py"))
            for i, line in enumerate(p.read_text().splitlines(), 1) if flags.search(line)]
    assert hits == []

