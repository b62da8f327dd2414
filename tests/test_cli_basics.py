"""The CLI shell: version, help, import hygiene, errors, warnings, signals, pipes, TTY stdin.

Most tests run ``python -m lossctl`` in a subprocess, because what they check (sys.modules,
exit statuses of a real process, SIGPIPE/SIGTERM, a real terminal on stdin) only exists there.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from importlib.metadata import version

import pytest
import typer
from conftest import ROOT, subprocess_env
from typer.testing import CliRunner

from lossctl import cli
from lossctl.cli.boundary import lossctl_command
from lossctl.cli.options import NoWarnOpt, QuietOpt, StrictOpt
from lossctl.errors import DataError, note, warn

HEAVY = ("numpy", "pyarrow", "pandas", "rich")


def run(*args, input: bytes | str | None = None, env: dict | None = None, timeout: float = 60,
        **kw):
    """``python -m lossctl *args`` -> CompletedProcess (text stdout/stderr)."""
    data = input.encode() if isinstance(input, str) else input
    proc = subprocess.run(
        [sys.executable, "-m", "lossctl", *map(str, args)],
        input=data,
        capture_output=True,
        env=env or subprocess_env(),
        cwd=kw.pop("cwd", ROOT),
        timeout=timeout,
        **kw,
    )
    proc.stdout_text = proc.stdout.decode(errors="replace")  # type: ignore[attr-defined]
    proc.stderr_text = proc.stderr.decode(errors="replace")  # type: ignore[attr-defined]
    return proc


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=subprocess_env(), cwd=ROOT, timeout=60)


# --- version, help, import hygiene ----------------------------------------------------------------


def test_version_from_package_metadata():
    proc = run("--version")
    assert proc.returncode == 0, proc.stderr_text
    assert proc.stdout_text == f"lossctl {version('lossctl')}\n"
    assert proc.stderr_text == ""


def test_console_script_entry_point_is_main():
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["scripts"]["lossctl"] == "lossctl.cli:main"


def test_help_keeps_square_brackets():
    proc = run("--help")
    assert proc.returncode == 0
    assert "[N, C]" in proc.stdout_text
    assert "Exit codes:" in proc.stdout_text and "LOSSCTL_DEBUG" in proc.stdout_text
    for cmd in ("onehot", "sparse"):
        out = run(cmd, "--help").stdout_text
        assert "[N, C]" in out and "Examples:" in out


def test_no_arguments_prints_help_with_usage_status():
    proc = run()
    assert proc.returncode == 2
    assert "Usage: lossctl" in proc.stdout_text + proc.stderr_text


def test_import_cli_imports_no_heavy_module():
    proc = run_python(
        """
        import sys
        import lossctl.cli
        print(sorted(m for m in sys.modules if m.split('.')[0] in %r))
        """ % (HEAVY,)
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["onehot", "--help"],
                                  ["sparse", "--help"], []])
def test_help_and_version_import_neither_numpy_nor_pyarrow_nor_rich(args):
    proc = run_python(
        f"""
        import sys
        from lossctl.cli import app
        try:
            app({args!r}, prog_name="lossctl")
        except SystemExit:
            pass
        loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'pyarrow', 'pandas')
                        or m in ('rich', 'rich.table', 'rich.console', 'typer.rich_utils'))
        print(loaded, file=sys.stderr)
        """
    )
    assert proc.stderr.strip().splitlines()[-1] == "[]", proc.stderr


def test_every_command_has_help_and_examples(runner):
    for name in ("onehot", "sparse"):
        res = runner.invoke(cli.app, [name, "--help"])
        assert res.exit_code == 0
        assert "Examples:" in res.stdout and f"lossctl {name}" in res.stdout
        assert "--format" in res.stdout and "--output" in res.stdout and "--strict" in res.stdout


def test_unknown_format_is_a_usage_error(runner):
    res = runner.invoke(cli.app, ["onehot", "-", "-f", "xml"], input="1\n")
    assert res.exit_code == 2
    assert "xml" in res.stderr


@pytest.mark.parametrize(
    "given, expected",
    [(",", ","), ("comma", ","), ("tab", "\t"), ("\\t", "\t"), ("\t", "\t"), (";", ";"),
     ("space", " "), ("whitespace", " "), (" ", " "), ("TAB", "\t"), (None, None)],
)
def test_delimiter_names(given, expected):
    from lossctl.cli.options import _delimiter

    assert _delimiter(given) == expected


def test_bad_delimiter_is_a_usage_error(runner):
    from lossctl.cli.options import _delimiter

    with pytest.raises(typer.BadParameter):
        _delimiter("|")
    res = runner.invoke(cli.app, ["onehot", "-", "-d", "|"], input="1\n")
    assert res.exit_code == 2
    assert "delimiter" in res.stderr
    assert "Traceback" not in res.stderr


# --- errors and the command wrapper ---------------------------------------------------------------

probe = typer.Typer(rich_markup_mode=None)


@probe.command()
@lossctl_command
def emit(
    what: str,
    quiet: QuietOpt = False,
    no_warn: NoWarnOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Test command: emits notes, warnings and errors on request."""
    if what == "messages":
        note("inferred 3 classes")
        warn("2 rows renormalised")
        print("data")
    elif what == "user-error":
        raise DataError("label 7 is out of range [0, 3)", source="y.csv", location="line 9",
                        hint="give -n 8")
    elif what == "bug":
        raise ValueError("boom")
    elif what == "epipe":
        raise BrokenPipeError(32, "Broken pipe")


@probe.command()
def other() -> None:
    """Second command so 'emit' stays a subcommand."""


def test_notes_and_warnings_go_to_stderr():
    res = CliRunner().invoke(probe, ["emit", "messages"])
    assert res.exit_code == 0
    assert res.stdout == "data\n"
    assert res.stderr.splitlines() == [
        "lossctl: note: inferred 3 classes",
        "lossctl: warning: 2 rows renormalised",
    ]


def test_quiet_hides_notes_only():
    res = CliRunner().invoke(probe, ["emit", "messages", "-q"])
    assert res.stderr.splitlines() == ["lossctl: warning: 2 rows renormalised"]


def test_no_warn_hides_both():
    res = CliRunner().invoke(probe, ["emit", "messages", "--no-warn"])
    assert res.exit_code == 0 and res.stderr == "" and res.stdout == "data\n"


def test_strict_turns_warnings_into_errors():
    res = CliRunner().invoke(probe, ["emit", "messages", "--strict"])
    assert res.exit_code == 1
    assert res.stdout == ""  # stopped at the warning, before the data
    lines = res.stderr.splitlines()
    assert lines[-1].startswith("lossctl: error: 2 rows renormalised")
    assert "--strict" in lines[-1]


def test_user_error_is_one_line_with_exit_code():
    res = CliRunner().invoke(probe, ["emit", "user-error"])
    assert res.exit_code == 1
    assert res.stderr == (
        "lossctl: error: y.csv, line 9: label 7 is out of range [0, 3). Give -n 8.\n"
    )


def test_unexpected_exception_is_reported_as_a_bug():
    res = CliRunner().invoke(probe, ["emit", "bug"])
    assert res.exit_code == 1
    assert res.stderr == (
        "lossctl: error: internal error: ValueError: boom (this is a bug; rerun with "
        "LOSSCTL_DEBUG=1 for the traceback)\n"
    )


def test_debug_reraises_unexpected_exception(monkeypatch):
    monkeypatch.setenv("LOSSCTL_DEBUG", "1")
    res = CliRunner().invoke(probe, ["emit", "bug"])
    assert isinstance(res.exception, ValueError)


def test_broken_pipe_passes_through_to_typer():
    res = CliRunner().invoke(probe, ["emit", "epipe"])
    assert res.exit_code == 1
    assert "internal error" not in res.stderr


def test_subprocess_user_error_prints_exactly_one_error_line(tmp_path):
    proc = run("onehot", tmp_path / "missing.csv")
    assert proc.returncode == 1
    lines = proc.stderr_text.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lossctl: error: ")
    assert "missing.csv" in lines[0]
    assert proc.stdout_text == ""


def test_subprocess_debug_shows_traceback(tmp_path):
    proc = run("onehot", tmp_path / "missing.csv", env=subprocess_env(LOSSCTL_DEBUG="1"))
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr_text
    assert proc.stderr_text.rstrip().splitlines()[-1].startswith("lossctl: error: ")


def test_usage_error_exit_2_without_traceback():
    proc = run("onehot", "--num-classes", "0", "-")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr_text


# --- stdin on a terminal --------------------------------------------------------------------------


def test_resolve_input():
    from lossctl.cli.convert import resolve_input
    from lossctl.cli.env import Environment
    from lossctl.errors import UsageError

    tty, pipe = Environment(stdin_isatty=True), Environment(stdin_isatty=False)
    assert resolve_input("a.csv", "onehot", tty) == "a.csv"
    assert resolve_input("-", "onehot", tty) == "-"
    assert resolve_input(None, "onehot", pipe) == "-"
    with pytest.raises(UsageError) as exc:
        resolve_input(None, "sparse", tty)
    assert exc.value.exit_code == 2
    assert "lossctl sparse labels.csv" in str(exc.value)


@pytest.mark.skipif(sys.platform == "win32", reason="pty is POSIX only")
@pytest.mark.parametrize("command", ["onehot", "sparse"])
def test_terminal_stdin_fails_at_once(command):
    import pty

    master, slave = pty.openpty()
    try:
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "lossctl", command], stdin=slave,
                              capture_output=True, text=True, env=subprocess_env(), cwd=ROOT,
                              timeout=30)
        elapsed = time.monotonic() - start
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"lossctl: error: no input: {command} reads standard input")
    assert "pipe data in" in proc.stderr
    assert elapsed < 20


# --- pipes and signals ----------------------------------------------------------------------------


@pytest.fixture
def big_labels(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("".join(f"{i % 10}\n" for i in range(200_000)))
    return path


def test_pipe_into_head_ends_quietly(big_labels):
    proc = subprocess.Popen([sys.executable, "-m", "lossctl", "onehot", str(big_labels), "-n",
                             "10"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=subprocess_env(), cwd=ROOT)
    first = proc.stdout.readline()
    proc.stdout.close()  # like head -1 exiting
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert first == b"1,0,0,0,0,0,0,0,0,0\n"
    assert err == b""
    assert proc.returncode == 1  # typer's EPIPE handling: quiet, status 1


def test_shell_pipe_into_head(big_labels):
    cmd = (f"set -o pipefail; {sys.executable} -m lossctl onehot {big_labels} -n 10 "
           f"| head -1; echo status=$?")
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True,
                          env=subprocess_env(), cwd=ROOT, timeout=60)
    assert proc.stdout.splitlines() == ["1,0,0,0,0,0,0,0,0,0", "status=1"]
    assert proc.stderr == ""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("sig, status", [
    (signal.SIGTERM, 143), (signal.SIGINT, 130), (signal.SIGHUP, 129), (signal.SIGQUIT, 131),
    (signal.SIGUSR1, 128 + signal.SIGUSR1), (signal.SIGUSR2, 128 + signal.SIGUSR2)])
def test_signal_exits_cleanly_and_leaves_no_file(tmp_path, sig, status):
    out = tmp_path / "out.csv"
    proc = subprocess.Popen([sys.executable, "-m", "lossctl", "onehot", "-n", "3", "-o", str(out)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=subprocess_env(), cwd=ROOT)
    # More than the reader's 1 MB sample, and stdin left open: the command has opened its
    # temporary output file and waits for more rows when the signal comes.
    proc.stdin.write(b"0\n1\n2\n" * 200_000)
    proc.stdin.flush()
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob(".lossctl-tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".lossctl-tmp-*")), "the command never opened its output"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == status
    assert b"Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # neither out.csv nor the temporary file


@pytest.mark.parametrize("argv, phrases", [
    (["compute", "scce", "y.csv", "p.csv", "--offest", "1"],
     ("no such option: --offest. Did you mean", "--offset?", "lossctl compute --help")),
    (["comput"], ("no such command 'comput'. Did you mean 'compute'",)),
    (["compute", "scce", "y.csv", "p.csv", "--reduction", "avg"],
     ("invalid value for '--reduction'", "'avg' is not one of")),
])
def test_usage_errors_are_one_lossctl_line_with_the_suggestion(runner, argv, phrases):
    res = runner.invoke(cli.app, argv)
    assert res.exit_code == 2 and res.stdout == ""
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("lossctl: error: "), res.stderr
    for phrase in phrases:
        assert phrase in lines[0]
