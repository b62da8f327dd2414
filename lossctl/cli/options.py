"""The options every command shares, and the ones generated from the library.

Choices come from the library's own tuples (:data:`lossctl.out.FORMATS`, the registry's
reductions, conventions, dtypes and tasks), and the loss options of ``compute`` from the
registry's :data:`~lossctl.losses.spec.OPTIONS` (:func:`loss_option_parameters`): adding an
option to the registry adds its flag. Importing this module loads no numpy (``--help`` stays
fast).
"""
from __future__ import annotations

import enum
import inspect
from collections.abc import Callable
from typing import Annotated, Any

import typer

from lossctl.io.options import DELIMITERS, normalize_delimiter
from lossctl.losses.spec import CONVENTIONS, DTYPES, OPTIONS, REDUCTIONS, TASKS
from lossctl.out.formats import FORMATS, SORTS

__all__ = [
    "ColsOpt", "Convention", "DelimiterOpt", "FloatDtype", "Format", "FormatOpt", "HeaderOpt",
    "InputArg", "InputHeaderOpt", "MemoryOpt", "NoColorOpt", "NoWarnOpt", "OutputOpt",
    "PrecisionOpt", "QuietOpt", "Reduction", "Sort", "StrictOpt", "Task", "choices", "classes_list",
    "examples", "flag_option", "loss_option_parameters", "role_option_parameters", "with_parameters",
]


def choices(name: str, values: tuple[str, ...]) -> type[enum.Enum]:
    """A str Enum of ``values`` (typer shows them as the option's choices)."""
    return enum.Enum(name, {v.replace("-", "_").replace(".", "_"): v for v in values}, type=str)


Format = choices("Format", FORMATS)
Reduction = choices("Reduction", REDUCTIONS)
Convention = choices("Convention", CONVENTIONS)
FloatDtype = choices("FloatDtype", DTYPES)
Task = choices("Task", TASKS)
Sort = choices("Sort", SORTS)


def examples(*lines: str) -> str:
    """An epilog of example command lines, kept verbatim by click (``\\b``)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def _delimiter(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalize_delimiter(value)
    except Exception:
        shown = ", ".join(repr(k) for k in ("," , "tab", ";", "space"))
        raise typer.BadParameter(f"{value!r} is not a delimiter lossctl reads; use {shown}") from None


def classes_list(value: str | None) -> list[str] | None:
    """``--classes a,b,c`` -> ``["a", "b", "c"]``."""
    if value is None:
        return None
    names = [c.strip() for c in value.split(",")]
    if not any(names):
        raise typer.BadParameter("give class names separated by commas, e.g. --classes cat,dog")
    return names


def _opt(*decls: str, help: str, metavar: str | None = None, **kw: Any) -> Any:
    return typer.Option(*decls, help=help, metavar=metavar, show_default=False, **kw)


def flag_option(flag: str, help: str, metavar: str | None = None) -> Any:
    """A command's option without a shown default: ``flag_option("--true-cols", "...", "SPEC")``."""
    return _opt(flag, help=help, metavar=metavar)


InputArg = Annotated[str | None, typer.Argument(
    metavar="INPUT", show_default=False,
    help="Input file (CSV, TSV, TXT, NPY, NPZ as file.npz:key, Parquet, Feather) or - for "
    "standard input. Default: standard input, which must then be a pipe or a file.")]
FormatOpt = Annotated[Format | None, _opt(
    "--format", "-f", case_sensitive=False,
    help="Output format. Default: from the -o extension; otherwise a table on a terminal and "
    "csv in a pipe. npy and parquet are refused on a terminal.")]
OutputOpt = Annotated[str | None, _opt(
    "--output", "-o", metavar="PATH",
    help="Write to PATH (atomically: complete or not at all) instead of standard output. Never "
    "one of the inputs.")]
DelimiterOpt = Annotated[str | None, _opt(
    "--delimiter", "-d", metavar="SEP", callback=_delimiter,
    help="Input delimiter: ',', 'tab', ';' or 'space' (runs of whitespace). Default: from the "
    f"extension, else sniffed. ({len(DELIMITERS)} spellings are understood.)")]
#: Input header for commands whose output header is not an option (compute, inspect, ...).
HeaderOpt = Annotated[bool | None, _opt(
    "--header/--no-header",
    help="Whether the input's first row is a header. Default: detected (a first row that is not "
    "numeric while the rest is).")]
#: Input header for the converters, whose --header switches the OUTPUT header on.
InputHeaderOpt = Annotated[bool | None, _opt(
    "--input-header/--no-input-header",
    help="Whether the input's first row is a header. Default: detected (a first row that is not "
    "numeric while the rest is).")]
ColsOpt = Annotated[str | None, _opt(
    "--cols", metavar="SPEC",
    help="Input columns: comma-separated names, 1-based numbers, ranges (2-11) and shell-style "
    "globs on names ('p*'). Default: all columns.")]
PrecisionOpt = Annotated[int, typer.Option(
    "--precision", min=1, max=17, metavar="N",
    help="Significant digits in a table (csv/json always keep full precision).")]
MemoryOpt = Annotated[str, typer.Option(
    "--memory-limit", metavar="SIZE",
    help="Memory budget for reading in blocks (e.g. 256M, 2G); inputs of any size stream "
    "within it.")]
NoColorOpt = Annotated[bool, typer.Option(
    "--no-color", help="No colour in tables (NO_COLOR=1 does the same).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Do not print notes (warnings still show).")]
NoWarnOpt = Annotated[bool, typer.Option("--no-warn", help="Print neither notes nor warnings.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors: stop with exit status 1.")]


def loss_option_parameters() -> list[inspect.Parameter]:
    """One keyword parameter per registry option: ``--name`` (``--name/--no-name`` for a
    boolean), default None ("what the loss says")."""
    params = []
    for o in OPTIONS.values():
        flag = "--" + o.name.replace("_", "-")
        if o.type is bool:
            info = _opt(f"{flag}/--no-{flag[2:]}", help=o.help)
            annotation: Any = Annotated[bool | None, info]
        else:
            info = _opt(flag, help=o.help, metavar=o.metavar)
            # a per-class option is text ("0.25,0.5"), checked by the registry
            annotation = Annotated[(str if o.per_class else o.type) | None, info]
        params.append(inspect.Parameter(o.name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=annotation))
    return params


def role_option_parameters() -> list[inspect.Parameter]:
    """Two keyword parameters per further input of the registry's losses (``LossSpec.inputs``):
    ``--NAME SOURCE`` and ``--NAME-cols SPEC``, default None; the help says which losses take
    it."""
    from lossctl.losses.registry import roles
    from lossctl.losses.spec import ROLES

    params = []
    for name, users in roles().items():
        role = ROLES[name]
        flag = "--" + name.replace("_", "-")
        how = ("a file, file.npz:key or - (read whole)" if not role.per_row else
               "a file, file.npz:key or - (one row per sample)")
        if role.scalar:
            how += ", or one number"
        if not role.per_row:
            how += ", or inline rows 1,0;0,1"
        from lossctl.cli.flags import renderer
        from lossctl.errors import render_options

        text = render_options(f"{role.help}: {how}. For {', '.join(users)}.", renderer("compute"))
        params.append(inspect.Parameter(
            name, inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[str | None, _opt(flag, help=text, metavar=role.metavar)]))
        if role.per_row:
            params.append(inspect.Parameter(
                f"{name}_cols", inspect.Parameter.KEYWORD_ONLY, default=None,
                annotation=Annotated[str | None, _opt(
                    f"{flag}-cols", metavar="SPEC",
                    help=f"Columns of the {flag} source; without {flag}, the columns of "
                    "Y_TRUE's file that hold it.")]))
    return params


def with_parameters(fn: Callable, extra: list[inspect.Parameter], *, after: str) -> Callable:
    """Give ``fn`` (which takes ``**kwargs``) a signature with ``extra`` inserted after the
    parameter ``after``: typer reads the signature to build the command's options."""
    sig = inspect.signature(fn, eval_str=True)  # typer needs the Annotated objects
    params = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    at = [p.name for p in params].index(after) + 1
    kw = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params[at:]]
    head = params[:at]
    fn.__signature__ = sig.replace(parameters=head + extra + kw)  # type: ignore[attr-defined]
    return fn
