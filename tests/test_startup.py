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


def _probe(kept: str) -> str:
    """:data:`_PROBE` reporting the modules that ``kept`` (an expression of ``m``) keeps."""
    assert 'm.startswith("lossctl.cli.")' in _PROBE
    return _PROBE.replace('m.startswith("lossctl.cli.")', kept)


def _loaded(probe: str, *argv: str, codes: tuple[int, ...] | None = None) -> set[str]:
    """The modules ``probe`` reports after ``lossctl ARGV`` in a process of its own (its exit
    status one of ``codes``, when given)."""
    proc = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True,
                          env=subprocess_env(), cwd=ROOT, timeout=120)
    if codes is not None:
        assert proc.returncode in codes, proc.stderr
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES ")][-1]
    return set(line.split()[1:])


def _cli_modules(*argv: str) -> set[str]:
    return _loaded(_PROBE, *argv)


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


def test_root_help_lists_every_command_and_a_typo_gets_a_suggestion():
    from lossctl.cli import COMMANDS

    run = [sys.executable, "-m", "lossctl"]
    out = subprocess.run([*run, "--help"], capture_output=True, text=True, env=subprocess_env(),
                         cwd=ROOT, timeout=120).stdout
    listed = out.split("Commands:")[1].split("Exit codes:")[0]
    assert [ln.split()[0] for ln in listed.splitlines() if ln.strip()] == [
        "compute", "compare", "inspect", "explain", "list", "onehot", "sparse"]
    assert set(COMMANDS) <= set(listed.split())
    typo = subprocess.run([*run, "comptue"], capture_output=True, text=True,
                          env=subprocess_env(), cwd=ROOT, timeout=120)
    assert typo.returncode == 2 and "Did you mean 'compute'" in typo.stderr


def test_the_in_process_app_has_every_command():
    from lossctl.cli import app
    from lossctl.cli.root import app as root_app

    assert app is root_app
    names = {c.name or c.callback.__name__ for c in app.registered_commands}
    assert {"compute", "onehot", "sparse", "list", "explain", "inspect"} <= names


def test_root_help_lists_summaries_equal_to_each_commands_own_help():
    """``lossctl --help`` registers :data:`lossctl.cli.SUMMARIES` instead of the command modules:
    each must be its command's first paragraph, or the listing would drift from the commands."""
    import typer

    from lossctl.cli import COMMANDS, SUMMARIES, app

    group = typer.main.get_command(app)
    assert set(SUMMARIES) == set(COMMANDS)
    for name, summary in SUMMARIES.items():
        first = group.commands[name].help.split("\n\n")[0]
        assert summary.split() == first.split(), name


@pytest.mark.parametrize("argv", [("--help",), ("--version",), ("comptue",)])
def test_root_help_version_and_typos_load_no_command_and_no_registry(argv):
    mods = _loaded(_probe('m.startswith("lossctl.")'), *argv)
    assert not mods & {f"lossctl.cli.{m}" for m in COMMAND_MODULES}, mods
    assert "lossctl.losses.registry" not in mods and "lossctl.losses.spec" not in mods, mods


COMMAND_MODULES = ("compute", "convert", "catalog", "inspect")


_HEAVY_PROBE = _probe('m.split(".")[0] == "matplotlib" or m == "lossctl.plot"')


@pytest.mark.parametrize("argv", [
    ("--help",), ("--version",), ("compute", "--help"),
    ("compute", "scce", "samples/digits_labels.csv", "samples/digits_probs.csv"),
    ("compute", "scce", "samples/digits_labels.csv", "samples/digits_probs.csv", "-f", "json"),
])
def test_matplotlib_is_imported_only_for_a_plot(argv, tmp_path):
    """matplotlib (the plot extra) is loaded by ``--plot`` alone: ``lossctl.plot`` is the
    only module that imports it, inside its functions."""
    def loaded(*args: str) -> set[str]:
        return _loaded(_HEAVY_PROBE, *args, codes=(0,))

    assert not loaded(*argv)
    if argv[0] == "compute" and "--help" not in argv:  # the probe sees it when it is loaded
        assert {"matplotlib", "lossctl.plot"} <= loaded(*argv, "--plot",
                                                         str(tmp_path / "p.png"))


_REMOTE_PROBE = _probe('m.split(".")[0] in ("fsspec", "s3fs", "botocore", "aiobotocore") '
                       'or m == "lossctl.io.remote"')


@pytest.mark.parametrize("argv", [
    ("--help",), ("compute", "--help"),
    ("compute", "scce", "samples/digits_labels.csv", "samples/digits_probs.csv"),
    ("compute", "scce", "samples/digits_labels.npy", "samples/digits_probs.npy", "-f", "json"),
])
def test_fsspec_is_imported_only_for_a_remote_path(argv):
    """fsspec (the s3/gcs/... extras) is loaded only when an input has a protocol: help and
    local computations never import it (lossctl.io.remote itself is light and may load)."""
    def loaded(*args: str) -> set[str]:
        return _loaded(_REMOTE_PROBE, *args, codes=(0, 1))

    assert not loaded(*argv) - {"lossctl.io.remote"}
    if "--help" not in argv:  # the probe sees fsspec when a path asks for it
        assert "fsspec" in loaded("compute", "scce", "memory://nowhere/y.csv", argv[3])


_POOL_PROBE = _probe('m.split(".")[0] in ("numpy", "dask", "distributed", "multiprocessing") '
                     'or m in ("concurrent.futures.process", "lossctl.distribute")')


@pytest.mark.parametrize("argv", [
    ("--help",), ("compute", "--help"),
    ("compute", "scce", "samples/digits_labels.npy", "samples/digits_probs.npy"),
])
def test_the_process_pool_and_dask_load_only_for_jobs(argv):
    """``--jobs`` and ``--scheduler`` (lossctl.distribute) load the process pool and Dask;
    help loads neither (nor numpy), and a computation in one process neither."""
    mods = _loaded(_POOL_PROBE, *argv, codes=(0,))
    heavy = {m for m in mods if m.split(".")[0] != "numpy"}
    assert not heavy, heavy
    if "--help" in argv:
        assert not mods, mods


def test_main_freezes_what_the_run_made_before_the_interpreter_shuts_down():
    """``main`` ends with ``gc.freeze()``: the shutdown's collections skip the objects of the
    imports (measured 58 -> 12 ms of exit on the worked example). In a process of its own:
    ``main`` registers the command summaries on the app."""
    code = ("import atexit, gc, sys; sys.argv = ['lossctl', '--version']; "
            "atexit.register(lambda: sys.stderr.write(f'frozen={gc.get_freeze_count()}')); "
            "from lossctl.cli.root import main; main()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=subprocess_env(), cwd=ROOT, timeout=60)
    assert r.returncode == 0, r.stderr
    frozen = int(r.stderr.rsplit("frozen=", 1)[1])
    assert frozen > 1000, r.stderr


_THREADS = ("import atexit, os, sys; sys.argv = ['lossctl', 'compute', 'scce', "
            "'samples/digits_labels.npy', 'samples/digits_probs.npy', '--threads', '1']; "
            "atexit.register(lambda: sys.stderr.write("
            "f\"threads={len(os.listdir('/proc/self/task'))} "
            "blas={os.environ.get('OPENBLAS_NUM_THREADS')}\")); "
            "from lossctl.cli.root import main; main()")


@pytest.mark.skipif(not __import__("os").path.isdir("/proc/self/task"), reason="Linux /proc")
@pytest.mark.skipif((__import__("os").cpu_count() or 1) < 2, reason="one core: one BLAS thread")
def test_the_cli_gives_openblas_one_thread_unless_the_user_chose():
    """numpy's OpenBLAS would start a spinning thread per core beside lossctl's own block
    threads; the CLI asks for one before numpy is imported, and a user's setting wins."""
    def run(**env: str) -> tuple[int, str]:
        base = subprocess_env(**env)
        if not env:
            base.pop("OPENBLAS_NUM_THREADS", None)
        r = subprocess.run([sys.executable, "-c", _THREADS], capture_output=True, text=True,
                           env=base, cwd=ROOT, timeout=60)
        assert r.returncode == 0, r.stderr
        threads, blas = r.stderr.rsplit("threads=", 1)[1].split()
        return int(threads), blas.split("=", 1)[1]

    ours, chosen = run(), run(OPENBLAS_NUM_THREADS="2")
    assert ours[1] == "1" and chosen[1] == "2"
    assert chosen[0] == ours[0] + 1  # the user's second BLAS thread, and only that


_LAZY_PROBE = _probe('m in ("numpy.random", "pyarrow.compute")')


@pytest.mark.parametrize("argv", [
    ("compute", "scce", "samples/digits_labels.csv", "samples/digits_probs.csv"),
    ("compute", "scce", "samples/digits_labels.npy", "samples/digits_probs.npy", "-f", "json"),
    ("compute", "cce", "samples/digits_onehot.csv", "samples/digits_logits.csv", "--from-logits"),
])
def test_a_plain_computation_imports_neither_numpy_random_nor_pyarrow_compute(argv):
    """Each costs a run 10-50 ms of imports: numpy.random loads only for resampling (``--ci``),
    pyarrow.compute only for the Arrow casts that need it (nulls, booleans, dictionaries)."""
    assert not _loaded(_LAZY_PROBE, *argv, codes=(0,))
    ci = _loaded(_LAZY_PROBE, *argv, "--ci", "95", codes=(0,))
    assert "numpy.random" in ci  # the probe sees the import when a run needs it
