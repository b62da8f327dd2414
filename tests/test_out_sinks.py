"""lossctl.out: the package layout (cheap imports, no rich), open_sink, the table writer without
and with an injected renderer, and 1-D NPY vectors."""
from __future__ import annotations

import io
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import lossctl.out
from lossctl import render
from lossctl.errors import UsageError
from lossctl.out import FORMATS, Sink, open_sink

OUT = pathlib.Path(lossctl.out.__file__).parent


def run(code: str) -> str:
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return res.stdout.strip()


# --- the package ---------------------------------------------------------------------------------


def test_importing_the_package_and_formats_loads_no_numpy_or_rich():
    code = (
        "import sys, lossctl.out, lossctl.out.formats\n"
        "from lossctl.out import FORMATS, resolve_format\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'rich', 'typer')))"
    )
    assert run(code) == "[]"


def test_library_table_without_renderer_loads_no_rich():
    code = (
        "import sys, io, numpy as np\n"
        "from lossctl.out import open_sink, json_document, write_json, write_value\n"
        "s = io.StringIO()\n"
        "with open_sink('table', ['x'], stdout=s) as t: t.write(np.arange(3))\n"
        "with json_document(stdout=s) as d: d.field('a', 1)\n"
        "write_json({'a': 1}, stdout=s); write_value(1.5, stdout=s)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'typer')))\n"
        "print('lossctl.render' in sys.modules)"
    )
    assert run(code) == "[]\nFalse"


def test_no_module_imports_rich_typer_or_render():
    pattern = re.compile(r"^\s*(from|import)\s+(rich|typer|lossctl\.render|lossctl import render)",
                         re.MULTILINE)
    for path in OUT.glob("*.py"):
        assert not pattern.search(path.read_text(encoding="utf-8")), path.name


def test_no_message_spells_a_command_line_flag():
    # option references go through lossctl.errors.opt(); only the CLI renders them as flags
    flag = re.compile(r"""["'][^"'\n]*(\s|\()(-[a-zA-Z]|--[a-z][a-z-]+)\b""")
    for path in OUT.glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "mkdir -p" in line:  # a shell command, not a lossctl flag
                continue
            assert not flag.search(line), f"{path.name}: {line.strip()}"


def test_public_names_resolve():
    for name in lossctl.out.__all__:
        assert getattr(lossctl.out, name) is not None
    assert set(lossctl.out.__all__) <= set(dir(lossctl.out))
    with pytest.raises(AttributeError):
        lossctl.out.TableSink  # noqa: B018 - the old class is not part of the API


def test_open_sink_returns_a_writer_of_each_format():
    for fmt in FORMATS:
        stdout = io.BytesIO() if fmt in ("npy", "parquet") else io.StringIO()
        sink = open_sink(fmt, ["x"], stdout=stdout)
        assert isinstance(sink, Sink) and sink.fmt == fmt and sink.rows_written == 0
        with sink:
            sink.write(np.arange(2))
        assert sink.rows_written == 2
        with pytest.raises(ValueError, match="closed"):
            sink.write(np.arange(2))
    with pytest.raises(ValueError, match="fmt must be one of"):
        open_sink("xml", ["x"])
    with pytest.raises(ValueError, match="nrows"):
        open_sink("csv", ["x"], nrows=-1)


def test_close_and_abort_without_with(tmp_path):
    target = tmp_path / "x.csv"
    target.write_text("old\n")
    sink = open_sink("csv", ["x"], output=str(target))
    sink.write(np.arange(2))
    sink.abort()
    assert target.read_text() == "old\n" and sink.rows_written == 2
    sink = open_sink("csv", ["x"], output=str(target))
    sink.write(np.arange(2))
    sink.close()
    sink.close()  # twice is fine
    assert target.read_text() == "x\n0\n1\n"


# --- table without a renderer: plain aligned text ------------------------------------------------


def table_text(*cols, columns, **kwargs) -> str:
    out = io.StringIO()
    with open_sink("table", columns, stdout=out, **kwargs) as sink:
        sink.write(*cols)
    return out.getvalue()


def test_plain_table_exact():
    text = table_text(
        np.array([1, 2, 3]), np.array([0.1 + 0.2, np.nan, np.inf]), np.array([1e-300, 3.0, -0.5]),
        columns=["label", "p0", "p1"], title="losses", precision=3,
    )
    assert text == (
        "losses\n"
        "label   p0      p1\n"
        "-----  ---  ------\n"
        "    1  0.3  1e-300\n"
        "    2  nan       3\n"
        "    3  inf    -0.5\n"
    )


def test_plain_table_text_left_aligned_no_header_wide_characters():
    text = table_text(np.array(["cat", "猫猫"]), np.array([10, 2]), columns=["name", "n"],
                      header=False)
    assert text == "cat   10\n猫猫   2\n"
    assert table_text(np.zeros((0, 1)), columns=["x"]) == "x\n-\n"


def test_plain_table_into_file(tmp_path):
    target = tmp_path / "t.txt"
    with open_sink("table", ["x"], output=str(target)) as sink:
        sink.write(np.arange(3))
    assert target.read_text(encoding="utf-8") == "x\n-\n0\n1\n2\n"


# --- table with an injected renderer -------------------------------------------------------------


def test_renderer_receives_rows_and_plain_for_files(tmp_path):
    calls = []

    def renderer(columns, rows, *, title, precision, show_header, file, plain):
        calls.append((columns, rows, title, precision, show_header, plain))
        file.write("drawn\n")

    out = io.StringIO()
    with open_sink("table", ["a", "b"], stdout=out, renderer=renderer, title="t", precision=3,
                   header=False) as sink:
        sink.write(np.array([1, 2]), np.array([0.5, 1.5]))
        sink.write(np.array([3]), np.array([2.5]))
        assert calls == []  # drawn at close
    assert out.getvalue() == "drawn\n"
    assert calls == [(["a", "b"], [[1, 0.5], [2, 1.5], [3, 2.5]], "t", 3, False, False)]
    target = tmp_path / "t.txt"
    with open_sink("table", ["a"], output=str(target), renderer=renderer) as sink:
        sink.write(np.array([1]))
    assert calls[-1][-1] is True and target.read_text() == "drawn\n"


def test_renderer_failure_leaves_the_file_untouched(tmp_path):
    def renderer(*args, **kwargs):
        raise RuntimeError("cannot draw")

    target = tmp_path / "t.txt"
    target.write_text("old\n")
    with pytest.raises(RuntimeError):
        with open_sink("table", ["a"], output=str(target), renderer=renderer) as sink:
            sink.write(np.array([1]))
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]


def test_rich_renderer_plain_ignores_force_color(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.delenv("NO_COLOR", raising=False)

    def draw(plain: bool) -> str:
        out = io.StringIO()
        render.table_renderer()(["x"], [[1]], title=None, precision=6, show_header=True,
                                file=out, plain=plain)
        return out.getvalue()

    assert "\x1b[" in draw(plain=False)  # bold heading on a forced terminal
    assert "\x1b" not in draw(plain=True) and "┃ x ┃" in draw(plain=True)


def test_rich_renderer_plain_does_not_wrap():
    out = io.StringIO()
    render.table_renderer()(["x"], [["w" * 500]], title=None, precision=6, show_header=True,
                            file=out, plain=True)
    assert "w" * 500 in out.getvalue()


# --- NPY vectors ---------------------------------------------------------------------------------


def npy_of(sink_kwargs, *blocks) -> np.ndarray:
    out = io.BytesIO()
    with open_sink("npy", ["y"], stdout=out, **sink_kwargs) as sink:
        for b in blocks:
            sink.write(b)
    return np.load(io.BytesIO(out.getvalue()), allow_pickle=False)


@pytest.mark.parametrize("nrows", [None, 5])
def test_npy_vector_is_1d(nrows):
    labels = np.array([3, 1, 4, 1, 5])
    back = npy_of({"vector": True, "nrows": nrows}, labels[:2], labels[2:])
    assert back.shape == (5,) and back.dtype == np.int64
    assert np.array_equal(back, labels)
    assert npy_of({"nrows": nrows}, labels[:2], labels[2:]).shape == (5, 1)


def test_npy_vector_to_file_fixed_up_and_bytes_like_np_save(tmp_path):
    losses = np.random.default_rng(3).random(9)
    target = tmp_path / "loss.npy"
    with open_sink("npy", ["loss"], output=str(target), vector=True) as sink:
        for i in range(0, 9, 4):
            sink.write(losses[i : i + 4])
    back = np.load(target, allow_pickle=False)
    assert back.shape == (9,) and np.array_equal(back, losses)
    buf = io.BytesIO()
    np.save(buf, losses)
    out = io.BytesIO()
    with open_sink("npy", ["loss"], stdout=out, vector=True, nrows=9) as sink:
        sink.write(losses)
    assert out.getvalue() == buf.getvalue()
    assert npy_of({"vector": True}).shape == (0,)


def test_vector_takes_one_column():
    with pytest.raises(ValueError, match="one column"):
        open_sink("npy", ["a", "b"], stdout=io.BytesIO(), vector=True)
    text = io.StringIO()
    with open_sink("csv", ["y"], stdout=text, vector=True) as sink:  # other formats: one column
        sink.write(np.array([1, 2]))
    assert text.getvalue() == "y\n1\n2\n"


def test_npy_text_column_hint_names_the_format_option():
    with pytest.raises(UsageError) as info:
        with open_sink("npy", ["y"], stdout=io.BytesIO()) as sink:
            sink.write(np.array(["cat"]))
    assert "format='csv'" in str(info.value) and "-f" not in str(info.value)


# --- rows written in column pieces ----------------------------------------------------------------


@pytest.mark.parametrize("fmt,sep", [("csv", ","), ("tsv", "\t")])
def test_write_row_pieces_csv_tsv(fmt, sep):
    from lossctl.io.source import NumberedNames

    out = io.StringIO()
    with open_sink(fmt, NumberedNames(6, 0), stdout=out, header=True) as sink:
        sink.write_row_pieces([np.array([0, 1]), np.array([], dtype=np.int64), np.array([0, 0, 0, 1])])
        sink.write_row_pieces(iter([np.array([0.5, 0.25, 12.0]), np.array([0.0, np.nan, 1e-300])]))
        sink.write(np.arange(6)[None, :])  # whole rows mix with pieces
    lines = [x.split(sep) for x in out.getvalue().splitlines()]
    assert lines == [list("012345"), list("010001"), ["0.5", "0.25", "12.0", "0.0", "nan", "1e-300"],
                     list("012345")]
    assert sink.rows_written == 3


def test_write_row_pieces_quotes_text_cells():
    out = io.StringIO()
    with open_sink("csv", ["a", "b", "c"], stdout=out, header=False) as sink:
        sink.write_row_pieces([np.array(["x,y"]), np.array(['say "hi"', "plain"])])
    assert out.getvalue() == '"x,y","say ""hi""",plain\n'


def test_write_row_pieces_npy_is_numpy_save_of_the_rows(tmp_path):
    from lossctl.io.source import NumberedNames

    path = tmp_path / "w.npy"
    rows = np.arange(20).reshape(2, 10)
    with open_sink("npy", NumberedNames(10), output=path) as sink:  # no nrows: header fixed up
        for r in rows:
            sink.write_row_pieces(np.array_split(r, 3))
    assert np.load(path).tolist() == rows.tolist() and np.load(path).dtype == np.int64
    out = io.BytesIO()
    with open_sink("npy", ["a", "b", "c"], stdout=out, nrows=1) as sink:
        sink.write_row_pieces([np.array([0.5]), np.array([1, 2])])  # the first piece decides
    assert np.load(io.BytesIO(out.getvalue())).tolist() == [[0.5, 1.0, 2.0]]


def test_write_row_pieces_must_give_the_row():
    sink = open_sink("csv", ["a", "b", "c"], stdout=io.StringIO())
    with pytest.raises(ValueError, match="2 values written as a row of 3"):
        sink.write_row_pieces([np.array([1, 2])])
    sink = open_sink("csv", ["a", "b", "c"], stdout=io.StringIO())
    with pytest.raises(ValueError, match="row of 3"):
        sink.write_row_pieces([np.array([1, 2]), np.array([3, 4])])
    sink = open_sink("npy", ["a", "b"], stdout=io.BytesIO(), nrows=1)
    with pytest.raises(ValueError, match="float columns written after"):
        sink.write_row_pieces([np.array([1]), np.array([0.5])])


@pytest.mark.parametrize("fmt", ["json", "jsonl", "table"])
def test_formats_that_cannot_stream_a_row_refuse_wide_rows(tmp_path, fmt):
    from lossctl.io.source import NumberedNames

    with pytest.raises(UsageError, match="too wide for") as ei:
        open_sink(fmt, NumberedNames(10**8), output=tmp_path / "x.out", max_cells=1 << 20)
    assert ei.value.option == "format" and "format='csv'" in str(ei.value)
    assert "format='npy'" in str(ei.value) and not list(tmp_path.iterdir())
    open_sink(fmt, ["a", "b"], max_cells=4)  # narrow rows are fine
    sink = open_sink(fmt, ["a", "b"], stdout=io.StringIO())
    with pytest.raises(UsageError, match="too wide"):
        sink.write_row_pieces([np.array([1, 2])])
