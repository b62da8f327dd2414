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

import contextlib
import dataclasses
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
import typer.core

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
standard input (-). Results go to standard output: a table or report on a terminal, plain data in
a pipe (compute prints the bare value); choose with --format/-f or write a file with -o (format
from its extension). Messages, notes and warnings go to standard error, never into the data.
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
  lossctl compute scce labels.csv probs.csv
  lossctl compute CrossEntropyLoss labels.csv logits.csv --compare keras,torch
  lossctl inspect labels.csv preds.csv
  lossctl explain categorical_crossentropy
  lossctl onehot labels.csv -n 10 --offset 1 > onehot.csv
  lossctl COMMAND --help
"""


class _Group(typer.core.TyperGroup):
    """Lists the commands in the order a user needs them (main job first)."""

    ORDER = ("compute", "inspect", "explain", "list", "onehot", "sparse")

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: self.ORDER.index(n) if n in self.ORDER else 99)

app = typer.Typer(
    name="lossctl",
    cls=_Group,
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


# --- compute ---------------------------------------------------------------------------------------


class Reduction(str, enum.Enum):
    mean = "mean"
    sum = "sum"
    none = "none"
    mean_with_sample_weight = "mean_with_sample_weight"
    batchmean = "batchmean"


class Convention(str, enum.Enum):
    keras = "keras"
    torch = "torch"


class FloatDtype(str, enum.Enum):
    float64 = "float64"
    float32 = "float32"


def _opt(flag: str, help: str, metavar: str | None = None, *extra: str) -> Any:
    return typer.Option(flag, *extra, help=help, metavar=metavar, show_default=False,
                        rich_help_panel=None)


def _number_list(text: str) -> list[float] | None:
    try:
        return [float(x) for x in text.split(",") if x.strip() != ""]
    except ValueError:
        return None


def _read_column(spec: str, read_opts: Any, cols: str | None, what: str, inputs: list[str]) -> Any:
    """A whole single-column source (sample weights, class weights) as a 1-D float array."""
    from lossctl import readers

    arr, src = readers.read_array(spec, read_opts, cols)
    if arr.ndim == 2 and arr.shape[1] != 1 and arr.shape[0] == 1:
        arr = arr.T
    if arr.ndim == 2 and arr.shape[1] != 1:
        raise ShapeError(
            f"{what} must be one column, found {arr.shape[1]}",
            source=src.name,
            hint="select it with --weight-cols" if what == "sample weights" else None,
        )
    if arr.dtype.kind not in "fiub":
        raise DataError(f"{what} must be numbers", source=src.name)
    return arr.reshape(-1)


def _compare_reasons(spec: Any, runs: list[Any], weighted: bool, class_weighted: bool) -> list[str]:
    """One line per convention saying why its value differs from the first one's."""
    base = runs[0]
    reasons = []
    for r in runs:
        if r is base:
            reasons.append("reference")
            continue
        if base.value is not None and r.value is not None and (
            base.value == r.value or abs(base.value - r.value) <= 1e-12 * max(abs(base.value), 1)
        ):
            reasons.append("same value")
            continue
        why = []
        c = base.counters
        if c.renormalised and spec.target in ("dense", "index") and spec.kind == "row":
            why.append(f"Keras renormalises {c.renormalised} row{'s' if c.renormalised != 1 else ''} "
                       "that do not sum to 1; "
                       "PyTorch does not")
        if c.clipped and spec.prediction == "probabilities" and not r.options.get("from_logits"):
            if spec.name == "binary_crossentropy":
                why.append(f"Keras clips probabilities to [1e-7, 1-1e-7], PyTorch clamps log at "
                           f"-100 ({c.clipped} row{'s' if c.clipped != 1 else ''} at the bounds)")
            else:
                why.append(f"Keras clips probabilities to [1e-7, 1-1e-7] ({c.clipped} "
                               f"row{'s' if c.clipped != 1 else ''} at "
                           "the bounds); PyTorch takes log of them as they are")
        if spec.name == "kl_divergence":
            why.append("Keras clips both inputs to [1e-7, 1]; PyTorch 'mean' divides by N*C "
                       "(use --reduction batchmean for N)")
        if weighted and spec.torch_mean == "weights":
            why.append("weighted mean: Keras divides sum(w*l) by N, PyTorch by sum(w)")
        if class_weighted and spec.torch_mean == "class_weights":
            why.append("class weights: Keras uses them as sample weights (divides by N), "
                       "PyTorch divides by the sum of the targets' weights")
        if spec.kind == "elementwise" and r.reduction == "sum":
            why.append("sum: Keras sums per-sample means, PyTorch sums every element")
        if spec.name in ("huber",) and weighted:
            why.append("PyTorch huber_loss divides weighted sums by N*C")
        if not why:
            why.append(spec.divergences or "the conventions compute this loss differently")
        reasons.append("; ".join(why))
    return reasons


@app.command(
    epilog=_examples(
        "lossctl compute scce samples/digits_labels.csv samples/digits_probs.csv",
        "lossctl compute cce onehot.csv logits.csv --from-logits --label-smoothing 0.1",
        "lossctl compute scce results.csv --true-cols label --pred-cols 'p*'",
        "lossctl compute CrossEntropyLoss labels.csv logits.csv --class-weight 1,3,0.5",
        "lossctl compute bce y.csv p.csv --compare keras,torch",
        "loss=$(lossctl compute mse y.csv p.csv)     # a pipe gets the value alone",
        "lossctl compute scce y.csv p.csv -f csv -o per_sample.csv",
        "lossctl compute mse y.csv p.csv --fail-above 0.5 || echo 'regressed'",
    )
)
@lossctl_command
def compute(
    loss: Annotated[
        str,
        typer.Argument(
            metavar="LOSS",
            help="Loss name or alias from any framework, e.g. sparse_categorical_crossentropy, "
            "scce, CrossEntropyLoss, mse_loss, kl_div (case-insensitive; see `lossctl list`).",
            show_default=False,
        ),
    ],
    y_true: Annotated[
        str,
        typer.Argument(
            metavar="Y_TRUE",
            help="Labels/targets: a file (CSV, TSV, TXT, NPY, NPZ as file.npz:key, Parquet, "
            "Feather) or - for standard input.",
            show_default=False,
        ),
    ],
    y_pred: Annotated[
        Optional[str],
        typer.Argument(
            metavar="[Y_PRED]",
            help="Predictions, shape [N, C] or [N]. Omitted: the same file as Y_TRUE (select "
            "columns with --true-cols / --pred-cols).",
            show_default=False,
        ),
    ] = None,
    true_cols: Annotated[Optional[str], _opt("--true-cols", "Columns of Y_TRUE: names, 1-based numbers, ranges (2-11), globs ('p*').", "SPEC")] = None,
    pred_cols: Annotated[Optional[str], _opt("--pred-cols", "Columns of Y_PRED (same SPEC syntax).", "SPEC")] = None,
    from_logits: Annotated[Optional[bool], typer.Option("--from-logits/--no-from-logits", help="Y_PRED holds logits (raw scores), not probabilities. Default: what the loss name implies (PyTorch's cross_entropy and the tf.nn/optax names take logits).", show_default=False)] = None,
    label_smoothing: Annotated[Optional[float], _opt("--label-smoothing", "Smooth the targets: binary y*(1-EPS)+EPS/2, categorical y*(1-EPS)+EPS/C (also for integer labels).", "EPS")] = None,
    offset: Annotated[Optional[int], _opt("--offset", "Class labels start at K (e.g. --offset 1 for labels 1..C).", "K")] = None,
    ignore_class: Annotated[Optional[int], _opt("--ignore-class", "Ignore rows whose label is K (Keras ignore_class, PyTorch ignore_index; torch's default -100 applies under --convention torch).", "K")] = None,
    sample_weight: Annotated[Optional[str], _opt("--sample-weight", "One weight per row, from any readable source (one column, or choose it with --weight-cols).", "SOURCE")] = None,
    weight_cols: Annotated[Optional[str], _opt("--weight-cols", "Column of the --sample-weight source (default: its only column).", "SPEC")] = None,
    class_weight: Annotated[Optional[str], _opt("--class-weight", "Class weights w0,w1,... or a SOURCE holding them (Keras: per-row weights w[y]; PyTorch: the loss's weight argument).", "W")] = None,
    pos_weight: Annotated[Optional[float], _opt("--pos-weight", "Weight of the positive term (BCE from logits, as PyTorch/tf.nn).", "W")] = None,
    delta: Annotated[Optional[float], _opt("--delta", "Huber threshold (default 1).", "D")] = None,
    beta: Annotated[Optional[float], _opt("--beta", "Smooth-L1 threshold (default 1) / Tversky weight of false positives (default 0.5).", "B")] = None,
    log_input: Annotated[Optional[bool], typer.Option("--log-input/--no-log-input", help="poisson_nll: Y_PRED holds log-rates (PyTorch default). kl_divergence: Y_PRED holds log-probabilities (implied by kl_div/KLDivLoss).", show_default=False)] = None,
    full: Annotated[Optional[bool], typer.Option("--full/--no-full", help="poisson_nll: add the Stirling term.", show_default=False)] = None,
    quantile: Annotated[Optional[float], _opt("--quantile", "Pinball quantile in (0, 1) (default 0.5).", "Q")] = None,
    gamma: Annotated[Optional[float], _opt("--gamma", "Focal exponent (default 2).", "G")] = None,
    alpha: Annotated[Optional[float], _opt("--alpha", "Focal alpha (0.25) / Tversky weight of false negatives (0.5).", "A")] = None,
    class_balancing: Annotated[Optional[bool], typer.Option("--class-balancing/--no-class-balancing", help="binary_focal_crossentropy: apply alpha (Keras apply_class_balancing).", show_default=False)] = None,
    q: Annotated[Optional[float], _opt("--q", "Generalized cross-entropy exponent in (0, 1) (default 0.5).", "Q")] = None,
    epsilon: Annotated[Optional[float], _opt("--epsilon", "Poly-1 coefficient (default 2).", "E")] = None,
    log_target: Annotated[Optional[bool], typer.Option("--log-target/--no-log-target", help="kl_divergence (PyTorch): Y_TRUE holds log-probabilities.", show_default=False)] = None,
    p: Annotated[Optional[int], _opt("--p", "multi_margin exponent, 1 or 2 (default 1).", "P")] = None,
    margin: Annotated[Optional[float], _opt("--margin", "multi_margin margin (default 1).", "M")] = None,
    reduction: Annotated[Optional[Reduction], typer.Option("--reduction", "-r", case_sensitive=False, help="mean (default: Keras sum(w*l)/N, PyTorch per its rules), sum, none (one value per sample), mean_with_sample_weight (sum(w*l)/sum(w)), batchmean (sum/N).", show_default=False)] = None,
    convention: Annotated[Optional[Convention], typer.Option("--convention", "-c", case_sensitive=False, help="Whose numbers: keras (default) or torch. PyTorch names (mse_loss, CrossEntropyLoss, ...) select torch.", show_default=False)] = None,
    dtype: Annotated[FloatDtype, typer.Option("--dtype", case_sensitive=False, help="Compute in float64, or float32 to reproduce Keras's float32 rounding (e.g. BCE(y=0, p=1) = 15.942385).")] = FloatDtype.float64,
    elementwise: Annotated[Optional[bool], typer.Option("--elementwise/--no-elementwise", help="Output the values before the class axis is reduced, shape [N, C] (as tf.nn.sigmoid_cross_entropy_with_logits and PyTorch reduction='none').", show_default=False)] = None,
    classes: Annotated[Optional[str], typer.Option("--classes", metavar="A,B,C", callback=_classes, help="Class names in the order of the prediction columns, for string labels (default: the prediction file's header when the labels are strings).", show_default=False)] = None,
    top: Annotated[int, typer.Option("--top", min=0, metavar="K", help="Worst samples shown in the table.")] = 10,
    fail_above: Annotated[Optional[float], _opt("--fail-above", "Exit with status 3 when the reduced loss exceeds X (for CI gates).", "X")] = None,
    memory_limit: Annotated[str, typer.Option("--memory-limit", metavar="SIZE", help="Memory budget for reading in blocks (e.g. 256M, 2G); inputs of any size stream within it.")] = "256M",
    compare: Annotated[Optional[str], _opt("--compare", "Compute under each convention (keras,torch or all) and show why the values differ.", "LIST")] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    precision: PrecisionOpt = 6,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    no_warn: NoWarnOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Compute a loss exactly as Keras or PyTorch would, with a per-sample breakdown.

    On a terminal: a report (value, worst samples, per-class table, histogram). In a pipe: the
    reduced value alone at full precision, or one line per sample with --reduction none;
    --format csv|tsv|jsonl|json|npy give per-sample data.
    """
    import numpy as np

    from lossctl import readers, writers
    from lossctl.engine import Computation, Side, aligned
    from lossctl.losses import registry

    spec, alias = registry.lookup(loss)  # usage error for unknown names, before any I/O
    if y_true == "-" and y_pred == "-":
        raise UsageError("Y_TRUE and Y_PRED cannot both be standard input")
    if "-" in (y_true, y_pred) and _isatty(sys.stdin):
        raise stdin_tty_error("compute")
    same_file = y_pred is None
    if same_file and not (true_cols and pred_cols):
        raise UsageError(
            "Y_PRED is missing",
            hint="give a predictions file, or select both from one file with --true-cols and "
            "--pred-cols",
        )
    tty = _stdout_isatty()
    fmt_name = fmt.value if fmt is not None else None
    out_fmt = writers.resolve_format(fmt_name, output, stdout_isatty=tty, plain="csv")
    value_only = fmt_name is None and output is None and not tty
    inputs = [s for s in (y_true, y_pred, sample_weight, class_weight) if s]
    writers.check_output(output, inputs)
    loss_opts = dict(
        from_logits=from_logits, label_smoothing=label_smoothing, pos_weight=pos_weight,
        delta=delta, beta=beta, log_input=log_input, full=full, quantile=quantile, gamma=gamma,
        alpha=alpha, class_balancing=class_balancing, q=q, epsilon=epsilon,
        log_target=log_target, p=p, margin=margin,
    )
    read_opts = readers.ReadOptions(header=header, delimiter=delimiter)

    cw = None
    if class_weight is not None:
        cw = _number_list(class_weight)
        if cw is None and "," in class_weight and not os.path.exists(class_weight):
            raise UsageError(f"--class-weight {class_weight!r} is not a list of numbers",
                             hint="give one number per class (--class-weight 1,2.5,1) or a file "
                             "holding them")
        if cw is None:
            cw = _read_column(class_weight, read_opts, None, "class weights", inputs).tolist()

    conventions = [convention.value if convention else None]
    if compare:
        names = [c.strip().lower() for c in compare.split(",") if c.strip()]
        if names == ["all"]:
            names = ["keras", "torch"]
        for c in names:
            if c not in ("keras", "torch"):
                raise UsageError(f"--compare takes keras, torch or all, not {c!r}")
        if elementwise or (reduction is not None and reduction.value == "none"):
            raise UsageError(
                "--compare compares reduced values, so it does not combine with "
                + ("--elementwise" if elementwise else "--reduction none"),
                hint="drop one of the two options",
            )
        conventions = names

    def make(conv: str | None) -> Computation:
        return Computation(
            loss, convention=conv, reduction=reduction.value if reduction else None,
            dtype=dtype.value, offset=offset, ignore_class=ignore_class, class_weight=cw,
            classes=classes, elementwise=elementwise, **loss_opts,
        )

    comp = make(conventions[0])  # validates every option before reading anything
    if cw is not None and _number_list(class_weight) is None:
        comp.class_weight_source = class_weight

    with contextlib.ExitStack() as stack:
        tsrc = stack.enter_context(readers.open_source(y_true, read_opts))
        psrc = tsrc if same_file else stack.enter_context(readers.open_source(y_pred, read_opts))
        tsel = tsrc.select(true_cols)
        psel = psrc.select(pred_cols)
        wsrc = wsel = None
        if sample_weight is not None:
            wsrc = stack.enter_context(readers.open_source(sample_weight, read_opts))
            wsel = wsrc.select(weight_cols)
            if len(wsel) != 1:
                raise ShapeError(f"sample weights must be one column, found {len(wsel)}",
                                 source=wsrc.name, hint="select it with --weight-cols")
        class_names = classes
        if class_names is None and psrc.has_header:
            class_names = [psrc.columns[i] for i in psel]
            comp.classes = class_names
        ts = Side(tsrc.name, tsrc.location)
        ps = Side(psrc.name, psrc.location)
        ws = Side(wsrc.name, wsrc.location) if wsrc else None
        label_names = classes  # for the report: only names the user gave or string labels use

        if compare:
            # every convention over the same rows: read once (a pipe cannot be read twice)
            yt = tsrc.read(tsel).data
            yp = (tsrc.read(psel) if same_file else psrc.read(psel)).data
            w = wsrc.read(wsel).data[:, 0] if wsrc else None
            runs = []
            for conv in conventions:
                c = make(conv)
                c.classes = comp.classes
                c.class_weight_source = comp.class_weight_source
                c.feed(yt, yp, w, true_side=ts, pred_side=ps, weight_side=ws)
                runs.append(c.finish())
            reasons = _compare_reasons(spec, runs, w is not None, cw is not None)
            rows = [
                {"loss": r.loss, "convention": r.convention, "reduction": r.reduction,
                 "value": r.value, "reason": why}
                for r, why in zip(runs, reasons)
            ]
            _emit_compare(rows, out_fmt, output, value_only, precision, no_color)
            _gate(fail_above, runs[0].value)
            return

        if same_file and tsrc.single_pass:
            # one pass over a pipe: read both column sets together, then split them; a text
            # label column makes the whole block text, so the predictions are converted back
            src_iter = _split_same_file(tsrc.blocks(tsel + psel), len(tsel),
                                        wsrc.blocks(wsel) if wsrc else None, tsrc.name)
        elif same_file:
            src_iter = aligned(tsrc.blocks(tsel), tsrc.blocks(psel),
                               wsrc.blocks(wsel) if wsrc else None)
        else:
            src_iter = aligned(tsrc.blocks(tsel), psrc.blocks(psel),
                               wsrc.blocks(wsel) if wsrc else None)

        src_iter = readers.prefetch(src_iter)  # read/parse the next block while this one computes
        from lossctl.report import ReportBuilder

        builder = ReportBuilder(top=top, class_names=label_names, offset=comp.offset)
        want_elem = comp.elementwise
        comp.details = out_fmt != "json" and not value_only  # classes for report/rows only
        # per-sample data streams out as it is computed; only json holds it (one object)
        stream_rows = out_fmt in ("csv", "tsv", "jsonl", "npy") and not value_only
        stream_lines = value_only and (comp.reduction == "none" or want_elem)
        keep = out_fmt == "json"
        kept: list[Any] = []
        kept_elem: list[Any] = []
        sink = None
        budget = _memory_budget(memory_limit)
        row_bytes = 8 * (len(tsel) + len(psel) + (1 if wsrc else 0))
        rows_per_block = _block_rows(budget, row_bytes)
        for src in {id(s): s for s in (tsrc, psrc, wsrc) if s is not None}.values():
            src.options = dataclasses.replace(src.options, block_rows=rows_per_block)
        total = tsrc.nrows if tsrc.nrows is not None else psrc.nrows
        with _Progress(quiet=quiet or no_warn, total=total, no_color=no_color) as bar:
            for start, (yt, yp, w) in _rows_checked(src_iter, tsrc, psrc, wsrc, psel):
                if start == 0 and label_names is None and yt.dtype.kind in "US":
                    builder.class_names = comp.classes  # string labels: report them by name
                res = comp.feed(yt, yp, None if w is None else w.reshape(-1),
                                start=start, true_side=ts, pred_side=ps, weight_side=ws)
                if out_fmt == "table":
                    builder.feed(res)
                if stream_rows or stream_lines:
                    if sink is None:  # columns are known once the first block is computed
                        cols = _per_sample_columns(res, want_elem, out_fmt, class_names,
                                                   comp.width or 1)
                        sink = stack.enter_context(writers.TableSink(
                            "csv" if stream_lines else out_fmt,
                            cols if not stream_lines or want_elem else ["loss"],
                            output=output, header=not stream_lines, precision=precision,
                            nrows=total if out_fmt == "npy" else None, no_color=no_color))
                    if stream_lines and not want_elem:
                        sink.write(res.per_sample)
                    else:
                        _write_per_sample(sink, out_fmt, res, builder, want_elem)
                if keep:
                    kept.append(res.per_sample)
                    if want_elem and res.elementwise is not None:
                        kept_elem.append(res.elementwise)
                bar.advance(yt.shape[0])
        result = comp.finish()

    if out_fmt == "table":
        from lossctl import render

        rep = builder.build(result)
        console = render.make_console(no_color=no_color, file=None)
        if output:
            with writers.atomic_open(output, "w") as fh:
                render.report(rep, console=render.make_console(no_color=True, file=fh, width=120),
                              precision=precision)
        else:
            render.report(rep, console=console, precision=precision)
    elif value_only:
        if not stream_lines:
            writers.write_value(result.value)
    elif out_fmt == "json":
        obj = {
            "loss": result.loss,
            "alias": result.alias,
            "convention": result.convention,
            "reduction": result.reduction,
            "value": result.value,
            "samples": result.samples,
            "classes": result.classes,
            "options": {k: v for k, v in result.options.items()},
            "per_sample": np.concatenate(kept).tolist() if kept else [],
        }
        if want_elem:
            obj["elementwise"] = np.concatenate(kept_elem).tolist() if kept_elem else []
        writers.write_json(obj, output=output)
    _gate(fail_above, result.value)


def _memory_budget(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not m:
        raise UsageError(f"--memory-limit {text!r} is not a size", hint="write it like 256M or 2G")
    scale = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}[m.group(2)]
    size = int(float(m.group(1)) * scale)
    if size < 64 * 2**20:
        raise UsageError(f"--memory-limit {text} is too small",
                         hint="allow at least 64M (Python and numpy alone take about 40M)")
    return size


def _block_rows(budget: int, row_bytes: int) -> int:
    """Rows per block so that a block and its temporaries fit the budget.

    About 48 MB go to the interpreter and its libraries; a block of float64 rows is copied a
    handful of times while it is converted, computed and reduced (measured peak: ~12 copies).
    """
    usable = max(budget - 48 * 2**20, 8 * 2**20)
    # the budget is a ceiling, not a target: ~64k-row blocks stay in cache and are fastest
    return int(min(max(usable // (12 * max(row_bytes, 8)), 1024), 1 << 16))


class _Progress:
    """A progress bar on stderr for work that takes more than a second.

    Only when stderr is a terminal and not ``--quiet``; it never touches stdout (rich's
    stdout redirection is off, see render.progress), and it is erased when done.
    """

    def __init__(self, *, quiet: bool, total: int | None, no_color: bool) -> None:
        import time

        self._enabled = not quiet and _isatty(sys.stderr)
        self._t0 = time.monotonic()
        self._total = total
        self._no_color = no_color
        self._bar: Any = None
        self._done = 0

    def __enter__(self) -> "_Progress":
        return self

    def advance(self, rows: int) -> None:
        import time

        self._done += rows
        if not self._enabled:
            return
        if self._bar is None and time.monotonic() - self._t0 > 1.0:
            from lossctl import render

            console = render.make_console(stderr=True, no_color=self._no_color)
            self._bar = render.progress(console, quiet=False, total=self._total,
                                        description="rows")
            self._bar.__enter__()
            self._bar.step(self._done - rows)
        if self._bar is not None:
            self._bar.step(rows)

    def __exit__(self, *exc: Any) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def _split_same_file(blocks: Any, k: int, weights: Any, name: str) -> Any:
    """(start, (labels, predictions, weights)) from one pass over blocks holding both column
    sets. A text label column makes the whole block text: convert the predictions back."""
    import numpy as np

    from lossctl.engine import aligned

    for start, (both, w) in aligned(blocks, weights):
        yt, yp = both[:, :k], both[:, k:]
        if yp.dtype.kind in "US":
            try:
                yp = yp.astype(np.float64)
            except ValueError:
                raise DataError("predictions must be numbers, found text", source=name,
                                hint="select the numeric columns with --pred-cols") from None
        yield start, (yt, yp, w)


def _rows_checked(blocks: Any, tsrc: Any, psrc: Any, wsrc: Any, psel: list[int]) -> Any:
    """Pass aligned blocks through; turn a row-count mismatch into the message users search
    for (the Keras/PyTorch wording), naming both files and their row counts."""
    try:
        yield from blocks
    except ShapeError as err:
        counts = getattr(err, "row_counts", None)
        if not counts:
            raise
        nt, npred = counts[0], counts[1]
        c = len(psel)
        if nt is not None and npred is not None and nt != npred:
            raise ShapeError(
                f"Y_TRUE has {nt} rows but Y_PRED has {npred} ({tsrc.name}: {nt}, {psrc.name}: "
                f"{npred}): Keras would fail with 'logits and labels must have the same first "
                f"dimension, got logits shape [{npred},{c}] and labels shape [{nt}]', PyTorch "
                f"with 'Expected input batch_size ({npred}) to match target batch_size ({nt})'",
                hint="the files must hold one row per sample in the same order; labels "
                "flattened from a [N, T] array or a header row read as data are the usual causes",
            ) from None
        if wsrc is not None and len(counts) > 2 and counts[2] is not None:
            raise ShapeError(
                f"{counts[2]} sample weights for {counts[0]} rows",
                source=wsrc.name,
                hint="give one weight per row",
            ) from None
        raise


def _per_sample_columns(res: Any, want_elem: bool, fmt: str, class_names: list[str] | None,
                        width: int) -> list[str]:
    if want_elem:
        if class_names and len(class_names) == width:
            return list(class_names)
        return [f"c{j}" for j in range(width)]
    if fmt == "npy":
        return ["loss"]
    if res.true_class is not None:
        return ["index", "label", "predicted", "loss"]
    return ["index", "loss"]


def _write_per_sample(sink: Any, fmt: str, res: Any, builder: Any, want_elem: bool) -> None:
    import numpy as np

    if want_elem:
        sink.write(res.elementwise)
        return
    if fmt == "npy":
        sink.write(res.per_sample)
        return
    n = res.per_sample.shape[0]
    index = np.arange(res.start, res.start + n, dtype=np.int64)
    if res.true_class is None:
        sink.write(index, res.per_sample)
        return

    def names(cls: Any) -> Any:
        if cls is None:
            return np.full(n, "", dtype=str)
        if builder.class_names is None:
            out = np.asarray(cls, dtype=np.int64) + builder.offset
            return np.where(np.asarray(cls) < 0, -1, out) if builder.offset else out
        return np.asarray([builder.label(int(c)) for c in cls], dtype=str)

    sink.write(index, names(res.true_class), names(res.pred_class), res.per_sample)


def _gate(fail_above: float | None, value: float | None) -> None:
    import math

    if fail_above is None or value is None:
        return
    if math.isnan(value) or value > fail_above:
        from lossctl.errors import ThresholdExceeded

        raise ThresholdExceeded(f"loss {value!r} is above --fail-above {fail_above!r}")


def _emit_compare(rows: list[dict], out_fmt: str, output: str | None, value_only: bool,
                  precision: int, no_color: bool) -> None:
    import numpy as np

    from lossctl import writers

    if out_fmt == "table":
        from lossctl import render

        if output:
            with writers.atomic_open(output, "w") as fh:
                render.compare(rows, console=render.make_console(no_color=True, file=fh, width=120),
                               precision=precision)
        else:
            render.compare(rows, console=render.make_console(no_color=no_color),
                           precision=precision)
        return
    if out_fmt == "json":
        writers.write_json({"loss": rows[0]["loss"], "compare": rows}, output=output)
        return
    values = np.asarray([np.nan if r["value"] is None else r["value"] for r in rows])
    if out_fmt == "npy":
        with writers.TableSink("npy", ["value"], output=output, nrows=len(rows)) as sink:
            sink.write(values)
        return
    fmt = "csv" if value_only else out_fmt
    with writers.TableSink(fmt, ["convention", "value", "reason"], output=output,
                           header=True) as sink:
        sink.write(np.asarray([r["convention"] for r in rows], dtype=str), values,
                   np.asarray([r["reason"] for r in rows], dtype=str))


# --- list / explain ----------------------------------------------------------------------------------


class Task(str, enum.Enum):
    regression = "regression"
    binary = "binary"
    multi_class = "multi-class"
    multi_label = "multi-label"
    segmentation = "segmentation"
    similarity = "similarity"


@app.command(
    name="list",
    epilog=_examples(
        "lossctl list",
        "lossctl list --task multi-class",
        "lossctl list -f json | jq '.[].name'",
    ),
)
@lossctl_command
def list_(
    task: Annotated[Optional[Task], typer.Option("--task", "-t", case_sensitive=False, help="Only losses for this task.", show_default=False)] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    no_warn: NoWarnOpt = False,
    strict: StrictOpt = False,
) -> None:
    """List every loss: names in each framework, task, what y_true and y_pred must be, options.

    A table on a terminal, CSV in a pipe, or --format json.
    """
    from lossctl import writers
    from lossctl.losses import registry

    out_fmt = writers.resolve_format(fmt.value if fmt else None, output,
                                     stdout_isatty=_stdout_isatty(), plain="csv")
    rows = [registry.describe(s) for s in registry.SPECS if task is None or s.task == task.value]
    if out_fmt == "json":
        writers.write_json(rows, output=output)
        return
    if out_fmt == "npy":
        raise UsageError("lossctl list has no numeric output for npy", hint="use -f csv or json")
    fws = registry.FRAMEWORKS
    if out_fmt == "table":  # narrow enough for a terminal: aliases in one column, short kinds
        cols = ["name", "task", "y_true", "y_pred", "other names", "options"]
        table = [
            [d["name"], d["task"], registry.TARGET_SHORT[s.target], s.prediction,
             "; ".join(f"{fw}: {' '.join(v)}" for fw, v in d["aliases"].items()),
             " ".join(list(d["options"]) + d["features"])]
            for s, d in zip((registry.get(r["name"]) for r in rows), rows)
        ]
        from lossctl import render

        title = f"lossctl losses ({len(rows)})"
        if output:
            with writers.atomic_open(output, "w") as fh:
                render.loss_list(table, console=render.make_console(no_color=True, file=fh,
                                                                    width=160), title=title)
        else:
            render.loss_list(table, console=render.make_console(no_color=no_color), title=title)
        return
    cols = ["name", "task", *fws, "y_true", "y_pred", "options"]

    def opts(d: dict) -> str:
        parts = [f"{k}={v}" if v not in (None, False) else k for k, v in d["options"].items()]
        return " ".join(parts + d["features"])

    table = [
        [d["name"], d["task"], *(" ".join(d["aliases"].get(f, [])) for f in fws), d["y_true"],
         d["y_pred"], opts(d)]
        for d in rows
    ]
    import numpy as np

    with writers.TableSink(out_fmt, cols, output=output, header=True, no_color=no_color,
                           title="lossctl losses") as sink:
        if table:
            sink.write(*(np.asarray([r[j] for r in table], dtype=str) for j in range(len(cols))))


@app.command(
    epilog=_examples(
        "lossctl explain scce",
        "lossctl explain CrossEntropyLoss",
        "lossctl explain kl_div -f json",
    )
)
@lossctl_command
def explain(
    loss: Annotated[str, typer.Argument(metavar="LOSS", help="Any loss name or alias.", show_default=False)],
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", metavar="text|json", help="text (default) or json.", show_default=False)] = None,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    no_warn: NoWarnOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Explain a loss: formula, what each framework does and where they differ, when to use it,
    input shapes, a runnable example and its siblings."""
    from lossctl.losses import registry

    spec, alias = registry.lookup(loss)
    info = registry.describe(spec)
    info["doc"] = spec.doc
    if alias is not None:
        info["alias"] = {"name": alias.name, "framework": alias.framework,
                         "implies": dict(alias.defaults)}
    if fmt not in (None, "text", "json"):
        raise UsageError(f"unknown format {fmt!r} for explain", hint="use text or json")
    if fmt == "json":
        from lossctl import writers

        writers.write_json(info)
        return
    text = registry.explain_text(info)
    if _stdout_isatty():
        from rich.markdown import Markdown

        from lossctl import render

        render.make_console(no_color=no_color).print(Markdown(text))
    else:
        sys.stdout.write(text)


# --- inspect -----------------------------------------------------------------------------------------


@app.command(
    epilog=_examples(
        "lossctl inspect samples/digits_labels_1based.csv samples/digits_probs.csv",
        "lossctl inspect results.csv --true-cols label --pred-cols 'p*'",
        "lossctl inspect labels.csv preds.npy -f json | jq .recommendations",
        "lossctl inspect labels.csv preds.csv --strict && lossctl compute ...",
    )
)
@lossctl_command
def inspect(
    y_true: Annotated[str, typer.Argument(metavar="Y_TRUE", help="Labels/targets file, or - for standard input.", show_default=False)],
    y_pred: Annotated[Optional[str], typer.Argument(metavar="[Y_PRED]", help="Predictions file, shape [N, C] or [N]. Omitted with --pred-cols: the same file as Y_TRUE; omitted otherwise: inspect the labels alone.", show_default=False)] = None,
    true_cols: Annotated[Optional[str], _opt("--true-cols", "Columns of Y_TRUE: names, 1-based numbers, ranges (2-11), globs ('p*').", "SPEC")] = None,
    pred_cols: Annotated[Optional[str], _opt("--pred-cols", "Columns of Y_PRED (same SPEC syntax).", "SPEC")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", metavar="table|json", help="table (default on a terminal) or json (default in a pipe).", show_default=False)] = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    precision: PrecisionOpt = 6,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    no_warn: NoWarnOpt = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with status 1 when the files do not fit together (for scripts), and treat warnings as errors.")] = False,
) -> None:
    """Say what the files hold (class indices, one-hot, probabilities, logits, ...), whether
    they fit together, and which loss to run, with the full command line."""
    from lossctl import readers, writers
    from lossctl.inspection import Invocation, inspect_arrays

    if fmt not in (None, "table", "json"):
        raise UsageError(f"unknown format {fmt!r} for inspect", hint="use table or json")
    if "-" in (y_true, y_pred) and _isatty(sys.stdin):
        raise stdin_tty_error("inspect")
    opts = readers.ReadOptions(header=header, delimiter=delimiter)
    same = y_pred is None and pred_cols is not None
    with contextlib.ExitStack() as stack:
        tsrc = stack.enter_context(readers.open_source(y_true, opts))
        yt = tsrc.read(tsrc.select(true_cols)).data
        yp = None
        pred_header = None
        if y_pred is not None or same:
            psrc = tsrc if same else stack.enter_context(readers.open_source(y_pred, opts))
            psel = psrc.select(pred_cols)
            yp = psrc.read(psel).data
            if psrc.has_header:
                pred_header = [psrc.columns[i] for i in psel]
    how = Invocation(y_true, y_pred, true_cols, pred_cols, pred_header)
    ins = inspect_arrays(yt, yp, how)
    out = fmt or ("table" if _stdout_isatty() else "json")
    if out == "json":
        writers.write_json(ins.to_dict())
    else:
        from lossctl import render

        render.inspection(ins, console=render.make_console(no_color=no_color), precision=precision)
    if strict and not ins.fits:
        raise DataError(
            "the inputs do not fit together: " + (ins.problems[0] if ins.problems else "see above"),
            source=" / ".join(s for s in (y_true, y_pred) if s),
            hint="--strict makes this an error",
        )


# --- entry point ----------------------------------------------------------------------------------


def _on_sigterm(signum: int, frame: Any) -> None:
    # Unwind like Ctrl-C (with blocks discard temporary files), but exit 143 = 128 + SIGTERM.
    raise SystemExit(128 + signal.SIGTERM)


def main() -> None:
    """Console-script and ``python -m lossctl`` entry point; it ends the process (in-process
    callers use ``app`` or typer's CliRunner instead)."""
    with contextlib.suppress(ValueError, AttributeError):  # not the main thread / no SIGTERM
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        app(prog_name="lossctl")  # click ends every run with SystemExit
        code: Any = 0
    except SystemExit as exc:
        code = exc.code
    if "pyarrow" in sys.modules:
        _exit_now(code)
    sys.exit(code)


def _exit_now(code: Any) -> None:
    """Flush the standard streams and end the process without the interpreter's teardown.

    When a command stops early (a bad value, Ctrl-C, SIGTERM) while pyarrow's thread pool is
    still finishing a CSV read, a pool thread releases the Python buffer it parsed, which needs
    the GIL; during interpreter shutdown such a thread is torn down inside C++ and the process
    aborts ("terminate called without an active exception", status 134 instead of 1/130/143).
    Everything lossctl writes is complete or removed by the time ``app`` returns (outputs are
    written and renamed, or their temporary files deleted, inside ``with`` blocks).
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # SystemExit("message"), as sys.exit would print it
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing more can be delivered
            stream.flush()
    os._exit(status)
