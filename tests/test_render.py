"""Tests for lossctl.render: tables, consoles (NO_COLOR, --no-color), progress bars."""
from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from rich.console import Console
from rich.text import Text

from lossctl import render


def plain_console() -> Console:
    return Console(file=io.StringIO(), width=80, color_system=None)


def test_table_exact_text():
    console = plain_console()
    render.table(
        ["class", "loss", "n"],
        [["[cat]", 0.1 + 0.2, 3], ["dog", 1 / 3, 12], ["bird", float("nan"), None]],
        title="per class",
        precision=4,
        console=console,
    )
    assert console.file.getvalue() == (
        "       per class       \n"
        "┏━━━━━━━┳━━━━━━━━┳━━━━┓\n"
        "┃ class ┃   loss ┃  n ┃\n"
        "┡━━━━━━━╇━━━━━━━━╇━━━━┩\n"
        "│ [cat] │    0.3 │  3 │\n"  # text left-aligned and not read as markup
        "│ dog   │ 0.3333 │ 12 │\n"  # numbers right-aligned, rounded to 4 digits
        "│ bird  │    nan │    │\n"
        "└───────┴────────┴────┘\n"
    )


def test_table_numpy_values_and_no_header():
    console = plain_console()
    render.table(
        ["x", "k"],
        [[np.float32(2.5), np.int64(7)], [np.float64(-np.inf), np.bool_(True)]],
        console=console,
        show_header=False,
    )
    assert console.file.getvalue() == (
        "┌──────┬───┐\n"
        "│  2.5 │ 7 │\n"
        "│ -inf │ 1 │\n"
        "└──────┴───┘\n"
    )


def test_table_fits_80_columns_when_it_can():
    console = plain_console()
    render.table([f"p{k}" for k in range(9)], [[0.123456789] * 9], precision=3, console=console)
    lines = console.file.getvalue().splitlines()
    assert len(lines) == 5 and all(len(line) <= 80 for line in lines)
    assert lines[3].count("0.123") == 9


def test_table_too_wide_is_split_into_column_groups_instead_of_hiding_digits():
    console = plain_console()
    render.table([f"p{k}" for k in range(10)], [[0.123456789] * 10], precision=6, console=console)
    text = console.file.getvalue()
    assert "…" not in text
    assert all(len(line) <= 80 for line in text.splitlines())
    rows = [line for line in text.splitlines() if line.startswith("│")]
    cells = [c.strip() for line in rows for c in line.split("│")[1:-1]]
    assert cells == ["0.123457"] * 10  # every value whole, in two tables of consecutive columns
    assert "columns p0 to p" in text and "to p9" in text


def test_build_table_rejects_ragged_rows():
    with pytest.raises(ValueError, match="row 1 has 1 cells"):
        render.build_table(["a", "b"], [[1, 2], [3]])


@pytest.mark.parametrize(
    "value, precision, text",
    [
        (0.1 + 0.2, 6, "0.3"),
        (1 / 3, 6, "0.333333"),
        (1 / 3, 2, "0.33"),
        (1234567.0, 6, "1.23457e+06"),
        (1e-300, 6, "1e-300"),
        (2.0, 6, "2"),
        (12345678901234, 6, "12345678901234"),  # ints are never rounded
        (np.int32(-3), 6, "-3"),
        (float("inf"), 6, "inf"),
        (np.float32("nan"), 6, "nan"),
        (None, 6, ""),
        ("dog", 6, "dog"),
    ],
)
def test_format_cell(value, precision, text):
    assert render.format_cell(value, precision) == text


def colored_output(console: Console) -> str:
    console.print(Text("red", style="red"), Text("bold", style="bold"))
    return console.file.getvalue()


def test_console_colours_when_forced(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    console = render.make_console(file=io.StringIO(), force_terminal=True)
    assert "\x1b[31m" in colored_output(console)


def test_console_honours_no_color_env(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TERM", "xterm-256color")
    console = render.make_console(file=io.StringIO())
    assert console.no_color
    out = colored_output(console)
    assert "\x1b[31m" not in out and "red" in out
    assert "\x1b[1m" in out  # NO_COLOR removes colour only, bold stays


def test_console_no_color_flag(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    console = render.make_console(file=io.StringIO(), force_terminal=True, no_color=True)
    assert "\x1b[31m" not in colored_output(console)


def test_console_not_a_terminal_is_plain(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    console = render.make_console(file=io.StringIO(), width=33)
    assert not console.is_terminal and console.width == 33
    assert "\x1b" not in colored_output(console)


def test_console_keeps_user_text_literal():
    console = render.make_console(file=io.StringIO(), width=80)
    console.print("a:cat:.csv 0.5", markup=False)
    assert console.file.getvalue() == "a:cat:.csv 0.5\n"  # no emoji, no highlighting codes


def test_console_stderr(capsys):
    console = render.make_console(stderr=True)
    console.print("message")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == "message\n"


def test_progress_configured_for_pipes():
    terminal = render.make_console(file=io.StringIO(), force_terminal=True)
    bar = render.progress(terminal, quiet=False, total=10, description="computing")
    assert isinstance(bar, render.TaskProgress)
    assert not bar.disable
    assert bar.live.transient
    assert bar.live._redirect_stdout is False and bar.live._redirect_stderr is False
    assert bar.console is terminal
    task = bar.tasks[0]
    assert task.description == "computing" and task.total == 10
    with bar:
        bar.step(4)
        bar.step()
    assert bar.tasks[0].completed == 5


def test_progress_disabled_when_quiet_or_not_a_terminal(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    terminal = render.make_console(file=io.StringIO(), force_terminal=True)
    assert render.progress(terminal, quiet=True, description="x").disable
    pipe_file = io.StringIO()
    pipe = render.make_console(file=pipe_file)
    bar = render.progress(pipe, quiet=False, total=None, description="x")
    assert bar.disable
    with bar:
        bar.step(3)
    assert pipe_file.getvalue() == ""  # nothing drawn into a non-terminal


def test_progress_refuses_stdout_console():
    with pytest.raises(ValueError, match="stderr"):
        render.progress(Console(file=sys.stdout), quiet=False, description="x")


def test_details_grid_reads_a_flag_as_yes_or_no_and_numbers_as_numbers():
    console = plain_console()
    render.details({"approximate": True, "exact": False, "buckets": 12, "error_bound": 1 / 3},
                   console=console, precision=4)
    lines = [ln.split() for ln in console.file.getvalue().splitlines()]
    assert lines == [["approximate", "yes"], ["exact", "no"], ["buckets", "12"],
                     ["error", "bound", "0.33333333"]]
