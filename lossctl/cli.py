"""The ``lossctl`` command line: parse, call the library, hand the results to the writers.

Adding a command::

    @app.command(epilog=_examples("lossctl mycmd data.csv", "cat data.csv | lossctl mycmd"))
    @lossctl_command
    def mycmd(input: InputArg = None, cols: ColsOpt = None, header: HeaderOpt = None,
              delimiter: DelimiterOpt = None, fmt: FormatOpt = None, output: OutputOpt = None,
              precision: PrecisionOpt = 6, no_color: NoColorOpt = False, quiet: QuietOpt = False,
              no_warn: NoWarnOpt = False, strict: StrictOpt = False) -> None:
        '''One sentence on what it does (the first line of --help). More sentences.'''
        spec = resolve_input(input, "mycmd")      # "-" for stdin; a TTY stdin fails at once
        from lossctl import readers, writers      # heavy imports INSIDE the command
        writers.check_output(output, [spec])      # before any work: -o never an input
        out_fmt = writers.resolve_format(fmt.value if fmt else None, output,
                                         stdout_isatty=_stdout_isatty())
        with readers.open_source(spec, readers.ReadOptions(header=header,
                                                           delimiter=delimiter)) as src:
            ...                                   # library calls, block by block
            with writers.TableSink(out_fmt, names, output=output, nrows=src.nrows,
                                   precision=precision, no_color=no_color) as sink:
                sink.write(...)                   # streamed; -o is atomic

* :func:`lossctl_command` (below ``@app.command()``) turns :class:`~lossctl.errors.LossctlError`
  into ``lossctl: error: ...`` + its exit code, any other exception into a one-line "internal
  error" (``LOSSCTL_DEBUG=1`` re-raises it), and prints library warnings/notes on stderr according
  to ``-q``/``--no-warn``/``--strict`` (it reads those keyword arguments by name).
* The option aliases (``FormatOpt``, ``OutputOpt``, ``DelimiterOpt``, ``HeaderOpt``, ...) are
  shared by every command so an option means the same everywhere. The converters are the one
  exception: their ``--header`` writes an OUTPUT header (as the onehot issue asks), so their
  input header is ``--input-header/--no-input-header`` (``InputHeaderOpt``).
* Importing this module must not import numpy, pyarrow, pandas or rich: ``lossctl --help`` and
  ``--version`` stay fast (a subprocess test checks ``sys.modules``).

Signals: Ctrl-C exits 130 (typer); SIGTERM exits 143 by raising ``SystemExit`` in the main thread,
so ``with`` blocks unwind and no half-written output file stays behind (installed by :func:`main`).
A closed pipe (``| head -1``) ends quietly with status 1 (typer catches EPIPE; every write and
flush of ours happens inside the command).
"""
from __future__ import annotations

import contextlib
import enum
import errno
import functools
import os
import re
import signal
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Optional

import typer

from lossctl.errors import (
    DataError,
    InputError,
    LossctlError,
    LossctlNote,
    LossctlWarning,
    ShapeError,
    UsageError,
    note,
)

__all__ = ["app", "lossctl_command", "main", "resolve_input", "stdin_tty_error"]


def _examples(*lines: str) -> str:
    """An epilog of example command lines, kept verbatim by click (``\\b``)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


APP_HELP = """\
lossctl: loss values exactly as Keras, PyTorch and optax compute them, per-sample breakdowns,
and label conversion between class labels (N,) and one-hot rows [N, C].

Input is a CSV/TSV/whitespace text file, NPY, NPZ (file.npz:key), Parquet or Feather file, or
standard input (-). Results go to standard output: a table on a terminal, CSV in a pipe;
choose with --format/-f or write a file with -o (format from its extension). Messages, notes and
warnings go to standard error, never into the data.
"""

APP_EPILOG = """\
\b
Exit codes:
  0    success
  1    bad data or unreadable input (the message names the file, row and fix)
  2    bad command line
  3    compute --fail-above: the loss is above the threshold
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM)
\b
Environment:
  NO_COLOR=1       no colour in tables (like --no-color)
  LOSSCTL_DEBUG=1  show the Python traceback of an error
\b
Examples:
  lossctl onehot labels.csv -n 10
  lossctl onehot labels.csv | lossctl sparse
  lossctl COMMAND --help
"""

app = typer.Typer(
    name="lossctl",
    help=APP_HELP,
    epilog=APP_EPILOG,
    rich_markup_mode=None,  # keeps [N, C] in help, and printing help never imports rich
    pretty_exceptions_show_locals=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)


# --- shared options -------------------------------------------------------------------------------


class Format(str, enum.Enum):
    """Output formats (``lossctl.writers.FORMATS``)."""

    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    jsonl = "jsonl"
    npy = "npy"


_DELIMITERS = {
    ",": ",",
    "comma": ",",
    "\t": "\t",
    "\\t": "\t",
    "tab": "\t",
    ";": ";",
    "semicolon": ";",
    " ": " ",
    "space": " ",
    "whitespace": " ",
}


def _delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    key = value if value.strip() == "" else value.strip().lower()
    if key not in _DELIMITERS:
        raise typer.BadParameter(
            f"{value!r} is not a delimiter lossctl reads; use ',', 'tab', ';' or 'space'"
        )
    return _DELIMITERS[key]


def _classes(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [c.strip() for c in value.split(",")]
    if not any(names):
        raise typer.BadParameter("give class names separated by commas, e.g. --classes cat,dog")
    return names


InputArg = Annotated[
    Optional[str],
    typer.Argument(
        metavar="INPUT",
        help="Input file (CSV, TSV, TXT, NPY, NPZ as file.npz:key, Parquet, Feather) or - for "
        "standard input. Default: standard input, which must then be a pipe or a file.",
        show_default=False,
    ),
]
FormatOpt = Annotated[
    Optional[Format],
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="Output format. Default: from the -o extension; otherwise a table on a terminal "
        "and csv in a pipe. npy is refused on a terminal.",
        show_default=False,
    ),
]
OutputOpt = Annotated[
    Optional[str],
    typer.Option(
        "--output",
        "-o",
        metavar="PATH",
        help="Write to PATH (atomically: complete or not at all) instead of standard output. "
        "Never one of the inputs.",
        show_default=False,
    ),
]
DelimiterOpt = Annotated[
    Optional[str],
    typer.Option(
        "--delimiter",
        "-d",
        metavar="SEP",
        callback=_delimiter,
        help="Input delimiter: ',', 'tab', ';' or 'space' (runs of whitespace). Default: from "
        "the extension, else sniffed.",
        show_default=False,
    ),
]
#: Input header for commands whose output header is not an option (compute, inspect, ...).
HeaderOpt = Annotated[
    Optional[bool],
    typer.Option(
        "--header/--no-header",
        help="Whether the input's first row is a header. Default: detected (a first row that "
        "is not numeric while the rest is).",
        show_default=False,
    ),
]
#: Input header for the converters, whose --header switches the OUTPUT header on.
InputHeaderOpt = Annotated[
    Optional[bool],
    typer.Option(
        "--input-header/--no-input-header",
        help="Whether the input's first row is a header. Default: detected (a first row that "
        "is not numeric while the rest is).",
        show_default=False,
    ),
]
ColsOpt = Annotated[
    Optional[str],
    typer.Option(
        "--cols",
        metavar="SPEC",
        help="Input columns: comma-separated names, 1-based numbers, ranges (2-11) and "
        "shell-style globs on names ('p*'). Default: all columns.",
        show_default=False,
    ),
]
PrecisionOpt = Annotated[
    int,
    typer.Option(
        "--precision",
        min=1,
        max=17,
        metavar="N",
        help="Significant digits in a table (csv/json always keep full precision).",
    ),
]
NoColorOpt = Annotated[
    bool, typer.Option("--no-color", help="No colour in tables (NO_COLOR=1 does the same).")
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Do not print notes (warnings still show).")
]
NoWarnOpt = Annotated[bool, typer.Option("--no-warn", help="Print neither notes nor warnings.")]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Treat warnings as errors: stop with exit status 1.")
]


# --- the command wrapper --------------------------------------------------------------------------


def _debug() -> bool:
    return os.environ.get("LOSSCTL_DEBUG", "").strip() not in ("", "0", "false", "no")


def _say(kind: str, text: str) -> None:
    """One ``lossctl: <kind>: text`` line on stderr (plain print: no rich markup)."""
    print(f"lossctl: {kind}: {text}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def message_policy(*, quiet: bool = False, no_warn: bool = False,
                   strict: bool = False) -> Iterator[None]:
    """Show library warnings and notes on stderr while a command runs.

    ``LossctlNote`` -> ``lossctl: note: ...`` (hidden by ``quiet`` and ``no_warn``);
    ``LossctlWarning`` -> ``lossctl: warning: ...`` (hidden by ``no_warn``; raised as an
    exception with ``strict``); other warnings (numpy's, say) -> ``lossctl: warning: ...``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("always", LossctlNote)
        warnings.simplefilter("error" if strict else "always", LossctlWarning)

        def show(message, category, filename, lineno, file=None, line=None):
            if issubclass(category, LossctlNote):
                if not (quiet or no_warn):
                    _say("note", str(message))
            elif not no_warn:
                text = str(message)
                if not issubclass(category, LossctlWarning):
                    text = f"{category.__name__}: {text}"
                _say("warning", text)

        warnings.showwarning = show
        yield


def _is_epipe(exc: BaseException) -> bool:
    return isinstance(exc, BrokenPipeError) or (
        isinstance(exc, OSError) and exc.errno == errno.EPIPE
    )


def lossctl_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command: message policy, and errors turned into one stderr line + exit code.

    * :class:`LossctlError` -> ``lossctl: error: {err}`` and ``err.exit_code`` (with
      ``LOSSCTL_DEBUG=1`` the traceback is printed first);
    * ``LossctlWarning`` under ``--strict`` -> ``lossctl: error: ...`` and exit 1;
    * typer's own exits, usage errors, ``KeyboardInterrupt`` and a closed pipe (EPIPE) pass
      through to typer, which handles them quietly;
    * anything else -> ``lossctl: error: internal error: <type>: <msg> (this is a bug; ...)``
      and exit 1, or the full traceback with ``LOSSCTL_DEBUG=1``.

    Reads the command's ``quiet``, ``no_warn`` and ``strict`` keyword arguments if it has them.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        policy = message_policy(
            quiet=bool(kwargs.get("quiet")),
            no_warn=bool(kwargs.get("no_warn")),
            strict=bool(kwargs.get("strict")),
        )
        try:
            with policy:
                return fn(*args, **kwargs)
        except LossctlError as err:
            if _debug():
                import traceback

                traceback.print_exc()
            _say("error", str(err))
            raise typer.Exit(int(err.exit_code)) from None
        except LossctlWarning as w:  # --strict
            if _debug():
                import traceback

                traceback.print_exc()
            _say("error", f"{w} (--strict makes warnings errors)")
            raise typer.Exit(1) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise
        except Exception as exc:
            if _is_epipe(exc) or _debug():
                raise
            _say(
                "error",
                f"internal error: {type(exc).__name__}: {exc} (this is a bug; rerun with "
                "LOSSCTL_DEBUG=1 for the traceback)",
            )
            raise typer.Exit(1) from None

    return wrapper


# --- standard streams -----------------------------------------------------------------------------


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def stdin_tty_error(command: str) -> UsageError:
    """The error for a command started with no INPUT while stdin is a terminal."""
    return UsageError(
        f"no input: {command} reads standard input, which is a terminal",
        hint=f"give a file (lossctl {command} labels.csv) or pipe data in "
        f"(cat labels.csv | lossctl {command}); use - to type rows by hand",
    )


def resolve_input(value: str | None, command: str, *, stdin_isatty: bool | None = None) -> str:
    """The input spec: ``value``, or ``-`` when not given.

    With no INPUT and a terminal on stdin, fail at once (exit 2) instead of waiting for rows the
    user does not know to type. An explicit ``-`` does read the terminal.

    Args:
        value: the INPUT argument (None when omitted).
        command: the command name, for the message.
        stdin_isatty: override for tests; default ``sys.stdin.isatty()``.
    """
    if value is not None:
        return value
    tty = _isatty(sys.stdin) if stdin_isatty is None else stdin_isatty
    if tty:
        raise stdin_tty_error(command)
    return "-"


def _stdout_isatty() -> bool:
    return _isatty(sys.stdout)


# --- version and root -----------------------------------------------------------------------------


def _version_callback(value: bool) -> None:
    if value:
        import lossctl

        print(f"lossctl {lossctl.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        Optional[bool],
        typer.Option(
            "--version",
            "-V",
            callback=_version_callback,
            is_eager=True,
            help="Print the version (lossctl X.Y.Z) and exit.",
        ),
    ] = None,
) -> None:
    """Root options; the help text is APP_HELP."""


# --- onehot ---------------------------------------------------------------------------------------


class Dtype(str, enum.Enum):
    """Output dtype of ``onehot``."""

    int = "int"
    float = "float"


def _relabel(err: LossctlError, src: Any, header_forced: bool | None) -> LossctlError:
    """Polish an input error of a converter before it is shown.

    Names the source (``src`` is None when opening failed: the reader named it), renames the
    reader's generic ``--header/--no-header`` hints to the converters' ``--input-header`` flags,
    and suggests ``--input-header`` when a bad value sits on line 1 of a text file whose header
    was auto-detected as absent.
    """
    if not isinstance(err, (DataError, ShapeError, InputError)):
        return err
    if src is not None:
        err.with_source(src.name)
    if err.hint:
        err.hint = re.sub(r"--(no-)?header\b", r"--\1input-header", err.hint)
    if (
        src is not None
        and isinstance(err, DataError)
        and header_forced is None
        and src.kind == "text"
        and not src.has_header
        and err.location == src.location(0)
    ):
        tip = "if line 1 is a header, add --input-header"
        err.hint = f"{err.hint.rstrip('.')}; {tip}" if err.hint else tip
    err.args = (err.render(),)
    return err


@contextlib.contextmanager
def open_input(spec: str, options: Any, header_forced: bool | None) -> Iterator[Any]:
    """``readers.open_source`` for a converter, with its input errors polished by _relabel."""
    from lossctl import readers

    src = None
    try:
        with readers.open_source(spec, options) as src:
            yield src
    except LossctlError as err:
        _relabel(err, src, header_forced)
        raise


def _write_mapping(path: str, mapping: list[tuple[str, int]]) -> None:
    import numpy as np

    from lossctl import writers

    with writers.TableSink("csv", ["class", "column"], output=path, header=True) as sink:
        if mapping:
            sink.write(
                np.asarray([m[0] for m in mapping], dtype=str),
                np.asarray([m[1] for m in mapping], dtype=np.int64),
            )


@app.command(
    epilog=_examples(
        "lossctl onehot labels.csv -n 10                  # labels 0..9 -> 10 columns",
        "lossctl onehot labels.csv --offset 1 --header    # labels 1..10, header 1..10",
        "lossctl onehot pets.csv --cols species --mapping classes.csv -o y.npy",
        "lossctl onehot tags.csv --multi-label --classes a,b,c   # 'a;c' -> 1,0,1",
        "lossctl onehot labels.csv | lossctl sparse       # round trip",
    )
)
@lossctl_command
def onehot(
    input: InputArg = None,
    num_classes: Annotated[
        Optional[int],
        typer.Option(
            "--num-classes",
            "-n",
            min=1,
            metavar="N",
            help="Number of classes C (columns). Default: the largest label + 1 - offset, "
            "reported in a note.",
            show_default=False,
        ),
    ] = None,
    offset: Annotated[
        int,
        typer.Option(
            "--offset",
            metavar="K",
            help="Labels start at K: labels K..K+C-1 go to columns 0..C-1 (--offset 1 for "
            "1-based labels).",
        ),
    ] = 0,
    classes: Annotated[
        Optional[str],
        typer.Option(
            "--classes",
            metavar="A,B,C",
            callback=_classes,
            help="Class names in column order; labels are matched by name and an unknown label "
            "is an error. Default for string labels: their sorted unique values (reported in a "
            "note, or written with --mapping).",
            show_default=False,
        ),
    ] = None,
    mapping: Annotated[
        Optional[str],
        typer.Option(
            "--mapping",
            metavar="FILE",
            help="Write the class -> column mapping (CSV: class,column; columns 0-based) to FILE "
            "instead of reporting it in a note.",
            show_default=False,
        ),
    ] = None,
    dtype: Annotated[
        Optional[Dtype],
        typer.Option(
            "--dtype",
            case_sensitive=False,
            help="Output values: int (0/1, the default) or float (0.0/1.0; implied by --smooth).",
            show_default=False,
        ),
    ] = None,
    smooth: Annotated[
        float,
        typer.Option(
            "--smooth",
            min=0.0,
            max=1.0,
            metavar="EPS",
            help="Label smoothing: write y*(1-EPS) + EPS/C (float). With --multi-label every "
            "column is a binary target and EPS/2 is used (as Keras binary_crossentropy).",
        ),
    ] = 0.0,
    multi_label: Annotated[
        bool,
        typer.Option(
            "--multi-label",
            help="Several labels per row, separated by ';' or spaces in one cell ('1;3'), or "
            "spread over several columns (empty cells ignored): writes multi-hot rows. A row "
            "without labels becomes a row of zeros (noted).",
        ),
    ] = False,
    cols: ColsOpt = None,
    header: Annotated[
        bool,
        typer.Option(
            "--header",
            help="Write a header row of class names (csv/tsv). Off by default, so the output "
            "is the bare [N, C] matrix. For the input's header see --input-header.",
        ),
    ] = False,
    input_header: InputHeaderOpt = None,
    delimiter: DelimiterOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    precision: PrecisionOpt = 6,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    no_warn: NoWarnOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Convert class labels (N,) to one-hot rows [N, C].

    Labels are integers (whole floats such as 3.0 are accepted), or strings such as cat/dog.
    Label L goes to column L - offset; string labels go to the column of their --classes name,
    or of their place in sorted order. The input is one label column: use --cols to pick it
    from a wider file, or --multi-label for several labels per row.

    Every bad label stops the conversion with an error naming the line (text files, 1-based,
    header included) or row (NPY/Parquet, 0-based) and the value: a label >= C, a label below
    the offset, a fraction (2.5), an empty cell, NaN, an unknown string with --classes. Nothing
    is silently dropped, zeroed or wrapped around. With -o, nothing is written on error.

    Rows are converted and written block by block. When C must be inferred, a file is read
    twice; standard input is kept in memory between the two passes (8 bytes per integer
    label).
    """
    spec = resolve_input(input, "onehot")
    from lossctl import encoding, readers, writers

    class_list: list[str] | None = classes  # type: ignore[assignment]  # split by _classes
    if mapping is not None:
        if mapping == "-":
            raise UsageError("--mapping needs a file name: standard output carries the data",
                             hint="give --mapping classes.csv")
        writers.check_output(mapping, [spec])
        if output is not None and os.path.abspath(mapping) == os.path.abspath(output):
            raise UsageError("--mapping and -o name the same file",
                             hint="write the mapping to its own file")
    writers.check_output(output, [spec])
    out_fmt = writers.resolve_format(
        fmt.value if fmt is not None else None, output, stdout_isatty=_stdout_isatty()
    )
    dtype_s = "float" if smooth > 0 and dtype is None else (dtype.value if dtype else "int")
    if smooth > 0 and dtype_s == "int":
        raise UsageError("--smooth writes fractions, so --dtype int does not apply",
                         hint="drop --dtype int (the output is float)")
    enc = encoding.OneHotEncoder(
        num_classes,
        offset=offset,
        classes=class_list,
        dtype=dtype_s,
        smooth=smooth,
        multi_label=multi_label,
        report_mapping=mapping is None,
    )
    options = readers.ReadOptions(header=input_header, delimiter=delimiter)
    with open_input(spec, options, input_header) as src:
        enc.location = src.location
        sel = src.select(cols)
        if enc.needs_scan:
            if spec == "-":  # standard input is read once: keep the labels for pass two
                kept = [(b.data, b.start) for b in src.blocks(sel)]
                for data, start in kept:
                    enc.scan(data, start)
                blocks: Any = kept
            else:
                for b in src.blocks(sel):
                    enc.scan(b.data, b.start)
                blocks = ((b.data, b.start) for b in src.blocks(sel))
            space = enc.finish_scan()
        else:
            space = enc.space
            blocks = ((b.data, b.start) for b in src.blocks(sel))
        assert space is not None
        with writers.TableSink(
            out_fmt,
            space.column_names,
            output=output,
            header=header or out_fmt == "table",
            nrows=src.nrows,
            precision=precision,
            no_color=no_color,
        ) as sink:
            for chunk, _start in enc.transform_blocks(blocks):
                sink.write(chunk)
            if mapping is not None:
                _write_mapping(mapping, space.mapping())


# --- sparse ---------------------------------------------------------------------------------------


@app.command(
    epilog=_examples(
        "lossctl sparse onehot.csv                        # [N, C] one-hot -> labels",
        "lossctl sparse probs.npy --argmax --offset 1     # predicted 1-based labels",
        "lossctl sparse multihot.csv --threshold 0.5      # '0;2' cells",
        "lossctl onehot labels.csv -f npy | lossctl sparse -",
    )
)
@lossctl_command
def sparse(
    input: InputArg = None,
    argmax: Annotated[
        bool,
        typer.Option(
            "--argmax",
            help="Take the column of the largest value (probabilities, scores, smoothed "
            "targets). Ties go to the lowest column and are counted in a note.",
        ),
    ] = False,
    threshold: Annotated[
        Optional[float],
        typer.Option(
            "--threshold",
            metavar="T",
            help="Multi-hot rows: every column with a value > T, written as one cell of labels "
            "joined by ';' (empty if none, noted).",
            show_default=False,
        ),
    ] = None,
    offset: Annotated[
        int,
        typer.Option(
            "--offset",
            metavar="K",
            help="Add K to the column numbers (the inverse of onehot --offset). Uses numbers "
            "even when the input has a header.",
        ),
    ] = 0,
    classes: Annotated[
        Optional[str],
        typer.Option(
            "--classes",
            metavar="A,B,C",
            callback=_classes,
            help="Names for the columns, in order. Default: the input's header names if it has "
            "a header, otherwise the 0-based column numbers.",
            show_default=False,
        ),
    ] = None,
    numbers: Annotated[
        bool,
        typer.Option(
            "--numbers",
            help="Write column numbers even when the input has a header row.",
        ),
    ] = False,
    tolerance: Annotated[
        float,
        typer.Option(
            "--tolerance",
            min=0.0,
            max=0.5,
            metavar="TOL",
            help="Strict mode: how far from 0 and 1 a value may be.",
        ),
    ] = 1e-6,
    cols: ColsOpt = None,
    header: Annotated[
        bool,
        typer.Option(
            "--header",
            help="Write a header row ('label') in csv/tsv output. Off by default, so the output "
            "is the bare label column. For the input's header see --input-header.",
        ),
    ] = False,
    input_header: Annotated[
        Optional[bool],
        typer.Option(
            "--input-header/--no-input-header",
            help="Whether the input's first row is a header (its names become the labels). "
            "Default: detected (a first row that is not numeric while the rest is).",
            show_default=False,
        ),
    ] = None,
    delimiter: DelimiterOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    precision: PrecisionOpt = 6,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    no_warn: NoWarnOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Convert one-hot rows [N, C] (or probabilities, or multi-hot rows) to class labels (N,).

    Strict by default: every row must hold exactly one 1 and 0 elsewhere (within --tolerance).
    A row of zeros, a row with several ones, a value outside {0, 1} or NaN is an error naming
    the line (text) or row (NPY/Parquet), with the option that fits: --argmax for
    probabilities or scores, --threshold T for multi-hot rows.

    The label of column j is j + offset, or the j-th --classes name, or the j-th header name
    of the input. Rows are converted and written block by block.
    """
    spec = resolve_input(input, "sparse")
    from lossctl import encoding, readers, writers

    class_list: list[str] | None = classes  # type: ignore[assignment]  # split by _classes
    if numbers and class_list is not None:
        raise UsageError("--numbers and --classes exclude each other",
                         hint="--classes names the columns; --numbers numbers them")
    writers.check_output(output, [spec])
    out_fmt = writers.resolve_format(
        fmt.value if fmt is not None else None, output, stdout_isatty=_stdout_isatty()
    )
    dec = encoding.SparseDecoder(
        argmax=argmax, threshold=threshold, offset=offset, classes=class_list, tol=tolerance
    )
    options = readers.ReadOptions(header=input_header, delimiter=delimiter)
    with open_input(spec, options, input_header) as src:
        dec.location = src.location
        sel = src.select(cols)
        if class_list is None and not numbers and offset == 0 and src.has_header:
            names = [src.columns[i] for i in sel]
            dec.classes = names
            if names != [str(j) for j in range(len(names))]:
                shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
                note(
                    f"labels are the input's header names ({shown}); "
                    "give --numbers for column numbers"
                )
        name = "labels" if dec.multi else "label"
        with writers.TableSink(
            out_fmt,
            [name],
            output=output,
            header=header or out_fmt == "table",
            nrows=src.nrows,
            precision=precision,
            no_color=no_color,
        ) as sink:
            for b in src.blocks(sel):
                sink.write(dec.transform(b.data, b.start))
            dec.finish()


# --- entry point ----------------------------------------------------------------------------------


def _on_sigterm(signum: int, frame: Any) -> None:
    # Unwind like Ctrl-C (with blocks discard temporary files), but exit 143 = 128 + SIGTERM.
    raise SystemExit(128 + signal.SIGTERM)


def main() -> None:
    """Console-script and ``python -m lossctl`` entry point."""
    with contextlib.suppress(ValueError, AttributeError):  # not the main thread / no SIGTERM
        signal.signal(signal.SIGTERM, _on_sigterm)
    app(prog_name="lossctl")
