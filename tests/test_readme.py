"""The README stays true: its set-up commands, CI's command, and the sessions it quotes."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lossctl.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
runner = CliRunner()


def test_readme_starts_with_the_two_setup_commands():
    lines = README.splitlines()
    assert lines[0].startswith("```")
    install, test = lines[1], lines[2]
    assert lines[3] == "```"
    assert install.startswith("pip install . && lossctl compute ")
    assert test.startswith("pip install '.[test]' && python -m pytest")
    # CI runs exactly the README's test command
    ci = (ROOT / ".ci" / "run").read_text()
    assert test.replace("pip install ", "pip install -q ") in ci.splitlines()


def test_ci_runs_nothing_but_the_readme_command():
    """CI's script sets no test settings of its own: the suite is deterministic as the README
    runs it (the hypothesis profile without deadlines is loaded by conftest.py)."""
    ci = (ROOT / ".ci" / "run").read_text()
    code = [ln for ln in ci.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert not any("HYPOTHESIS" in ln or "export" in ln for ln in code)
    import os

    from hypothesis import settings

    if not os.environ.get("HYPOTHESIS_PROFILE"):
        assert settings.default.deadline is None and settings.default.derandomize


def test_readme_main_job_runs(monkeypatch):
    monkeypatch.chdir(ROOT)
    cmd = README.splitlines()[1].split("&&", 1)[1].strip()
    argv = shlex.split(cmd)
    r = runner.invoke(app, argv[1:])
    assert r.exit_code == 0, r.stderr
    assert float(r.stdout) == pytest.approx(0.23187772564346193, rel=1e-15)


def _sessions():
    """`$ lossctl ...` lines followed directly by a `lossctl: error:` line, as quoted."""
    lines = README.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith("$ lossctl ") and lines[i + 1].startswith("lossctl: error:"):
            yield line[2:], lines[i + 1]


@pytest.mark.parametrize("cmd, expected", list(_sessions()))
def test_quoted_errors_are_what_lossctl_prints(cmd, expected, monkeypatch):
    monkeypatch.chdir(ROOT)
    r = runner.invoke(app, shlex.split(cmd)[1:])
    assert r.exit_code != 0
    assert r.stderr.strip().splitlines()[-1] == expected


def test_quoted_csv_rows_are_what_lossctl_prints(monkeypatch):
    monkeypatch.chdir(ROOT)
    block = re.search(r"\$ (lossctl compute scce \S+ \S+ -f csv) \| head -3\n((?:.+\n){3})", README)
    assert block, "the README's csv example moved"
    r = runner.invoke(app, shlex.split(block.group(1))[1:])
    assert r.stdout.splitlines()[:3] == block.group(2).splitlines()


@pytest.mark.parametrize("start", ["lossctl compute scce,brier_score,accuracy",
                                   "lossctl compare samples/digits_labels.csv"])
def test_quoted_value_tables_are_what_lossctl_prints(start, monkeypatch):
    """The README's several-losses and compare sessions, line for line."""
    monkeypatch.chdir(ROOT)
    block = re.search(r"\$ (" + re.escape(start) + r".*)\n((?:[^`\n].*\n)+)", README)
    assert block, f"the README's {start!r} example moved"
    r = runner.invoke(app, shlex.split(block.group(1))[1:])
    assert r.exit_code == 0, r.stderr
    got, quoted = r.stdout.splitlines(), block.group(2).splitlines()
    assert len(got) == len(quoted)
    for line, want in zip(got, quoted):
        assert [_cell(c) for c in line.split(",")] == [_cell(c) for c in want.split(",")], line


def _cell(text: str):
    """A CSV cell to compare: the bootstrap bounds are sums of Poisson-weighted values that
    numpy hands to BLAS, whose kernels add in an order of their CPU's choosing (the last one
    or two digits of 17 differ between an Intel and an AMD machine); every other value is
    exact and compared exactly."""
    try:
        v = float(text)
    except ValueError:
        return text
    return "nan" if v != v else pytest.approx(v, rel=1e-13, abs=0)
