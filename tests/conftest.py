"""Shared test set-up.

The environment variables are set at import time, before any test module imports
``lossctl.cli`` (typer reads ``_TYPER_FORCE_DISABLE_TERMINAL`` and ``TERMINAL_WIDTH`` when its
rich helpers are first imported): no colour, no terminal detection, wide help text.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ["NO_COLOR"] = "1"
os.environ["_TYPER_FORCE_DISABLE_TERMINAL"] = "1"
os.environ["TERMINAL_WIDTH"] = "200"
os.environ["COLUMNS"] = "200"
os.environ.pop("FORCE_COLOR", None)
os.environ.pop("LOSSCTL_DEBUG", None)

import pytest

#: The repository root (``python -m lossctl`` subprocesses run from here).
ROOT = Path(__file__).resolve().parent.parent


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for ``python -m lossctl`` subprocesses: this interpreter's, no debug."""
    env = dict(os.environ)
    env.pop("LOSSCTL_DEBUG", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


@pytest.fixture
def runner():
    """A typer CliRunner (stdout and stderr kept apart)."""
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture
def invoke(runner):
    """``invoke(*args, input=None)`` -> click Result of ``lossctl *args``.

    Asserts that no Python exception escaped the command (a SystemExit is the normal end).
    """
    from lossctl.cli import app

    def _invoke(*args, input=None, env=None):
        result = runner.invoke(app, [str(a) for a in args], input=input, env=env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            import traceback

            tb = "".join(traceback.format_exception(*result.exc_info))
            raise AssertionError(f"lossctl {' '.join(map(str, args))} raised:\n{tb}")
        return result

    return _invoke


@pytest.fixture
def write_text(tmp_path):
    """``write_text(name, text)`` -> path of a new text file in tmp_path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8", newline="")
        return path

    return _write


@pytest.fixture
def labels_csv(write_text):
    """labels.csv: a header and the labels 0 1 2 1 0 2 (line 2 is the first label)."""
    return write_text("labels.csv", "label\n0\n1\n2\n1\n0\n2\n")


@pytest.fixture
def python():
    """The interpreter running the tests (the dev venv)."""
    return sys.executable


# --- hypothesis profiles ------------------------------------------------------------------------
# "ci" is the default, so that `python -m pytest -q` alone (the README's command, which CI runs)
# is deterministic on any machine: no deadline (a loaded CI machine is slow), derandomised
# examples, no example database. HYPOTHESIS_PROFILE=thorough (max_examples=2000) for a long run
# by hand; HYPOTHESIS_PROFILE=dev for hypothesis' own randomised defaults.
from hypothesis import settings as _hyp_settings

_hyp_settings.register_profile("ci", deadline=None, derandomize=True, database=None,
                               print_blob=True)
_hyp_settings.register_profile("thorough", max_examples=2000, deadline=None)
_hyp_settings.register_profile("dev")
_hyp_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "ci")


_COMMAND = None


@pytest.fixture
def cli_built_once(monkeypatch):
    """typer's CliRunner rebuilds the click command from the function signatures on every
    invoke (90% of a small command's time): build it once per session and reuse it. Modules
    that invoke the CLI hundreds of times use it (as an autouse fixture of their own)."""
    global _COMMAND
    import typer.main
    import typer.testing

    from lossctl.cli import app

    if _COMMAND is None:
        _COMMAND = typer.main.get_command(app)
    monkeypatch.setattr(typer.testing, "_get_command", lambda _app: _COMMAND)


#: Forks, execs argv[2:], waits with os.wait4 and writes the child's ru_maxrss (KB) to argv[1].
_LAUNCHER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    try:\n"
    "        os.execvp(sys.argv[2], sys.argv[2:])\n"
    "    finally:\n"
    "        os._exit(127)\n"
    "_, st, ru = os.wait4(pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(ru.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(st) % 256)\n"
)


def peak_rss(args, *, tmp_path: Path, stdin=None, timeout: float = 300):
    """Run ``python -m lossctl *args`` as its own process: (CompletedProcess, peak RSS in KB).

    The peak is that process's own high-water mark, from ``os.wait4`` in a small launcher that
    forks and execs it: not ``ru_maxrss`` of a child of pytest, which on Linux starts from the
    high-water mark of the process it was forked from (this one, with its generated arrays).
    """
    import subprocess

    report = tmp_path / f"rss-{os.getpid()}-{len(list(tmp_path.glob('rss-*')))}.txt"
    cmd = [sys.executable, "-c", _LAUNCHER, str(report), sys.executable, "-m", "lossctl",
           *map(str, args)]
    proc = subprocess.run(cmd, stdin=stdin, capture_output=True, env=subprocess_env(),
                          cwd=tmp_path, timeout=timeout)
    return proc, int(report.read_text())


# --- shared helpers -----------------------------------------------------------------------------
def sharp_probs(rng, y, sharp: float, c: int = 3):
    """Softmax probabilities of ``c`` classes whose true class (``y``) gets ``sharp`` added to a
    standard normal logit: a model whose quality grows with ``sharp``."""
    import numpy as np

    z = rng.normal(size=(y.size, c))
    z[np.arange(y.size), y] += sharp
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


#: the credentials a local S3 server (moto) accepts
S3_ENV = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
          "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture(scope="session")
def s3_server():
    """A local S3-compatible server (moto's server mode): its endpoint URL."""
    import socket

    pytest.importorskip("moto", reason="moto (the test extra) is not installed")
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def point_s3_at(monkeypatch, endpoint: str) -> None:
    """This process's environment (and so lossctl's, and its workers') points S3 at ``endpoint``
    with :data:`S3_ENV`; s3fs's cached file systems are dropped."""
    import s3fs

    for k, v in {**S3_ENV, "AWS_ENDPOINT_URL": endpoint}.items():
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(k, raising=False)
    s3fs.S3FileSystem.clear_instance_cache()
