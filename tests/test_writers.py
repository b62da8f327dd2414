"""Tests for lossctl.out: formats, precision, strict JSON, atomic files, refusals.

(The tests of the modules that lossctl.out added are in tests/test_out_*.py.)
"""
from __future__ import annotations

import errno
import io
import json
import os
import sys

import numpy as np
import pytest

from lossctl import render
from lossctl.errors import (
    NO_VALUE,
    ExitCode,
    LossctlWarning,
    OutputError,
    UsageError,
    opt,
)
from lossctl.out import (
    FORMATS,
    TEMP_PREFIX,
    atomic_open,
    check_output,
    format_number,
    open_sink,
    resolve_format,
    write_json,
    write_value,
)
from lossctl.out import files as out_files
from lossctl.out import npy as out_npy

LABELS = np.array([1, 2, 3], dtype=np.int64)
PROBS = np.array([[0.1 + 0.2, 1e-300], [np.nan, 3.0], [np.inf, -0.5]])
COLUMNS = ["label", "p0", "p1"]


def temp_files(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(TEMP_PREFIX)]


def cli_flag(name, value) -> str:
    """A stand-in for the CLI's rendering of option references: ``--name [value]``."""
    flag = "--" + name.replace("_", "-")
    return flag if value is NO_VALUE else f"{flag} {value}"


def sink_text(fmt: str, *blocks, columns=COLUMNS, **kwargs) -> str:
    out = io.StringIO()
    if fmt == "table":  # the rich table, as the CLI draws it
        kwargs.setdefault("renderer", render.table_renderer())
    with open_sink(fmt, columns, stdout=out, **kwargs) as sink:
        for block in blocks:
            sink.write(*block)
    return out.getvalue()


class TTYBytes(io.BytesIO):
    def isatty(self) -> bool:
        return True


class NonSeekable(io.RawIOBase):
    """A write-only pipe-like binary stream: tell/seek fail, like sys.stdout.buffer on a pipe."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def write(self, b) -> int:
        self.chunks.append(bytes(b))
        return len(b)

    def tell(self):
        raise io.UnsupportedOperation("not seekable")

    def seek(self, *args):
        raise io.UnsupportedOperation("not seekable")

    def value(self) -> bytes:
        return b"".join(self.chunks)


# --- resolve_format ------------------------------------------------------------------------------


def test_formats_constant():
    assert FORMATS == ("table", "csv", "tsv", "json", "jsonl", "npy", "parquet")


@pytest.mark.parametrize(
    "output, expected",
    [
        ("out.csv", "csv"),
        ("out.txt", "csv"),
        ("out.tsv", "tsv"),
        ("out.tab", "tsv"),
        ("out.json", "json"),
        ("out.jsonl", "jsonl"),
        ("out.ndjson", "jsonl"),
        ("out.npy", "npy"),
        ("dir/OUT.CSV", "csv"),
        ("a.b/out.NPY", "npy"),
    ],
)
def test_resolve_format_from_extension(output, expected):
    assert resolve_format(None, output, stdout_isatty=True) == expected
    assert resolve_format(None, output, stdout_isatty=False) == expected


def test_resolve_format_explicit_wins():
    assert resolve_format("json", "out.csv", stdout_isatty=False) == "json"
    assert resolve_format("CSV", None, stdout_isatty=True) == "csv"
    assert resolve_format("table", None, stdout_isatty=False) == "table"
    assert resolve_format("npy", "out.csv", stdout_isatty=True) == "npy"


def test_resolve_format_stdout_tty_or_plain():
    assert resolve_format(None, None, stdout_isatty=True) == "table"
    assert resolve_format(None, None, stdout_isatty=False) == "csv"
    assert resolve_format("auto", "-", stdout_isatty=False) == "csv"
    assert resolve_format(None, None, stdout_isatty=False, plain="jsonl") == "jsonl"


@pytest.mark.parametrize("output", ["out.xlsx", "out", "out.csv.gz"])
def test_resolve_format_unknown_extension(output):
    with pytest.raises(UsageError) as info:
        resolve_format(None, output, stdout_isatty=False)
    text = str(info.value)
    assert info.value.exit_code == ExitCode.USAGE
    assert output in text
    for ext in (".csv", ".tsv", ".tab", ".txt", ".json", ".jsonl", ".ndjson", ".npy"):
        assert ext in text
    assert opt("format") in info.value.hint  # names the option, not a flag
    assert "--format" in info.value.render(flag=cli_flag) and "--" not in text


def test_resolve_format_unknown_format():
    with pytest.raises(UsageError, match="xml"):
        resolve_format("xml", None, stdout_isatty=False)


def test_resolve_format_npy_to_terminal_refused():
    with pytest.raises(UsageError) as info:
        resolve_format("npy", None, stdout_isatty=True)
    assert info.value.exit_code == 2
    assert "refusing to write binary NPY to a terminal" in str(info.value)
    assert opt("output", "out.npy") in info.value.hint
    assert "--output out.npy" in info.value.render(flag=cli_flag)
    # a file, or a pipe, is fine
    assert resolve_format("npy", None, stdout_isatty=False) == "npy"
    assert resolve_format(None, "x.npy", stdout_isatty=True) == "npy"


# --- check_output --------------------------------------------------------------------------------


def test_check_output_accepts_new_file_and_stdout(tmp_path):
    inp = tmp_path / "labels.csv"
    inp.write_text("1\n")
    check_output(None, [str(inp)])
    check_output("-", [str(inp), "-"])
    check_output(str(tmp_path / "out.csv"), [str(inp), "-"])


def test_check_output_refuses_an_input(tmp_path, monkeypatch):
    inp = tmp_path / "labels.csv"
    inp.write_text("1\n")
    monkeypatch.chdir(tmp_path)
    for spelling in (str(inp), "labels.csv", "./labels.csv", "../" + tmp_path.name + "/labels.csv"):
        with pytest.raises(OutputError) as info:
            check_output(spelling, ["-", str(inp)])
        assert "same file as the input" in str(info.value)
        assert info.value.exit_code == 1


def test_check_output_refuses_links_to_an_input(tmp_path):
    inp = tmp_path / "labels.csv"
    inp.write_text("1\n")
    (tmp_path / "sym.csv").symlink_to(inp)
    os.link(inp, tmp_path / "hard.csv")
    for out in ("sym.csv", "hard.csv"):
        with pytest.raises(OutputError, match="same file"):
            check_output(str(tmp_path / out), [str(inp)])
    # and the other way round: the input is the link
    with pytest.raises(OutputError, match="same file"):
        check_output(str(inp), [str(tmp_path / "sym.csv")])


def test_check_output_npz_key_input(tmp_path):
    npz = tmp_path / "data.npz"
    np.savez(npz, labels=np.arange(3))
    with pytest.raises(OutputError, match="same file"):
        check_output(str(npz), [f"{npz}:labels"])
    check_output(str(tmp_path / "other.npz"), [f"{npz}:labels"])


def test_check_output_missing_folder(tmp_path):
    out = tmp_path / "no" / "such" / "out.csv"
    with pytest.raises(OutputError) as info:
        check_output(str(out), [])
    text = str(info.value)
    assert "does not exist" in text
    assert "mkdir -p" in text and str(tmp_path / "no" / "such") in text


def test_check_output_is_a_folder(tmp_path):
    with pytest.raises(OutputError, match="is a folder"):
        check_output(str(tmp_path), [])


# --- format_number -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "x", [0.1 + 0.2, 1e-300, 5e-324, 1.7976931348623157e308, -0.0, 1 / 3, 2.0, 1e16, 123456789.123]
)
def test_format_number_round_trips_floats(x):
    text = format_number(x)
    assert float(text) == x and text == repr(x)
    assert format_number(np.float64(x)) == text


def test_format_number_examples():
    assert format_number(0.1 + 0.2) == "0.30000000000000004"
    assert format_number(1e-300) == "1e-300"
    assert format_number(3) == "3"
    assert format_number(np.int64(-7)) == "-7"
    assert format_number(np.uint8(255)) == "255"
    assert format_number(2**70) == str(2**70)
    assert format_number(True) == "1" and format_number(np.bool_(False)) == "0"
    assert format_number(float("nan")) == "nan"
    assert format_number(np.float64("inf")) == "inf"
    assert format_number(-np.inf) == "-inf"
    assert format_number(np.float32("nan")) == "nan"
    assert format_number(np.float32("-inf")) == "-inf"
    assert format_number(np.array(0.5)) == "0.5"
    assert format_number("cat") == "cat"


def test_format_number_float32_shortest_in_its_precision():
    for v in (0.1, 1e-30, 3.4e38, 1 / 3):
        x = np.float32(v)
        text = format_number(x)
        assert np.float32(text) == x
        assert len(text) <= 15  # not the 17-digit float64 expansion
    assert format_number(np.float32(0.1)) == "0.1"


# --- sinks: exact text of each format --------------------------------------------------------


def test_csv_exact():
    text = sink_text("csv", (LABELS[:2], PROBS[:2]), (LABELS[2:], PROBS[2:]))
    assert text == "label,p0,p1\n1,0.30000000000000004,1e-300\n2,nan,3.0\n3,inf,-0.5\n"


def test_csv_without_header_and_quoting():
    text = sink_text(
        "csv", (np.array(["a,b", "c"]), np.array([1.5, -2.0])), columns=["name", "x"], header=False
    )
    assert text == '"a,b",1.5\nc,-2.0\n'


def test_tsv_exact():
    text = sink_text("tsv", (LABELS, PROBS))
    assert text == "label\tp0\tp1\n1\t0.30000000000000004\t1e-300\n2\tnan\t3.0\n3\tinf\t-0.5\n"


def test_jsonl_exact_and_warning():
    with pytest.warns(LossctlWarning, match=r"2 non-finite values .*null"):
        text = sink_text("jsonl", (LABELS, PROBS))
    assert text == (
        '{"label": 1, "p0": 0.30000000000000004, "p1": 1e-300}\n'
        '{"label": 2, "p0": null, "p1": 3.0}\n'
        '{"label": 3, "p0": null, "p1": -0.5}\n'
    )
    rows = [json.loads(line) for line in text.splitlines()]
    assert rows[0]["p0"] == 0.1 + 0.2 and rows[0]["p1"] == 1e-300


def test_json_exact_streamed_in_blocks():
    with pytest.warns(LossctlWarning, match="2 non-finite"):
        blocks = [(LABELS[:1], PROBS[:1]), (LABELS[1:1], PROBS[1:1]), (LABELS[1:], PROBS[1:])]
        text = sink_text("json", *blocks)
    assert text == (
        "[\n"
        '  {"label": 1, "p0": 0.30000000000000004, "p1": 1e-300},\n'
        '  {"label": 2, "p0": null, "p1": 3.0},\n'
        '  {"label": 3, "p0": null, "p1": -0.5}\n'
        "]\n"
    )

    def no_constants(name):
        raise AssertionError(f"non-strict JSON token {name}")

    assert json.loads(text, parse_constant=no_constants)[2] == {"label": 3, "p0": None, "p1": -0.5}


def test_json_strings_and_empty():
    text = sink_text("json", (np.array(['say "hi"', "dog"]),), columns=["label"])
    assert json.loads(text) == [{"label": 'say "hi"'}, {"label": "dog"}]
    assert sink_text("json") == "[]\n"
    assert sink_text("csv") == "label,p0,p1\n"


def test_json_without_nonfinite_does_not_warn(recwarn):
    sink_text("json", (LABELS, np.ones((3, 2))))
    assert not [w for w in recwarn if issubclass(w.category, LossctlWarning)]


def test_table_exact():
    text = sink_text("table", (LABELS, PROBS), title="losses", precision=3)
    assert text == (
        "         losses         \n"
        "┏━━━━━━━┳━━━━━┳━━━━━━━━┓\n"
        "┃ label ┃  p0 ┃     p1 ┃\n"
        "┡━━━━━━━╇━━━━━╇━━━━━━━━┩\n"
        "│     1 │ 0.3 │ 1e-300 │\n"
        "│     2 │ nan │      3 │\n"
        "│     3 │ inf │   -0.5 │\n"
        "└───────┴─────┴────────┘\n"
    )


def test_table_precision_rounds_only_the_table():
    x = np.array([1 / 3])
    assert "0.333333" in sink_text("table", (x,), columns=["x"])
    assert "│ 0.33 │" in sink_text("table", (x,), columns=["x"], precision=2)
    assert sink_text("csv", (x,), columns=["x"], precision=2) == "x\n0.3333333333333333\n"


def test_table_into_file_is_plain_text_even_with_force_color(tmp_path, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    out = tmp_path / "t.txt"
    with open_sink("table", ["x"], output=str(out), renderer=render.table_renderer()) as sink:
        sink.write(np.arange(3))
    text = out.read_text(encoding="utf-8")
    assert "\x1b" not in text and "┃ x ┃" in text and "│ 2 │" in text


def test_csv_round_trip_is_exact():
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [rng.random(200), rng.standard_normal(200) * 1e-300, rng.standard_normal(200) * 1e300,
         [0.1 + 0.2, 5e-324, -0.0, np.nan, np.inf, -np.inf]]
    )
    text = sink_text("csv", (values,), columns=["x"])
    back = np.array([float(v) for v in text.splitlines()[1:]])
    assert np.array_equal(back, values, equal_nan=True)
    assert np.array_equal(np.signbit(back), np.signbit(values))


def test_float32_columns_written_in_their_own_precision():
    text = sink_text("csv", (np.array([0.1, 0.25], dtype=np.float32),), columns=["x"])
    assert text == "x\n0.1\n0.25\n"


def test_write_shape_checks():
    with open_sink("csv", ["a", "b"], stdout=io.StringIO()) as sink:
        with pytest.raises(ValueError, match="3 columns"):
            sink.write(np.zeros((2, 3)))
        with pytest.raises(ValueError, match="rows"):
            sink.write(np.zeros(2), np.zeros(3))
        with pytest.raises(ValueError, match="1-D or 2-D"):
            sink.write(np.zeros((2, 1, 1)), np.zeros(2))


def test_default_stdout_is_sys_stdout(capsys):
    with open_sink("csv", ["x"]) as sink:
        sink.write(np.array([1, 2]))
    assert capsys.readouterr().out == "x\n1\n2\n"


def test_text_format_to_binary_stream():
    out = io.BytesIO()
    with open_sink("csv", ["name"], stdout=out) as sink:
        sink.write(np.array(["chat", "café"]))
    assert out.getvalue() == "name\nchat\ncafé\n".encode()
    assert not out.closed  # our text wrapper is detached, the caller's stream stays usable


def test_broken_pipe_propagates_as_is():
    class Broken(io.StringIO):
        def write(self, s):
            raise BrokenPipeError(errno.EPIPE, "Broken pipe")

    with pytest.raises(BrokenPipeError):
        with open_sink("csv", ["x"], stdout=Broken()) as sink:
            sink.write(np.arange(3))


def test_full_stdout_is_an_output_error():
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    # unbuffered, so closing the stream afterwards has nothing left to flush
    with open("/dev/full", "wb", buffering=0) as full:
        with pytest.raises(OutputError, match="could not write <stdout>: No space left on device"):
            with open_sink("csv", ["x"], stdout=full) as sink:
                sink.write(np.arange(10))


# --- JSON documents and single values ------------------------------------------------------------


def test_write_json_nan_to_null_with_one_warning():
    out = io.StringIO()
    obj = {
        "loss": np.float64("nan"),
        "per_class": np.array([0.5, np.inf, -np.inf]),
        "n": np.int64(3),
        "name": "mse",
        "ok": True,
        "nested": [(1, float("nan"))],
    }
    with pytest.warns(LossctlWarning) as record:
        write_json(obj, stdout=out)
    assert len(record) == 1 and "4 non-finite values" in str(record[0].message)
    text = out.getvalue()
    assert "NaN" not in text and "Infinity" not in text and text.endswith("}\n")
    assert json.loads(text) == {
        "loss": None, "per_class": [0.5, None, None], "n": 3, "name": "mse", "ok": True,
        "nested": [[1, None]],
    }


def test_write_json_full_precision_to_file(tmp_path, recwarn):
    out = tmp_path / "r.json"
    write_json({"x": 0.1 + 0.2, "tiny": 1e-300}, output=str(out))
    assert json.loads(out.read_text()) == {"x": 0.30000000000000004, "tiny": 1e-300}
    assert not recwarn.list
    assert temp_files(tmp_path) == []


def test_write_value():
    out = io.StringIO()
    write_value(0.1 + 0.2, stdout=out)
    write_value(np.int64(4), stdout=out)
    write_value(np.float64("nan"), stdout=out)
    assert out.getvalue() == "0.30000000000000004\n4\nnan\n"


def test_write_value_to_file(tmp_path):
    out = tmp_path / "v.txt"
    write_value(np.float64(1e-300), output=str(out))
    assert out.read_text() == "1e-300\n"


# --- atomic writes -------------------------------------------------------------------------------


def test_atomic_open_success_replaces_and_keeps_mode(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    os.chmod(target, 0o640)
    with atomic_open(str(target), "w") as f:
        f.write("new\n")
        assert target.read_text() == "old\n"  # not visible before the end
        assert len(temp_files(tmp_path)) == 1
    assert target.read_text() == "new\n"
    assert os.stat(target).st_mode & 0o777 == 0o640
    assert temp_files(tmp_path) == []


def test_atomic_open_new_file_gets_umask_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_open(str(tmp_path / "new.npy")) as f:
            f.write(b"x")
    finally:
        os.umask(umask)
    assert os.stat(tmp_path / "new.npy").st_mode & 0o777 == 0o644


@pytest.mark.parametrize("exc_type", [RuntimeError, KeyboardInterrupt])
def test_atomic_open_failure_leaves_target_untouched(tmp_path, exc_type):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(exc_type), atomic_open(str(target), "w") as f:
        f.write("half a file" * 1000)
        f.flush()
        raise exc_type("boom")
    assert target.read_text() == "old\n"
    assert temp_files(tmp_path) == []


def test_atomic_open_failure_creates_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_open(str(tmp_path / "new.csv"), "w") as f:
            f.write("x")
            raise RuntimeError
    assert os.listdir(tmp_path) == []


def test_atomic_open_keeps_symlink(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    with atomic_open(str(link), "w") as f:
        f.write("new\n")
    assert link.is_symlink() and real.read_text() == "new\n"


def test_atomic_open_unwritable_folder(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="could not write .*Permission denied"):
            with atomic_open(str(folder / "x.csv")) as f:
                f.write(b"x")
    finally:
        folder.chmod(0o700)


def test_atomic_open_cannot_create_temp(tmp_path, monkeypatch):
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(OutputError) as info:
        with atomic_open(str(tmp_path / "x.csv")) as f:
            f.write(b"x")
    assert str(info.value).startswith(f"could not write {tmp_path / 'x.csv'}: Permission denied")
    assert "permission" in info.value.hint or "may write" in info.value.hint


class FullDisk:
    """A file wrapper whose writes fail with ENOSPC once ``limit`` bytes/chars have gone in."""

    def __init__(self, real, limit: int) -> None:
        self.real = real
        self.left = limit

    def write(self, data):
        if len(data) > self.left:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.left -= len(data)
        return self.real.write(data)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def full_disk(monkeypatch):
    real_fdopen = os.fdopen
    def fdopen(fd, *args, **kwargs):
        return FullDisk(real_fdopen(fd, *args, **kwargs), 40)

    monkeypatch.setattr(out_files, "_fdopen", fdopen)


@pytest.mark.parametrize("fmt, ext", [("csv", "csv"), ("jsonl", "jsonl"), ("npy", "npy")])
def test_enospc_mid_stream(tmp_path, full_disk, fmt, ext):
    target = tmp_path / f"out.{ext}"
    target.write_bytes(b"precious")
    with pytest.raises(OutputError) as info:
        with open_sink(fmt, ["a", "b"], output=str(target)) as sink:
            for _ in range(5):
                sink.write(np.arange(10), np.arange(10))
    assert str(info.value).startswith(f"could not write {target}: No space left on device")
    assert info.value.exit_code == 1
    assert target.read_bytes() == b"precious"
    assert temp_files(tmp_path) == []


def test_enospc_in_atomic_open_body(tmp_path, full_disk):
    target = tmp_path / "out.json"
    with pytest.raises(OutputError, match="No space left on device"):
        with atomic_open(str(target), "w") as f:
            f.write("x" * 100)
    assert os.listdir(tmp_path) == []


def test_enospc_at_fsync(tmp_path, monkeypatch):
    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(out_files.os, "fsync", fsync)
    target = tmp_path / "v.txt"
    target.write_text("old\n")
    with pytest.raises(OutputError, match=f"could not write {target}: No space left on device"):
        write_value(1.5, output=str(target))
    assert target.read_text() == "old\n"
    assert temp_files(tmp_path) == []


def test_sink_exception_in_caller_discards_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(KeyError):
        with open_sink("csv", ["x"], output=str(target)) as sink:
            sink.write(np.arange(1000))
            raise KeyError("bad label")
    assert target.read_text() == "old\n"
    assert temp_files(tmp_path) == []


def test_sink_file_commits_on_close(tmp_path):
    target = tmp_path / "out.tsv"
    with open_sink("tsv", ["x"], output=str(target), header=False) as sink:
        sink.write(np.array([0.5, 2.0]))
        assert not target.exists()
    assert target.read_text() == "0.5\n2.0\n"


# --- NPY -----------------------------------------------------------------------------------------


def npy_bytes_of(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def test_npy_to_a_terminal_refused():
    with pytest.raises(UsageError) as info:
        open_sink("npy", ["a"], stdout=TTYBytes())
    assert info.value.exit_code == 2
    assert "terminal" in str(info.value) and opt("output", "out.npy") in info.value.hint


def test_npy_known_nrows_streams_bytes_identical_to_np_save():
    probs = np.random.default_rng(1).random((7, 3))
    out = NonSeekable()
    with open_sink("npy", ["a", "b", "c"], stdout=out, nrows=7) as sink:
        sink.write(probs[:3])
        assert out.value()  # header and the first rows are already out
        sink.write(probs[3:])
    assert out.value() == npy_bytes_of(probs)


def test_npy_unknown_nrows_to_non_seekable_stream_is_spooled():
    labels = np.arange(5, dtype=np.int64)
    probs = np.random.default_rng(2).random((5, 2))
    out = NonSeekable()
    with open_sink("npy", ["label", "p0", "p1"], stdout=out) as sink:
        sink.write(labels[:2], probs[:2])
        sink.write(labels[2:], probs[2:])
        assert out.value() == b""
    back = np.load(io.BytesIO(out.value()), allow_pickle=False)
    assert back.dtype == np.float64 and back.shape == (5, 3)
    assert np.array_equal(back, np.column_stack([labels, probs]))


def test_npy_unknown_nrows_to_file_fixed_up(tmp_path):
    target = tmp_path / "out.npy"
    blocks = [np.arange(i, i + 4).reshape(2, 2) for i in range(0, 40, 4)]
    with open_sink("npy", ["a", "b"], output=str(target)) as sink:
        for b in blocks:
            sink.write(b)
    back = np.load(target, allow_pickle=False)
    assert back.dtype == np.int64 and back.shape == (20, 2)
    assert np.array_equal(back, np.concatenate(blocks))
    assert temp_files(tmp_path) == []


def test_npy_special_values_and_empty(tmp_path):
    values = np.array([0.1 + 0.2, 1e-300, np.nan, np.inf, -0.0])
    target = tmp_path / "v.npy"
    with open_sink("npy", ["v"], output=str(target), nrows=5) as sink:
        sink.write(values)
    assert np.array_equal(np.load(target, allow_pickle=False)[:, 0], values, equal_nan=True)
    out = NonSeekable()
    with open_sink("npy", ["a", "b"], stdout=out):
        pass
    empty = np.load(io.BytesIO(out.value()), allow_pickle=False)
    assert empty.shape == (0, 2) and empty.dtype == np.float64


def test_npy_default_stdout_is_binary_buffer(monkeypatch):
    class Out(io.TextIOWrapper):
        def isatty(self):
            return False

    raw = io.BytesIO()
    fake = Out(raw, encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", fake)
    with open_sink("npy", ["x"], nrows=2) as sink:
        sink.write(np.array([1.5, 2.5]))
    fake.flush()
    assert np.array_equal(np.load(io.BytesIO(raw.getvalue()), allow_pickle=False), [[1.5], [2.5]])


def test_npy_refuses_strings():
    with pytest.raises(UsageError, match="numbers only"):
        with open_sink("npy", ["label"], stdout=NonSeekable()) as sink:
            sink.write(np.array(["cat", "dog"]))


def test_npy_nrows_mismatch_is_a_bug(tmp_path):
    target = tmp_path / "x.npy"
    with pytest.raises(ValueError, match="nrows=3"):
        with open_sink("npy", ["x"], output=str(target), nrows=3) as sink:
            sink.write(np.zeros(2))
    assert not target.exists() and temp_files(tmp_path) == []


def test_npy_header_fixup_never_changes_size():
    for k in (1, 10, 1000):
        placeholder = out_npy.npy_header("<f8", (out_npy._NPY_PLACEHOLDER_ROWS, k))
        final = out_npy.npy_header("<f8", (3, k), len(placeholder))
        assert len(final) == len(placeholder) and len(final) % 64 == 0
        data = np.zeros((3, k)).tobytes()
        assert np.load(io.BytesIO(final + data), allow_pickle=False).shape == (3, k)


def test_writers_does_not_import_rich_for_machine_formats():
    import subprocess

    code = (
        "import sys, io, numpy as np; from lossctl.out import open_sink\n"
        "s = io.StringIO()\n"
        "with open_sink('csv', ['x'], stdout=s) as t: t.write(np.arange(3))\n"
        "with open_sink('table', ['x'], stdout=s) as t: t.write(np.arange(3))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rich', 'typer')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("fmt, sep", [("csv", ","), ("tsv", "\t")])
@pytest.mark.parametrize("values", [
    np.eye(4, dtype=np.int64),                         # one-hot: the digit fast path
    np.array([[0, 12], [-3, 9], [2**62, 7]]),          # any other int64: the %d path
    np.array([[True, False], [False, True]]),          # bools write as 1/0
])
def test_integer_blocks_write_like_str(fmt, sep, values):
    out = io.StringIO()
    with open_sink(fmt, [f"c{j}" for j in range(values.shape[1])], stdout=out,
                   header=False) as sink:
        sink.write(values)
    expected = "".join(sep.join(str(int(v)) for v in row) + "\n" for row in values)
    assert out.getvalue() == expected
