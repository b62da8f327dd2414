"""lossctl.io on text input: variants, the header rule, bad text, and the two engines agreeing.

All test data is generated into tmp_path at run time (no binary fixtures).
"""
from __future__ import annotations

import io

import numpy as np
import pytest

from lossctl.errors import NO_VALUE, InputError, LossctlError, UsageError
from lossctl.io import ReadOptions, open_source, read_array, sniff

pytest.importorskip("pyarrow")

#: the pyarrow engine with tiny chunks (many chunk boundaries)
ARROW = {"small_text_bytes": 0, "chunk_bytes": 64}
ENGINES = {"python": {}, "arrow": {"small_text_bytes": 0, "chunk_bytes": 16}}


def write(tmp_path, name: str, data: bytes | str) -> str:
    p = tmp_path / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return str(p)


def read(spec, **kw):
    stdin = kw.pop("stdin", None)
    cols = kw.pop("cols", None)
    return read_array(spec, ReadOptions(**kw), cols, stdin=stdin)


def err(exc_type, spec, **kw) -> LossctlError:
    with pytest.raises(exc_type) as ei:
        read(spec, **kw)
    return ei.value


def cli_flag(name, value):
    """How a command line would spell an option reference (enough of it for these messages)."""
    flag = "--" + name.replace("_", "-")
    if value is NO_VALUE or value is True:
        return flag
    if value is False:
        return f"--no-{name}"
    return f"{flag} {value!r}"


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
def test_text_variants_read_the_same(tmp_path, name, content, engine):
    data, src = read(write(tmp_path, name, content), **ENGINES[engine])
    assert src.kind == "text" and src.has_header and src.columns == ["y", "p"] and src.nrows is None
    assert data.dtype == np.float64
    np.testing.assert_array_equal(data, EXPECTED)
    ydata, _ = read(src.name, cols="y", **ENGINES[engine])
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
    with pytest.raises(UsageError, match="unknown delimiter") as ei:
        ReadOptions(delimiter="|")
    assert ei.value.option == "delimiter"
    with pytest.raises(UsageError):
        ReadOptions(block_rows=0)


def test_empty_cells_are_nan_and_missing_spellings(tmp_path):
    data, _ = read(write(tmp_path, "m.csv", "a,b\n1,\n,2.5\nNA,3\n4,null\n"))
    assert data.dtype == np.float64
    np.testing.assert_array_equal(data, [[1, np.nan], [np.nan, 2.5], [np.nan, 3], [4, np.nan]])


@pytest.mark.parametrize("engine", ["python", "arrow"])
def test_nan_inf_spellings(tmp_path, engine):
    text = "p\nnan\nNaN\nNAN\ninf\nInf\n-inf\nInfinity\n-Infinity\n+inf\n1e-3\n.5\n5.\n"
    data, _ = read(write(tmp_path, "n.csv", text), small_text_bytes=0 if engine == "arrow" else 1 << 20)
    got = data[:, 0]
    assert np.isnan(got[:3]).all()
    assert got[3:].tolist() == [np.inf, np.inf, -np.inf, np.inf, -np.inf, np.inf, 0.001, 0.5, 5.0]


@pytest.mark.parametrize("engine", ["python", "arrow"])
def test_int64_exact_and_huge_ints(tmp_path, engine):
    kw = {"small_text_bytes": 0} if engine == "arrow" else {}
    big = 2**63 - 1
    data, _ = read(write(tmp_path, "i.csv", f"y\n{big}\n{-big}\n{2**53 + 1}\n"), **kw)
    assert data.dtype == np.int64 and data[:, 0].tolist() == [big, -big, 2**53 + 1]
    data, _ = read(write(tmp_path, "f.csv", f"y\n1\n{2**64}\n"), **kw)  # beyond int64: a float
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


def test_string_label_block_mixed_with_numbers(tmp_path):
    data, _ = read(write(tmp_path, "s.csv", "label,p\ncat,0.5\ndog,0.25\ncat,1\n"))
    assert data.dtype.kind == "U" and data[:, 0].tolist() == ["cat", "dog", "cat"]
    assert data[:, 1].astype(float).tolist() == [0.5, 0.25, 1.0]


# --- header rule -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content,has_header,first",
    [
        ("cat\ndog\ncat\n", False, "cat"),  # string labels: the first row is data
        ("label\ncat\ndog\ncat\n", True, "cat"),  # a name that never reappears above repeating labels
        ("label\ncat\ndog\n", False, "label"),  # too short to tell: data (use header=True)
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


# --- bad text input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["python", "arrow"])
@pytest.mark.parametrize(
    "content,line,phrases",
    [
        ("a,b,c,d\n1,2,3,4\n5,6,7\n", 3, ["3 fields, expected 4", "missing or extra delimiter"]),
        ("a,b\n1,2\n3,\"4\n5,6\n", 3, ["unbalanced quote", "close the quote"]),
        ("a;b\n0,5;0,25\n", 2, ["decimal comma", "delimiter=';'"]),
        ('a,b\n"1,234.5",2\n', 2, ["thousands separator", "decimal point"]),
        ("a,b\n1,2\n1,2,5\n", 3, ["3 fields, expected 2", "decimal comma or thousands", "use delimiter"]),
        ("y,p\n" + "1,0.5\n" * 30 + "2,abc\n", 32, ["'abc' in column 'p' is not a number", "fix this value"]),
        ("y\n" + "1\n" * 30 + "1,5\n", 32, ["2 fields, expected 1"]),
    ],
)
def test_bad_text_names_file_line_and_fix(tmp_path, monkeypatch, engine, content, line, phrases):
    kw = {"small_text_bytes": 0, "chunk_bytes": 40} if engine == "arrow" else {}
    monkeypatch.setattr(sniff, "SNIFF_BYTES", 64)  # the bad line lies beyond the sniffed part
    path = write(tmp_path, "bad.csv", content)
    e = err(InputError, path, **kw)
    msg = str(e)
    assert e.source == path and msg.startswith(path)
    assert e.location == f"line {line}", msg
    # one header line: line N is data row N - 2 (an unbalanced quote found while sniffing, before
    # the header is decided, has no row)
    assert e.row == (None if "unbalanced quote" in phrases else line - 2), msg
    for p in phrases:
        assert p.lower() in msg.lower(), msg
    assert "--" not in msg  # the library names options, never command-line flags


def test_messages_name_options_not_flags(tmp_path):
    """The hints refer to options through opt(): Python users read header=False and
    delimiter=';', the CLI renders the same reference as its flag."""
    e = err(InputError, write(tmp_path, "h.csv", "p1,p2,p3\n"))
    assert "use header=False" in str(e) and "--" not in str(e)
    assert "use --no-header" in e.render(flag=cli_flag)
    e = err(InputError, write(tmp_path, "d.csv", "a;b\n0,5;0,25\n"))
    assert "use --delimiter ';'" in e.render(flag=cli_flag)


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
        (b"p1,p2,p3\n", ["no data rows", "only a header", "header=False"]),
        (b"p1,p2,p3\n\n\n", ["no data rows", "only a header"]),
        ("y,p\n1,0.5\n".encode("utf-16"), ["UTF-16", "iconv -f UTF-16 -t UTF-8"]),
        ("y,p\n1,0.5\n".encode("utf-16-le"), ["UTF-16", "iconv"]),
        (bytes(range(256)) * 8, ["not a text file"]),
        (b"\x93NUMPY\x01\x00garbage", ["not a text file", ".npy"]),
        (__import__("gzip").compress(b"y\n1\n" * 100, mtime=0)[:20], ["gzip data is corrupt",
                                                                        "gzip -t FILE"]),
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


# --- pyarrow engine specifics -----------------------------------------------------------------------------------------


def test_int_column_turning_fractional_later(tmp_path, monkeypatch):
    """pyarrow infers nothing here: an int column that holds 2.5 later is re-read as text."""
    monkeypatch.setattr(sniff, "SNIFF_BYTES", 64)
    big = 2**62 + 1
    rows = [f"{i % 5},{i}" for i in range(200)] + ["2.5,7", "4,8", " 3 ,9", ",10"]
    rows[100] = f"{big},100"
    path = write(tmp_path, "late.csv", "y,i\n" + "\n".join(rows) + "\n")
    with open_source(path, ReadOptions(block_rows=50, small_text_bytes=0, chunk_bytes=256)) as src:
        blocks = list(src.blocks([0]))
    assert blocks[0].data.dtype == np.int64  # early blocks keep exact int64
    assert blocks[2].data.dtype == np.int64 and blocks[2].data[0, 0] == big  # exact, not via float
    got = np.concatenate([b.data for b in blocks])[:, 0]
    assert got[:100].tolist() == [i % 5 for i in range(100)] and got[101:200].tolist() == [i % 5 for i in range(101, 200)]
    assert got[200] == 2.5 and got[201] == 4 and got[202] == 3 and np.isnan(got[203])


def test_blank_lines_locations_across_chunks(tmp_path):
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
    data, src = read(path, **ARROW)
    assert data[:, 0].tolist() == list(range(60))
    assert [src.location(i) for i in range(60)] == [f"line {n}" for n in expect_lines]
    # and an error after blank lines names the right line (and data row)
    bad = lines + ["1,2,3"]
    e = err(InputError, write(tmp_path, "b2.csv", "\n".join(bad) + "\n"), **ARROW)
    assert e.location == f"line {len(bad)}" and e.row == 60


def test_byte_chunks_are_arrow_buffers_cut_at_line_ends():
    """pyarrow is never handed Python-owned memory (see lossctl.io.text_arrow)."""
    import pyarrow as pa

    from lossctl.io.text_arrow import byte_chunks

    text = b"".join(b"%d,%s\n" % (i, b"x" * (i % 13)) for i in range(500)) + b"tail"
    chunks = list(byte_chunks(io.BytesIO(text), 64))
    assert all(isinstance(c, pa.Buffer) for c in chunks)
    assert b"".join(c.to_pybytes() for c in chunks) == text
    assert all(c.to_pybytes().endswith(b"\n") for c in chunks[:-1])
    long_line = b"y\n" + b"9" * 1000 + b"\n1\n"  # a line longer than the buffer grows it
    assert b"".join(c.to_pybytes() for c in byte_chunks(io.BytesIO(long_line), 16)) == long_line


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
        kw = {"small_text_bytes": 1 << 20, "chunk_bytes": 1 << 20} if small else {"small_text_bytes": 0, "chunk_bytes": 16}
        try:
            data, src = read("-", stdin=io.BytesIO(content), block_rows=2, **kw)
            return ("ok", src.columns, data.dtype.kind, data.tolist(), [src.location(i) for i in range(len(data))])
        except LossctlError as e:
            return (type(e).__name__, str(e), e.location, e.row)

    assert repr(run(True)) == repr(run(False))


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


def test_random_text_engines_agree():
    import random

    rng = random.Random(1234)

    def run(data, small, chunk):
        options = ReadOptions(block_rows=3, small_text_bytes=(1 << 20) if small else 0, chunk_bytes=chunk)
        try:
            with open_source("-", options, stdin=io.BytesIO(data)) as src:
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


# --- the wide-row engine ------------------------------------------------------------------------


@pytest.fixture
def all_wide(monkeypatch):
    """Every text input read by the wide-row engine (its sniffing and its reading)."""
    from lossctl.io import text_wide

    monkeypatch.setattr(text_wide, "WIDE_FIELDS", 0)


def _outcome(data: bytes, **kw):
    try:
        with open_source("-", ReadOptions(block_rows=3, **kw), stdin=io.BytesIO(data)) as src:
            b = src.read()
            return ("ok", list(src.columns), src.has_header, b.data.dtype.kind,
                    repr(b.data.tolist()), [src.location(i) for i in range(len(b.data))])
    except LossctlError as e:
        return ("error", type(e).__name__, str(e), e.location, e.row)


@pytest.mark.parametrize("content", TRICKY)
@pytest.mark.parametrize("chunk", [16, 1 << 20])
def test_wide_engine_agrees_with_the_python_engine(monkeypatch, content, chunk):
    expect = _outcome(content)
    from lossctl.io import text_wide

    monkeypatch.setattr(text_wide, "WIDE_FIELDS", 0)
    if expect[0] == "ok":
        with open_source("-", ReadOptions(), stdin=io.BytesIO(content)) as src:
            assert src.layout.wide
    assert _outcome(content, chunk_bytes=chunk) == expect
    assert _outcome(content, chunk_bytes=chunk, small_text_bytes=0) == expect


def test_wide_engine_agrees_on_random_text(monkeypatch):
    import random

    from lossctl.io import text_wide

    rng = random.Random(99)
    cases = [_random_text(rng) for _ in range(300)]
    expect = [_outcome(data) for data in cases]
    monkeypatch.setattr(text_wide, "WIDE_FIELDS", 0)
    for data, want in zip(cases, expect):
        assert _outcome(data, chunk_bytes=rng.choice([16, 64, 4096])) == want, data


@pytest.mark.parametrize(
    "content,line,phrases",
    [
        ("a,b,c,d\n1,2,3,4\n5,6,7\n", 3, ["3 fields, expected 4", "missing or extra delimiter"]),
        ("a,b\n1,2\n3,\"4\n5,6\n", 3, ["unbalanced quote", "close the quote"]),
        ('a,b\n"1,234.5",2\n', 2, ["thousands separator", "decimal point"]),
        ("y,p\n" + "1,0.5\n" * 30 + "2,abc\n", 32, ["'abc' in column 'p' is not a number"]),
        ("y\n" + "1\n" * 30 + "1,5\n", 32, ["2 fields, expected 1"]),
        ("y,p\n" + "1,0.5\n" * 30 + "2,0.5\r7\n", 32, ["stray carriage return"]),
        (b"y,p\n" + b"1,0.5\n" * 30 + b"2,caf\xe9\n", 32, ["not valid UTF-8"]),
        ("a,b\n" + "1,2,\n" * 20 + "1,2,3\n", 22, ["value '3' after the last column"]),
        ("a,b\n" + "1,2\n" * 30 + "1,\n", None, []),  # an empty cell is NaN: no error
    ],
)
def test_wide_engine_bad_text_names_the_line(tmp_path, monkeypatch, all_wide, content, line, phrases):
    monkeypatch.setattr(sniff, "SNIFF_BYTES", 64)
    path = write(tmp_path, "bad.csv", content)
    if line is None:
        data, _ = read(path)
        assert np.isnan(data[-1, 1]) and data[0].tolist() == [1, 2]
        return
    e = err(InputError, path)
    assert e.location == f"line {line}", str(e)
    for p in phrases:
        assert p.lower() in str(e).lower(), str(e)


def _wide_csv(tmp_path, k: int, rows: list[list[str]], header: list[str] | None = None) -> str:
    lines = ([",".join(header)] if header else []) + [",".join(r) for r in rows]
    return write(tmp_path, "wide.csv", "\n".join(lines) + "\n")


def test_wide_file_with_header_and_a_label_column(tmp_path):
    k = 5000
    header = ["label"] + [f"p{j}" for j in range(k)]
    rows = [["cat"] + ["0.5"] * k, ["dog"] + ["0.25"] * (k - 1) + ["nan"], ["cat"] + ["1"] * k]
    path = _wide_csv(tmp_path, k, rows, header)
    with open_source(path) as src:
        assert src.layout.wide and src.has_header and len(src.columns) == k + 1
        assert src.columns[0] == "label" and src.columns[k] == f"p{k - 1}"
        assert src.columns == header  # lazily made names compare equal to the list
        assert src.select(None) == range(k + 1)
        assert src.select("p4999,label") == [k, 0]
        assert src.layout.kinds[0] == "str" and set(src.layout.kinds[1:]) == {"float"}
        p = src.read(range(1, k + 1)).data
        labels = src.read(src.select("label")).data
    assert p.dtype == np.float64 and p.shape == (3, k)
    assert p[0].tolist() == [0.5] * k and np.isnan(p[1, -1]) and p[1, 0] == 0.25
    assert labels[:, 0].tolist() == ["cat", "dog", "cat"]


def test_wide_integers_stay_int64_and_big_ones_become_floats(tmp_path):
    k = 3000
    rows = [[str(j) for j in range(k)], [str(-j) for j in range(k)]]
    data, src = read(_wide_csv(tmp_path, k, rows))
    assert src.layout.wide and data.dtype == np.int64
    assert data[0].tolist() == list(range(k)) and data[1, -1] == -(k - 1)
    rows[1][5] = str(2**63 - 1)  # numpy clamps at the int64 limit: the rules decide
    rows[1][6] = str(2**64)  # beyond int64: a float (as the other engines)
    data, _ = read(_wide_csv(tmp_path, k, rows), small_text_bytes=0)
    assert data.dtype == np.float64 and data[1, 6] == float(2**64)


def test_wide_quoted_lines_and_whitespace_files(tmp_path):
    k = 2500
    header = ",".join(f'"c{j}"' for j in range(k))
    text = header + "\n" + ",".join(['"1"'] * k) + "\n" + ",".join(["2"] * k) + "\n"
    data, src = read(write(tmp_path, "q.csv", text))
    assert src.layout.wide and src.columns[:2] == ["c0", "c1"] and data[:, -1].tolist() == [1, 2]
    ws = "\n".join("   " + "  ".join(["0.5"] * k) + "  " for _ in range(3)) + "\n"
    data, src = read(write(tmp_path, "ws.txt", ws))
    assert src.layout.wide and src.layout.delimiter == " " and data.shape == (3, k)


def test_wide_sniffing_decides_kinds_without_a_python_object_per_cell(tmp_path):
    """1M numeric cells: the sniff builds no Counter or string per cell (it took 4 GB)."""
    import tracemalloc

    k = 1_000_000
    line = ",".join(["0.5"] * k)
    path = write(tmp_path, "w.csv", line + "\n" + line.replace("0.5", "7") + "\n")
    tracemalloc.start()
    try:
        with open_source(path) as src:
            _, peak = tracemalloc.get_traced_memory()
            assert src.layout.wide and len(src.columns) == k and src.layout.kinds[0] == "float"
    finally:
        tracemalloc.stop()
    assert peak < 64 << 20  # the 8 MB sample, its lines, and one byte per cell


def test_wide_pieces_give_the_blocks(tmp_path):
    k = 3000
    rng = np.random.default_rng(1)
    a = rng.random((4, k)).round(5)
    path = write(tmp_path, "p.csv", "\n".join(",".join(map(repr, r)) for r in a.tolist()) + "\n")
    with open_source(path) as src:
        pieces = list(src.pieces(max_cells=1000))
        sub = list(src.pieces(list(range(10, 2010)) + [5, 6], max_cells=700))
    assert [(p.start, p.col, p.last, p.data.shape) for p in pieces[:3]] == [
        (0, 0, False, (1, 1000)), (0, 1000, False, (1, 1000)), (0, 2000, True, (1, 1000))]
    got = np.concatenate([np.concatenate([p.data for p in pieces[i * 3:(i + 1) * 3]], axis=1)
                          for i in range(4)])
    np.testing.assert_array_equal(got, a)
    assert [p.data.shape[1] for p in sub[:3]] == [700, 700, 602]
    row0 = np.concatenate([p.data for p in sub[:3]], axis=1)[0]
    np.testing.assert_array_equal(row0, np.concatenate([a[0, 10:2010], a[0, [5, 6]]]))


def test_wide_bad_cell_in_a_later_piece_names_line_and_column(tmp_path, monkeypatch):
    monkeypatch.setattr(sniff, "SNIFF_BYTES", 64)  # the header and line 2 are sniffed
    k = 3000
    rows = [["0"] * k, ["0"] * k]
    rows[1][2500] = "x"
    with open_source(_wide_csv(tmp_path, k, rows, [f"c{j}" for j in range(k)])) as src, \
            pytest.raises(InputError) as ei:
        list(src.pieces(max_cells=1000))
    assert ei.value.location == "line 3" and ei.value.row == 1
    assert "'x' in column 'c2500' is not a number" in str(ei.value)
