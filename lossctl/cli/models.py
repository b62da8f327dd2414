"""``lossctl compare``: is model B better than model A, and how sure is that.

Parse, call :func:`lossctl.comparison.compare_models`, write: a report on a terminal, one CSV
row per model in a pipe (with ``--group-by``: one per candidate and slice, as ``compute
--group-by`` writes one per group), the whole comparison as JSON, and the paired-difference
figure with ``--plot``. ``--fail-if-worse`` is the gate (exit 3).
"""

from typing import Annotated, Any

import typer

from lossctl.cli.boundary import current_env, lossctl_command
from lossctl.cli.options import flag_option as _opt
from lossctl.cli.options import (
    Convention,
    DelimiterOpt,
    HeaderOpt,
    MemoryOpt,
    NoColorOpt,
    NoWarnOpt,
    OutputOpt,
    PrecisionOpt,
    QuietOpt,
    classes_list,
    examples,
    loss_option_parameters,
    with_parameters,
)
from lossctl.cli.root import app
from lossctl.errors import UsageError

__all__ = ["compare"]

FORMATS = ("table", "csv", "json")



@app.command(epilog=examples(
    "lossctl compare labels.csv model_a.csv model_b.csv --loss scce",
    "lossctl compare y.npy a.npy b.npy c.npy --loss accuracy --names base,wide,deep",
    "lossctl compare y.csv a.csv b.csv -l mse --fail-if-worse || echo 'b is worse'",
    "lossctl compare y.csv a.csv b.csv -l scce -f json | jq .differences",
    "lossctl compare y.csv a.csv b.csv -l scce --plot difference.png",
    "lossctl compare y.csv a.csv b.csv -l scce --true-cols label --group-by city",
))
@lossctl_command
def compare(
    ctx: typer.Context,
    y_true: Annotated[str, typer.Argument(metavar="Y_TRUE", show_default=False, help="Labels/targets: a file or - for standard input.")],
    preds: Annotated[list[str], typer.Argument(metavar="PRED_A PRED_B [PRED_C ...]", show_default=False, help="Each model's predictions of the same rows; the first is the baseline.")],
    loss: Annotated[str, typer.Option("--loss", "-l", metavar="LOSS", show_default=False, help="The loss or metric to compare (a mean of per-sample values: scce, bce, mse, accuracy, brier_score, ...).")],
    names: Annotated[str | None, typer.Option("--names", metavar="A,B,...", callback=classes_list, show_default=False, help="A name per model (default: the file names).")] = None,
    ci: Annotated[float, typer.Option("--ci", metavar="LEVEL", help="Confidence level in percent of the intervals, and of the verdicts (a difference is significant when p < 1 - LEVEL/100).")] = 95.0,
    replicates: Annotated[int, typer.Option("--replicates", min=2, metavar="R", help="Bootstrap and permutation replicates.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Seed of the replicates' weights.")] = 0,
    fail_if_worse: Annotated[bool, typer.Option("--fail-if-worse", help="Exit with status 3 when a candidate is significantly worse than the baseline (a CI gate).")] = False,
    top: Annotated[int, typer.Option("--top", min=0, metavar="K", help="Per-class rows and most changed samples shown.")] = 10,
    true_cols: Annotated[str | None, _opt("--true-cols", "Columns of Y_TRUE: names, 1-based numbers, ranges (2-11), globs ('p*').", "SPEC")] = None,
    pred_cols: Annotated[str | None, _opt("--pred-cols", "Columns of each prediction input (same SPEC syntax).", "SPEC")] = None,
    convention: Annotated[Convention | None, typer.Option("--convention", "-c", case_sensitive=False, show_default=False, help="Whose numbers: keras (default), torch, keras-jax or sklearn.")] = None,
    offset: Annotated[int | None, _opt("--offset", "Class labels start at K.", "K")] = None,
    ignore_class: Annotated[int | None, _opt("--ignore-class", "Ignore rows (or pixels) whose label is K.", "K")] = None,
    sample_weight: Annotated[str | None, _opt("--sample-weight", "One weight per row, from any readable source.", "SOURCE")] = None,
    classes: Annotated[str | None, typer.Option("--classes", metavar="A,B,C", callback=classes_list, show_default=False, help="Class names in the order of the prediction columns.")] = None,
    group_by: Annotated[str | None, _opt("--group-by", "Per-slice deltas: the column holding each row's group (of --groups, or of Y_TRUE's file; there the labels are the other columns unless --true-cols says). In a pipe: one CSV row per candidate and group.", "SPEC")] = None,
    groups: Annotated[str | None, _opt("--groups", "The source of the --group-by column, aligned row by row with the inputs (default: Y_TRUE's file).", "SOURCE")] = None,
    plot: Annotated[str | None, _opt("--plot", "Draw the bootstrap distribution of the first candidate's difference to PATH.png or .svg (needs matplotlib: pip install 'lossctl[plot]').", "PATH")] = None,
    fmt: Annotated[str | None, typer.Option("--format", "-f", metavar="table|csv|json", show_default=False, help="table (default on a terminal), csv (default in a pipe: one row per model) or json (everything).")] = None,
    output: OutputOpt = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    memory_limit: MemoryOpt = "256M",
    precision: PrecisionOpt = 6,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    no_warn: NoWarnOpt = False,
    **loss_options: Any,
) -> None:
    """Compare models on the same labels: each model's value with its interval, the paired
    difference with its interval and a permutation p-value, per-class deltas and the samples
    that changed most.

    The first predictions are the baseline; every other model is compared with it. Intervals
    are seeded Poisson bootstraps, paired across the models (one streaming pass each).
    --group-by adds each slice's values, delta and the delta's interval, largest change
    first."""
    from lossctl.comparison import compare_models
    from lossctl.losses import registry

    env = current_env(ctx)
    registry.lookup(loss)
    if fmt is not None and fmt.lower() not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} for compare", hint="use table, csv or json",
                         option="format")
    out_fmt = (fmt.lower() if fmt else None) or (
        "json" if output and output.endswith(".json") else
        "csv" if output or not env.stdout_isatty else "table")
    if "-" in (y_true, *preds, sample_weight, groups) and env.stdin_isatty:
        raise env.stdin_tty_error("compare")
    inputs = [s for s in (y_true, *preds, sample_weight, groups) if isinstance(s, str)]
    if output is not None:
        from lossctl.out import check_output

        check_output(output, inputs, stdin=env.stdin)
    if plot is not None:
        from lossctl.plot import check_plot

        check_plot(plot, inputs, stdin=env.stdin)
    result = compare_models(
        loss, y_true, preds, names=names, level=ci, replicates=replicates, seed=seed, top=top,
        group_by=group_by, groups=groups, stdin=env.stdin, true_cols=true_cols, pred_cols=pred_cols,
        convention=convention.value if convention else None, offset=offset,
        ignore_class=ignore_class, sample_weight=sample_weight, classes=classes, header=header,
        delimiter=delimiter, memory_limit=memory_limit, **loss_options)
    _write(env, result, out_fmt, output, precision=precision, no_color=no_color)
    if plot is not None and result.differences:
        from lossctl.plot import paired_difference_figure

        d = result.differences[0]
        paired_difference_figure(plot, [d.baseline, d.candidate], d.replicates, d.delta,
                                 (d.low, d.high))
    if not (quiet or no_warn) and result.note:
        env.stderr.write(f"lossctl: note: {result.note}\n")
    if fail_if_worse and result.worse():
        from lossctl.errors import ThresholdExceeded

        d = result.worse()[0]
        raise ThresholdExceeded(
            f"{d.candidate} is worse than {d.baseline}: {result.loss} changes by {d.delta!r} "
            f"(p = {d.p_value:.4g} < {1 - ci / 100:.4g})", option="fail_if_worse")


def _write(env: Any, result: Any, fmt: str, output: str | None, *, precision: int,
           no_color: bool) -> None:
    if fmt == "json":
        from lossctl.out import write_json

        write_json(result.to_dict(), output=output, stdout=env.stdout)
        return
    if fmt == "table":
        from lossctl import render
        from lossctl.cli.writing import draw

        draw(env, output, no_color,
             lambda console: render.comparison(result, console=console, precision=precision))
        return
    import numpy as np

    from lossctl.out import open_sink

    if result.group_by is not None:
        _slices_csv(env, result, output)
        return
    by_name = {d.candidate: d for d in result.differences}
    cols = ["model", "value", "low", "high", "delta", "delta_low", "delta_high", "p_value",
            "verdict"]

    def num(values: list) -> Any:
        return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)

    ms = result.models
    ds = [by_name.get(m.name) for m in ms]
    with open_sink("csv", cols, output=output, stdout=env.stdout, header=True) as sink:
        sink.write(np.asarray([m.name for m in ms], dtype=str), num([m.value for m in ms]),
                   num([m.low for m in ms]), num([m.high for m in ms]),
                   num([d and d.delta for d in ds]), num([d and d.low for d in ds]),
                   num([d and d.high for d in ds]), num([d and d.p_value for d in ds]),
                   np.asarray([d.verdict if d else "baseline" for d in ds], dtype=str))


def _slices_csv(env: Any, result: Any, output: str | None) -> None:
    """``--group-by`` in a pipe or a file: one CSV row per candidate and slice, in the order
    of ``Difference.per_slice`` (largest change first)."""
    import numpy as np

    from lossctl.out import open_sink

    cols = ["baseline", "candidate", "group", "count", "baseline_value", "candidate_value",
            "delta", "delta_low", "delta_high"]
    rows = [(d.baseline, d.candidate, r) for d in result.differences for r in d.per_slice]

    def num(key: str) -> Any:
        return np.asarray([np.nan if r[key] is None else r[key] for *_, r in rows],
                          dtype=np.float64)

    with open_sink("csv", cols, output=output, stdout=env.stdout, header=True) as sink:
        sink.write(np.asarray([b for b, _, _ in rows], dtype=str),
                   np.asarray([c for _, c, _ in rows], dtype=str),
                   np.asarray([r["group"] for *_, r in rows], dtype=str),
                   np.asarray([r["count"] for *_, r in rows], dtype=np.int64),
                   num("baseline"), num("candidate"), num("delta"), num("low"), num("high"))


with_parameters(compare.__wrapped__, loss_option_parameters(), after="classes")
compare.__signature__ = compare.__wrapped__.__signature__
