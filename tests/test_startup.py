"""Start-up: a command imports only its own CLI module (``lossctl compute`` never loads the
converters, the catalogue pages or inspect), and an in-process ``lossctl.cli.app`` has every
command. Wall time is shown by benchmarks/, never asserted here."""
from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, subprocess_env

_PROBE = """
import atexit, sys
def report():
    mods = sorted(m for m in sys.modules if m.startswith("lossctl.cli."))
    sys.stderr.write("MODULES " + " ".join(mods) + "\\n")
atexit.register(report)
sys.argv = ["lossctl", *sys.argv[1:]]
from lossctl.cli import main
main()
"""


def _cli_modules(*argv: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True,
                          env=subprocess_env(), cwd=ROOT, timeout=120)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES ")][-1]
    return set(line.split()[1:])


@pytest.mark.parametrize(("argv", "own", "others"), [
    (("compute", "--help"), "compute", ("convert", "catalog", "inspect")),
    (("onehot", "--help"), "convert", ("compute", "catalog", "inspect")),
    (("explain", "mse"), "catalog", ("compute", "convert", "inspect")),
])
def test_a_command_imports_only_its_module(argv, own, others):
    mods = _cli_modules(*argv)
    assert f"lossctl.cli.{own}" in mods
    for other in others:
        assert f"lossctl.cli.{other}" not in mods, mods


def test_help_and_unknown_commands_see_every_command():
    mods = _cli_modules("--help")
    assert {f"lossctl.cli.{m}" for m in ("compute", "convert", "catalog", "inspect")} <= mods


def test_the_in_process_app_has_every_command():
    from lossctl.cli import app
    from lossctl.cli.root import app as root_app

    assert app is root_app
    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert {"compute", "onehot", "sparse", "list", "explain", "inspect"} <= names
