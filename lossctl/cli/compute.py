"""``lossctl compute``: parse, build the request, run :class:`lossctl.pipeline.Evaluation`, write.

Everything from the inputs to the value is the library's (:mod:`lossctl.pipeline`); this module
only decides where the result goes: a report on a terminal, the bare value in a pipe, per-sample
rows streamed as they are computed (``-f csv|tsv|jsonl|npy``), one JSON document, or the
per-convention table of ``--compare``.
"""

import contextlib
import os
from typing import Annotated, Any

import typer

from lossctl.cli.root import app
from lossctl.cli.boundary import current_env, lossctl_command
from lossctl.cli.flags import renderer
from lossctl.cli.options import flag_option as _opt
from lossctl.cli.options import (
    Convention,
    DelimiterOpt,
    FloatDtype,
    FormatOpt,
    HeaderOpt,
    MemoryOpt,
    NoColorOpt,
    NoWarnOpt,
    OutputOpt,
    PrecisionOpt,
    QuietOpt,
    Reduction,
    Sort,
    StrictOpt,
    classes_list,
    examples,
    loss_option_parameters,
    role_option_parameters,
    with_parameters,
)
from lossctl.cli.progress import Progress
from lossctl.errors import UsageError, opt

__all__ = ["compute"]



def _number_list(text: str) -> list[float] | None:
    try:
        return [float(x) for x in text.split(",") if x.strip() != ""]
    except ValueError:
        return None


def _output_form(fmt: Any, output: str | None, env: Any, sort: Any) -> tuple:
    """(format name, output file, shown format, value only, shard folder) of ``-f``/``-o``:
    ``-o DIR/`` writes each shard's per-sample rows there, and standard output gets the
    value."""
    from lossctl.out import resolve_format
    from lossctl.out.shards import is_folder_output

    name = fmt.value if fmt is not None else None
    folder = None
    if is_folder_output(output):
        folder, output = output, None
    shown = resolve_format(None if folder else name, output, stdout_isatty=env.stdout_isatty,
                           plain="csv")
    value_only = (name is None or folder is not None) and output is None and \
        not env.stdout_isatty and sort is None
    return name, output, shown, value_only, folder


def _class_weight(text: str | None) -> Any:
    """``--class-weight 1,3,0.5`` is a list; anything else names a source holding them."""
    if text is None:
        return None
    numbers = _number_list(text)
    if numbers is not None:
        return numbers
    if "," in text and not os.path.exists(text):
        raise UsageError(f"{opt('class_weight')} {text!r} is not a list of numbers",
                         hint="give one number per class (--class-weight 1,2.5,1) or a file "
                         "holding them", option="class_weight")
    return text


@app.command(epilog=examples(
    "lossctl compute scce samples/digits_labels.csv samples/digits_probs.csv",
    "lossctl compute cce onehot.csv logits.csv --from-logits --label-smoothing 0.1",
    "lossctl compute scce results.csv --true-cols label --pred-cols 'p*'",
    "lossctl compute CrossEntropyLoss labels.csv logits.csv --class-weight 1,3,0.5",
    "lossctl compute bce y.csv p.csv --compare keras,torch",
    "loss=$(lossctl compute mse y.csv p.csv)     # a pipe gets the value alone",
    "lossctl compute scce y.csv p.csv -f csv -o per_sample.csv",
    "lossctl compute mse y.csv p.csv --fail-above 0.5 || echo 'regressed'",
    "lossctl compute scce y.csv p.csv --ci 95     # value,low,high,level in a pipe",
    "lossctl compute scce,accuracy labels.csv probs.csv --true-cols label --group-by city",
    "lossctl compute expected_calibration_error y.csv p.csv --plot calibration.png",
))
@lossctl_command
def compute(
    ctx: typer.Context,
    loss: Annotated[str, typer.Argument(
        metavar="LOSS", show_default=False,
        help="Loss name or alias from any framework, e.g. sparse_categorical_crossentropy, scce, "
        "CrossEntropyLoss, mse_loss, kl_div (case-insensitive; see `lossctl list`); several, "
        "comma-separated (scce,brier_score,accuracy), are computed in one pass.")],
    y_true: Annotated[str, typer.Argument(
        metavar="Y_TRUE", show_default=False,
        help="Labels/targets: a file (CSV, TSV, TXT, NPY, NPZ as file.npz:key, Parquet, Feather) "
        "or - for standard input.")],
    y_pred: Annotated[str | None, typer.Argument(
        metavar="[Y_PRED]", show_default=False,
        help="Predictions, shape [N, C] or [N], or N-D ([N, C, H, W] as PyTorch lays it out, "
        "[N, H, W, C] as Keras does; see --class-axis). Omitted: the same file as Y_TRUE "
        "(select columns with --true-cols / --pred-cols).")] = None,
    true_cols: Annotated[str | None, _opt("--true-cols", "Columns of Y_TRUE: names, 1-based numbers, ranges (2-11), globs ('p*').", "SPEC")] = None,
    pred_cols: Annotated[str | None, _opt("--pred-cols", "Columns of Y_PRED (same SPEC syntax).", "SPEC")] = None,
    offset: Annotated[int | None, _opt("--offset", "Class labels start at K (e.g. --offset 1 for labels 1..C).", "K")] = None,
    ignore_class: Annotated[int | None, _opt("--ignore-class", "Ignore rows (or pixels, tokens) whose label is K (Keras ignore_class, PyTorch ignore_index; torch's default -100 applies under --convention torch; 255 marks void pixels in segmentation masks).", "K")] = None,
    class_axis: Annotated[int | None, _opt("--class-axis", "N-D inputs: the axis of the classes. Default: the convention's, 1 for PyTorch's [N, C, H, W] and -1 for Keras's [N, H, W, C] (or the one the label maps fit).", "K")] = None,
    sample_weight: Annotated[str | None, _opt("--sample-weight", "One weight per row, from any readable source (one column, or choose it with --weight-cols).", "SOURCE")] = None,
    weight_cols: Annotated[str | None, _opt("--weight-cols", "Column of the --sample-weight source (default: its only column).", "SPEC")] = None,
    class_weight: Annotated[str | None, _opt("--class-weight", "Class weights w0,w1,... or a SOURCE holding them (Keras: per-row weights w[y]; PyTorch: the loss's weight argument).", "W")] = None,
    reduction: Annotated[Reduction | None, typer.Option("--reduction", "-r", case_sensitive=False, show_default=False, help="mean (default: Keras sum(w*l)/N, PyTorch per its rules), sum, none (one value per sample), mean_with_sample_weight (sum(w*l)/sum(w)), batchmean (sum/N).")] = None,
    convention: Annotated[Convention | None, typer.Option("--convention", "-c", case_sensitive=False, show_default=False, help="Whose numbers: keras (default: Keras 3 on TensorFlow), torch, keras-jax (Keras on its JAX/NumPy/PyTorch backends) or sklearn. A framework's names (mse_loss, CrossEntropyLoss, log_loss, ...) and prefixes (torch.mse, sklearn.mse) select its convention.")] = None,
    dtype: Annotated[FloatDtype, typer.Option("--dtype", case_sensitive=False, help="Compute in float64, or float32 to reproduce Keras's float32 rounding (e.g. BCE(y=0, p=1) = 15.942385).")] = FloatDtype("float64"),
    elementwise: Annotated[bool | None, typer.Option("--elementwise/--no-elementwise", show_default=False, help="Output the values before the class axis is reduced, shape [N, C] (as tf.nn.sigmoid_cross_entropy_with_logits and PyTorch reduction='none').")] = None,
    classes: Annotated[str | None, typer.Option("--classes", metavar="A,B,C", callback=classes_list, show_default=False, help="Class names in the order of the prediction columns, for string labels (default: the prediction file's header when the labels are strings).")] = None,
    top: Annotated[int | None, typer.Option("--top", min=0, metavar="K", show_default=False, help="Worst samples shown in the table (default 10). With --sort: how many rows data output keeps (default: all).")] = None,
    sort: Annotated[Sort | None, typer.Option("--sort", case_sensitive=False, show_default=False, help="Order the per-sample rows of data output (csv, tsv, jsonl, json, parquet, npy): loss puts the highest per-sample value first (NaN and infinities first, equal values in row order), row keeps the input order. Rows keep their index column (npy then holds the columns index..loss). With --top K only the K first rows are kept, in bounded memory; without it every row is held until the end (within --memory-limit). In a pipe it writes csv rows; the table is unchanged.")] = None,
    fail_above: Annotated[float | None, _opt("--fail-above", "Exit with status 3 when the reduced loss exceeds X (a CI gate). With --reduction none: when any sample's loss exceeds X.", "X")] = None,
    fail_below: Annotated[float | None, _opt("--fail-below", "Exit with status 3 when the reduced value is below X (for scores where higher is better). With --reduction none: when any sample's value is below X.", "X")] = None,
    id_cols: Annotated[str | None, _opt("--id-cols", "Identifier columns of Y_TRUE's file carried into the per-sample rows, after index (the labels are then the other columns unless --true-cols says).", "SPEC")] = None,
    group_by: Annotated[str | None, _opt("--group-by", "Every value per group of rows: the column holding each row's group (of --groups, or of Y_TRUE's file; there the labels are the other columns unless --true-cols says).", "SPEC")] = None,
    groups: Annotated[str | None, _opt("--groups", "The source of the --group-by column, aligned row by row with the inputs (default: Y_TRUE's file).", "SOURCE")] = None,
    ci: Annotated[float | None, _opt("--ci", "A bootstrap confidence interval of the value at LEVEL percent (e.g. 95), from one streaming pass (the Poisson bootstrap); seeded by --seed.", "LEVEL")] = None,
    replicates: Annotated[int, typer.Option("--replicates", min=2, metavar="R", help="Bootstrap replicates for --ci (about 4 us a sample for 1000).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", metavar="N", help="Seed of the bootstrap weights: the same seed gives the same interval.")] = 0,
    memory_limit: MemoryOpt = "256M",
    threads: Annotated[int | None, typer.Option("--threads", min=1, metavar="N", envvar="LOSSCTL_THREADS", show_default=False, help="Threads computing blocks (default: one per core). The value is bit-for-bit the same for any N.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, metavar="N", help="Worker processes, one shard of a glob or directory input each at a time (labels and predictions as matching shard sets, or one set holding both). The value is bit-for-bit the same for any N; a single file is one task.")] = 1,
    scheduler: Annotated[str | None, typer.Option("--scheduler", metavar="ADDRESS", envvar="LOSSCTL_SCHEDULER", show_default=False, help="Run the shards on a Dask distributed cluster (tcp://HOST:8786; needs pip install 'lossctl[dask]'); its workers need lossctl and the same paths.")] = None,
    compare: Annotated[str | None, _opt("--compare", "Compute under each convention (keras,torch or all) and show why the values differ.", "LIST")] = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    plot: Annotated[str | None, _opt("--plot", "Also draw the result to PATH.png or PATH.svg: the per-sample loss histogram, the mean loss per class and, for calibration errors, the reliability diagram (needs matplotlib: pip install 'lossctl[plot]').", "PATH")] = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    precision: PrecisionOpt = 6,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    no_warn: NoWarnOpt = False,
    strict: StrictOpt = False,
    **loss_options: Any,
) -> None:
    """Compute a loss exactly as Keras or PyTorch would, with a per-sample breakdown.

    On a terminal: a report (value, worst samples, per-class table, histogram). In a pipe: the
    reduced value alone at full precision, or one line per sample with --reduction none;
    --format csv|tsv|jsonl|json|npy|parquet give per-sample data (--sort loss --top K: the K
    worst samples).
    """
    from lossctl.cli import writing
    from lossctl.losses import registry
    from lossctl.out import check_output
    from lossctl.pipeline import Evaluation, request

    env = current_env(ctx)
    for name in loss.split(","):  # an unknown name is reported before anything else
        registry.lookup(name.strip()) if name.strip() else None
    role_sources = [v for k, v in loss_options.items() if k in registry.roles() and v is not None]
    if "-" in (y_true, y_pred, sample_weight, groups, *role_sources) and env.stdin_isatty:
        raise env.stdin_tty_error("compute")
    fmt_name, output, out_fmt, value_only, folder = _output_form(fmt, output, env, sort)
    cw = _class_weight(class_weight)
    check_output(output, [s for s in (y_true, y_pred, sample_weight, cw, groups, *role_sources)
                          if isinstance(s, str)],
                 stdin=env.stdin)
    if plot is not None:  # before any input is read: its extension, the inputs, matplotlib
        from lossctl.plot import check_plot

        check_plot(plot, [y_true, y_pred, sample_weight, cw, *role_sources], stdin=env.stdin)
    req = request(
        loss, y_true, y_pred, sample_weight=sample_weight, true_cols=true_cols,
        pred_cols=pred_cols, weight_cols=weight_cols, class_weight=cw, classes=classes,
        convention=convention.value if convention else None,
        reduction=reduction.value if reduction else None,
        dtype=getattr(dtype, "value", dtype), offset=offset, ignore_class=ignore_class,
        class_axis=class_axis, elementwise=elementwise,
        compare=[c for c in compare.split(",")] if compare else None,
        header=header, delimiter=delimiter, memory_limit=memory_limit, threads=threads,
        jobs=jobs, scheduler=scheduler or None, shard_output=folder,
        shard_format=fmt_name if folder else None, shard_precision=precision,
        keep=False, details=(out_fmt != "json" or sort is not None) and not value_only
        or folder is not None,
        report=(out_fmt == "table" and not compare) or plot is not None,
        top=10 if top is None else top, fail_above=fail_above, fail_below=fail_below,
        ci=ci, replicates=replicates, seed=seed, group_by=group_by, groups=groups, id_cols=id_cols,
        **loss_options,
    )
    ev = Evaluation(req, stdin=env.stdin)
    out = writing.ComputeOutput(env, out_fmt, output, value_only=value_only, precision=precision,
                                no_color=no_color, flag=renderer("compute"),
                                sort=sort.value if sort else None, top=top, plot=plot)
    out.group_by = group_by
    with contextlib.ExitStack() as stack:
        bar = stack.enter_context(Progress(env, quiet=quiet or no_warn, no_color=no_color))
        stream = out.streams(ev) and not compare

        def on_block(block: Any) -> None:
            if stream:
                out.write_block(ev, block, stack)
            bar.follow(ev, block.per_sample.shape[0])

        spread = jobs != 1 or bool(scheduler)  # shards elsewhere: blocks only when written
        result = ev.run(on_block if stream or not spread else None,
                        on_shard=None if stream else lambda rows: bar.follow(ev, rows))
        out.finish(ev, result)  # inside the stack: a streamed document is still open
    result.gate()


with_parameters(compute.__wrapped__, loss_option_parameters() + role_option_parameters(),
                after="class_weight")
compute.__signature__ = compute.__wrapped__.__signature__
