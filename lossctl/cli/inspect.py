"""``lossctl inspect``: what the files hold, whether they fit, and which loss to run."""

from typing import Annotated

import typer

from lossctl.cli.root import app
from lossctl.cli.boundary import current_env, lossctl_command
from lossctl.cli.options import flag_option as _opt
from lossctl.cli.options import (
    DelimiterOpt,
    HeaderOpt,
    MemoryOpt,
    NoColorOpt,
    NoWarnOpt,
    PrecisionOpt,
    QuietOpt,
    examples,
)
from lossctl.errors import DataError, UsageError

__all__ = ["inspect"]



@app.command(epilog=examples(
    "lossctl inspect samples/digits_labels_1based.csv samples/digits_probs.csv",
    "lossctl inspect results.csv --true-cols label --pred-cols 'p*'",
    "lossctl inspect labels.csv preds.npy -f json | jq .recommendations",
    "lossctl inspect labels.csv preds.csv --strict && lossctl compute ...",
    "lossctl inspect labels.npy preds.npy --memory-limit 64M",
))
@lossctl_command
def inspect(
    ctx: typer.Context,
    y_true: Annotated[str, typer.Argument(metavar="Y_TRUE", show_default=False, help="Labels/targets file, or - for standard input.")],
    y_pred: Annotated[str | None, typer.Argument(metavar="[Y_PRED]", show_default=False, help="Predictions file, shape [N, C] or [N]. Omitted with --pred-cols: the same file as Y_TRUE; omitted otherwise: inspect the labels alone.")] = None,
    true_cols: Annotated[str | None, _opt("--true-cols", "Columns of Y_TRUE: names, 1-based numbers, ranges (2-11), globs ('p*').", "SPEC")] = None,
    pred_cols: Annotated[str | None, _opt("--pred-cols", "Columns of Y_PRED (same SPEC syntax).", "SPEC")] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", metavar="table|json", show_default=False, help="table (default on a terminal) or json (default in a pipe).")] = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    memory_limit: MemoryOpt = "256M",
    precision: PrecisionOpt = 6,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    no_warn: NoWarnOpt = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with status 1 when the files do not fit together (for scripts), and treat warnings as errors.")] = False,
) -> None:
    """Say what the files hold (class indices, one-hot, probabilities, logits, ...), whether
    they fit together, and which loss to run, with the full command line.

    The files are read in blocks (within --memory-limit), never whole."""
    from lossctl.inspection import inspect_inputs

    env = current_env(ctx)
    if fmt not in (None, "table", "json"):
        raise UsageError(f"unknown format {fmt!r} for inspect", hint="use table or json")
    if "-" in (y_true, y_pred) and env.stdin_isatty:
        raise env.stdin_tty_error("inspect")
    ins = inspect_inputs(y_true, y_pred, true_cols=true_cols, pred_cols=pred_cols, header=header,
                         delimiter=delimiter, memory_limit=memory_limit, stdin=env.stdin)
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
