"""The ``lossctl`` application: the typer app, its root options, and the process entry point.

Commands live one group per module (``compute``, ``convert``: onehot and sparse, ``catalog``:
list and explain, ``inspect``) and register themselves on :data:`app` when
:mod:`lossctl.cli` is imported. Importing the CLI loads typer and the registry, never numpy,
pyarrow or rich: ``lossctl --help`` and ``--version`` stay fast (a test checks ``sys.modules``).

Signals: Ctrl-C exits 130; SIGTERM, SIGHUP, SIGQUIT and SIGUSR1 exit 128 + the signal by
raising ``SystemExit`` in the main thread, so ``with`` blocks unwind and no temporary output
file stays behind. A closed pipe (``| head -1``) ends quietly with status 1.
"""

import contextlib
import gc
import os
import signal
import sys
from typing import Annotated, Any

import typer

from lossctl.cli.boundary import Group
from lossctl.cli.env import Environment

__all__ = ["app", "main"]

APP_HELP = """\
lossctl: loss values exactly as Keras, PyTorch and optax compute them, per-sample breakdowns,
and label conversion between class labels (N,) and one-hot rows [N, C].

Input is a CSV/TSV/whitespace text file, JSON lines, NPY, NPZ (file.npz:key), Parquet or
Feather file, a glob or directory of such shards, or standard input (-), any of them gzip,
bzip2, xz or zstd compressed. Results go to standard output: a table or report on a terminal, plain data in
a pipe (compute prints the bare value); choose with --format/-f or write a file with -o (format
from its extension). Messages, notes and warnings go to standard error, never into the data.
"""

APP_EPILOG = """\
\b
Exit codes:
  0    success
  1    bad data or unreadable input (the message names the file, row and fix)
  2    bad command line
  3    compute --fail-above or --fail-below: the value is past the threshold
  130  interrupted (Ctrl-C); 128+N ended by signal N (143: SIGTERM)
\b
Environment:
  NO_COLOR=1       no colour in tables (like --no-color)
  LOSSCTL_DEBUG=1  show the Python traceback of an error
\b
Examples:
  lossctl compute scce labels.csv probs.csv
  lossctl compute CrossEntropyLoss labels.csv logits.csv --compare keras,torch
  lossctl inspect labels.csv preds.csv
  lossctl explain categorical_crossentropy
  lossctl onehot labels.csv -n 10 --offset 1 > onehot.csv
  lossctl COMMAND --help
"""

app = typer.Typer(
    name="lossctl",
    cls=Group,
    help=APP_HELP,
    epilog=APP_EPILOG,
    rich_markup_mode=None,  # keeps [N, C] in help, and printing help never imports rich
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


def _version_callback(value: bool) -> None:
    if value:
        import lossctl

        print(f"lossctl {lossctl.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool | None, typer.Option(
        "--version", "-V", callback=_version_callback, is_eager=True,
        help="Print the version (lossctl X.Y.Z) and exit.")] = None,
) -> None:
    """Root options; the help text is APP_HELP."""


#: Signals that end the process: each exits 128 + its number, unwinding ``with`` blocks.
TERMINATING = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")


def _on_signal(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _command(argv: list[str]) -> str | None:
    """The command named on the command line (the first word that is not an option), or None
    (help, version, nothing)."""
    return next((a for a in argv if not a.startswith("-")), None)


def main() -> None:
    """Console-script and ``python -m lossctl`` entry point (it ends the process; in-process
    callers use :data:`app` or typer's CliRunner)."""
    for name in TERMINATING:
        with contextlib.suppress(ValueError, AttributeError, OSError):  # not main thread / no signal
            signal.signal(getattr(signal, name), _on_signal)
    # pyarrow's default pool (mimalloc) keeps the pages of freed text chunks: parsing a CSV in
    # 2 MB chunks at --memory-limit 64M held 56 MB for 16 MB in use. The system allocator
    # returns them, and parsed CSV 15-20% faster here (measured; a user's setting wins).
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    # numpy's OpenBLAS starts one thread per core when numpy is imported, and they spin for a
    # while after each call: beside lossctl's own block threads (--threads, one per core) they
    # only take cores from them. With one BLAS thread a 10M-row compute took 0.3 s less CPU
    # and 8% less wall time, the worked example 0.08 s less CPU (measured; a user's setting
    # wins). numpy reads it once, when it is first imported, after this line.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from lossctl.cli import load_commands

    load_commands(_command(sys.argv[1:]), summaries=True)  # only the module of the command run

    if sys.stdout is None:  # started with stdout closed (>&-): data has nowhere to go
        Environment.from_system().say("error", "standard output is closed; nothing can be written")
        sys.exit(1)
    try:
        app(prog_name="lossctl", obj=Environment.from_system())
    except KeyboardInterrupt:  # Ctrl-C outside click's own handling (as it starts or ends)
        sys.exit(130)
    finally:
        # The work is done and the process ends: the collections Python runs while it shuts
        # down would walk every object the imports made (numpy, pyarrow, the catalogue) again.
        # Frozen, they are skipped; refcounts still free them, and atexit hooks and
        # weakref.finalize callbacks still run. Measured: the exit after the value was printed
        # took 58 -> 12 ms on the worked example and 99 -> 25 ms on 1M CSV rows.
        gc.freeze()
