"""lossctl.out.files: the output is never one of the inputs (standard input included), and a
target name close to the file system's limit still gets a temporary file."""
from __future__ import annotations

import io
import os

import numpy as np
import pytest

from lossctl.errors import OutputError
from lossctl.out import TEMP_PREFIX, atomic_open, check_output, open_sink, write_value
from lossctl.out import files as out_files


def temp_files(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.startswith(TEMP_PREFIX)]


# --- defect 1: `lossctl onehot - -n 3 -o y.csv < y.csv` overwrote its own input -----------------


def test_output_that_is_redirected_stdin_is_refused(tmp_path):
    target = tmp_path / "y.csv"
    target.write_text("0\n1\n2\n")
    with open(target, "rb") as stdin:  # the shell's `< y.csv`
        with pytest.raises(OutputError) as info:
            check_output(str(target), ["-"], stdin=stdin)
    assert "same file as the input <stdin>" in str(info.value)
    assert info.value.exit_code == 1
    assert target.read_text() == "0\n1\n2\n"


def test_redirected_stdin_default_is_sys_stdin(tmp_path, monkeypatch):
    target = tmp_path / "y.csv"
    target.write_text("0\n")
    with open(target, "rb") as stdin:
        monkeypatch.setattr("sys.stdin", stdin)
        with pytest.raises(OutputError, match="same file"):
            check_output(str(target), ["-"])


def test_redirected_stdin_caught_through_links_and_spellings(tmp_path, monkeypatch):
    real = tmp_path / "y.csv"
    real.write_text("0\n")
    (tmp_path / "sym.csv").symlink_to(real)
    os.link(real, tmp_path / "hard.csv")
    monkeypatch.chdir(tmp_path)
    with open(real, "rb") as stdin:
        for out in ("sym.csv", "hard.csv", "./y.csv", str(real)):
            with pytest.raises(OutputError, match="same file"):
                check_output(out, ["-"], stdin=stdin)


def test_stdin_of_another_file_or_not_a_file_is_fine(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    other = tmp_path / "y.csv"
    other.write_text("0\n")
    with open(other, "rb") as stdin:
        check_output(str(target), ["-"], stdin=stdin)
    with open(target, "rb") as stdin:  # stdin is the output, but no input reads it
        check_output(str(target), [str(other)], stdin=stdin)
    check_output(str(target), ["-"], stdin=io.StringIO("0\n"))  # no descriptor
    r, w = os.pipe()
    try:
        with os.fdopen(r, "rb") as pipe:
            check_output(str(target), ["-"], stdin=pipe)  # `cat y.csv | lossctl ...`
    finally:
        os.close(w)
    with open(os.devnull, "rb") as devnull:  # `< /dev/null` and `-o /dev/null`
        check_output(os.devnull, ["-"], stdin=devnull)
    closed = open(other, "rb")  # noqa: SIM115 - closed on purpose
    closed.close()
    check_output(str(target), ["-"], stdin=closed)
    with open(other, "rb") as stdin:  # an output that does not exist yet
        check_output(str(tmp_path / "new.csv"), ["-"], stdin=stdin)


def test_inputs_compared_by_inode_not_only_by_name(tmp_path):
    inp = tmp_path / "labels.csv"
    inp.write_text("1\n")
    os.link(inp, tmp_path / "hard.csv")
    # the hard link shares no name, no realpath: only the inode says it is the same file
    with pytest.raises(OutputError, match="same file as the input"):
        check_output(str(tmp_path / "hard.csv"), [str(inp)])
    npz = tmp_path / "d.npz"
    np.savez(npz, y=np.arange(3))
    os.link(npz, tmp_path / "d2.npz")
    with pytest.raises(OutputError, match="same file"):
        check_output(str(tmp_path / "d2.npz"), [f"{npz}:y"])


def test_refusal_message_names_no_flag(tmp_path):
    inp = tmp_path / "y.csv"
    inp.write_text("1\n")
    for out, inputs in ((str(inp), [str(inp)]), (str(tmp_path), []),
                        (str(tmp_path / "no" / "x.csv"), [])):
        with pytest.raises(OutputError) as info:
            check_output(out, inputs)
        assert " -o" not in str(info.value) and "--" not in str(info.value)
        assert "output" in info.value.hint


# --- defect 2: a valid 244-character output name was refused ("File name too long") ------------


def _name_max(folder) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):
        return 255


@pytest.fixture
def long_name(tmp_path) -> str:
    if _name_max(tmp_path) < 255:
        pytest.skip("this file system allows shorter names than 255")
    name = "a" * 240 + ".csv"
    assert len(name) == 244
    return name


def test_atomic_open_244_character_name(tmp_path, long_name):
    target = tmp_path / long_name
    with atomic_open(str(target), "w") as f:
        f.write("x\n")
        (tmp,) = temp_files(tmp_path)
        assert len(os.fsencode(tmp)) <= _name_max(tmp_path)
        assert tmp.startswith(TEMP_PREFIX + "aaaa")
    assert target.read_text() == "x\n"
    assert temp_files(tmp_path) == []


def test_sink_and_value_with_a_long_name(tmp_path, long_name):
    target = tmp_path / long_name
    with open_sink("csv", ["x"], output=str(target)) as sink:
        sink.write(np.arange(3))
    assert target.read_text() == "x\n0\n1\n2\n"
    longest = tmp_path / ("b" * 251 + ".txt")  # 255: the longest name there is
    write_value(0.5, output=str(longest))
    assert longest.read_text() == "0.5\n"
    assert temp_files(tmp_path) == []


def test_temp_prefix_cut_on_characters_within_the_byte_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(out_files, "_name_max", lambda folder: 40)
    prefix = out_files._temp_prefix(str(tmp_path), "é" * 30 + ".csv")
    assert len(os.fsencode(prefix)) + 8 <= 40
    assert prefix.startswith(TEMP_PREFIX) and prefix.endswith(".")
    assert prefix[len(TEMP_PREFIX):-1] == "é" * len(prefix[len(TEMP_PREFIX):-1])
    assert out_files._temp_prefix(str(tmp_path), "out.csv") == TEMP_PREFIX + "out.csv."
