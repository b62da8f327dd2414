"""``lossctl inspect``: what the files hold, whether they fit, and which loss to run."""

import contextlib
from typing import Annotated, Optional

import typer

from lossctl.cli.app import app
from lossctl.cli.boundary import current_env, lossctl_command
from lossctl.cli.options import (
    DelimiterOpt,
    HeaderOpt,
    NoColorOpt,
    NoWarnOpt,
    PrecisionOpt,
    QuietOpt,
    examples,
)
from lossctl.errors import DataError, UsageError

__all__ = ["inspect"]


def _opt(flag: str, help: str, metavar: str | None = None):
    return typer.Option(flag, help=help, metavar=metavar, show_default=False)


@app.command(epilog=examples(
    "lossctl inspect samples/digits_labels_1based.csv samples/digits_probs.csv",
    "lossctl inspect results.csv --true-cols label --pred-cols 'p*'",
    "lossctl inspect labels.csv preds.npy -f json | jq .recommendations",
    "lossctl inspect labels.csv preds.csv --strict && lossctl compute ...",
))
@lossctl_command
def inspect(
    ctx: typer.Context,
    y_true: Annotated[str, typer.Argument(metavar="Y_TRUE", show_default=False, help="Labels/targets file, or - for standard input.")],
    y_pred: Annotated[Optional[str], typer.Argument(metavar="[Y_PRED]", show_default=False, help="Predictions file, shape [N, C] or [N]. Omitted with --pred-cols: the same file as Y_TRUE; omitted otherwise: inspect the labels alone.")] = None,
    true_cols: Annotated[Optional[str], _opt("--true-cols", "Columns of Y_TRUE: names, 1-based numbers, ranges (2-11), globs ('p*').", "SPEC")] = None,
    pred_cols: Annotated[Optional[str], _opt("--pred-cols", "Columns of Y_PRED (same SPEC syntax).", "SPEC")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", metavar="table|json", show_default=False, help="table (default on a terminal) or json (default in a pipe).")] = None,
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
    from lossctl import inputs as library_inputs
    from lossctl.inspection import Invocation, inspect_arrays
    from lossctl.io import ReadOptions, open_source

    env = current_env(ctx)
    if fmt not in (None, "table", "json"):
        raise UsageError(f"unknown format {fmt!r} for inspect", hint="use table or json")
    if "-" in (y_true, y_pred) and env.stdin_isatty:
        raise env.stdin_tty_error("inspect")
    opts = ReadOptions(header=header, delimiter=delimiter)
    same = y_pred is None and pred_cols is not None
    with contextlib.ExitStack() as stack:
        tsrc = stack.enter_context(open_source(y_true, opts, stdin=env.stdin))
        yt = tsrc.read(library_inputs.select(tsrc, true_cols, "true_cols")).data
        yp = None
        pred_header = None
        if y_pred is not None or same:
            psrc = tsrc if same else stack.enter_context(open_source(y_pred, opts, stdin=env.stdin))
            psel = library_inputs.select(psrc, pred_cols, "pred_cols")
            yp = psrc.read(psel).data
            if psrc.has_header:
                pred_header = [psrc.columns[i] for i in psel]
    how = Invocation(y_true, y_pred, true_cols, pred_cols, pred_header)
    ins = inspect_arrays(yt, yp, how)
    out = fmt or ("table" if env.stdout_isatty else "json")
    if out == "json":
        from lossctl.out import write_json

        write_json(ins.to_dict(), stdout=env.stdout)
    else:
        from lossctl import render

        render.inspection(ins, console=render.make_console(no_color=no_color, file=env.stdout),
                          precision=precision)
    if strict and not ins.fits:
        raise DataError(
            "the inputs do not fit together: " + (ins.problems[0] if ins.problems else "see above"),
            source=" / ".join(s for s in (y_true, y_pred) if s),
            hint="--strict makes this an error",
        )
