"""``lossctl onehot`` and ``lossctl sparse``: label encodings, block by block.

The conversions are the library's (:class:`lossctl.encoding.OneHotEncoder`,
:class:`lossctl.decoding.SparseDecoder`); these commands open the input, stream its blocks
through them and write the rows, in blocks sized by ``--memory-limit``
(:func:`lossctl.budget.block_cells`); a row wider than a block is converted and written in
column pieces (one-hot rows of 10^8 classes, arg-max over 3*10^7 columns). Their ``--header`` writes an OUTPUT header, so their input
header is ``--input-header`` (the library's ``header`` option, see :mod:`lossctl.cli.flags`).

N-D inputs (label maps ``(N, H, W)``, one-hot maps ``(N, H, W, C)``: an NPY/NPZ array of rank 3
or more, a Parquet/Arrow column of nested lists, or several columns read as one map with
``--class-axis``) go through :mod:`lossctl.labelmaps` and are written as one N-D NPY array (the
only format that holds them; the default in a pipe, text formats are refused).
"""

import contextlib
import os
from collections.abc import Iterator
from typing import Annotated, Any

import typer

from lossctl.cli.root import app
from lossctl.cli.boundary import current_env, lossctl_command
from lossctl.cli.env import Environment
from lossctl.cli.options import (
    ColsOpt,
    DelimiterOpt,
    FormatOpt,
    InputArg,
    InputHeaderOpt,
    MemoryOpt,
    NoColorOpt,
    NoWarnOpt,
    OutputOpt,
    PrecisionOpt,
    QuietOpt,
    StrictOpt,
    choices,
    classes_list,
    examples,
)
from lossctl.cli.writing import preview, table_renderer
from lossctl.errors import (
    DataError,
    InputError,
    LossctlError,
    ShapeError,
    UsageError,
    note,
    opt,
)

__all__ = ["onehot", "resolve_input", "sparse"]

Dtype = choices("Dtype", ("int", "float"))


def resolve_input(value: str | None, command: str, env: Environment) -> str:
    """The input spec: ``value``, or ``-`` when not given.

    With no INPUT and a terminal on stdin, fail at once (exit 2) instead of waiting for rows the
    user does not know to type. An explicit ``-`` does read the terminal.
    """
    if value is not None:
        return value
    if env.stdin_isatty:
        raise env.stdin_tty_error(command)
    return "-"


def _header_tip(err: LossctlError, src: Any, header_forced: bool | None) -> LossctlError:
    """Name the source, and suggest an input header when a bad value sits on line 1 of a text
    file whose header was detected as absent."""
    if not isinstance(err, (DataError, ShapeError, InputError)):
        return err
    if src is not None:
        err.with_source(src.name)
    if (src is not None and isinstance(err, DataError) and header_forced is None
            and src.kind == "text" and not src.has_header and err.location == src.location(0)):
        tip = f"if line 1 is a header, add {opt('header', True)}"
        err.hint = f"{err.hint.rstrip('.')}; {tip}" if err.hint else tip
        err.args = (err.render(),)
    return err


@contextlib.contextmanager
def open_input(spec: str, options: Any, header_forced: bool | None,
               env: Environment) -> Iterator[Any]:
    """A source for a converter; its errors get :func:`_header_tip`."""
    from lossctl.io import open_source

    src = None
    try:
        with open_source(spec, options, stdin=env.stdin) as src:
            yield src
    except LossctlError as err:
        raise _header_tip(err, src, header_forced) from None


def _write_mapping(path: str, mapping: list[tuple[str, int]]) -> None:
    import numpy as np

    from lossctl.out import open_sink

    with open_sink("csv", ["class", "column"], output=path, header=True) as sink:
        if mapping:
            sink.write(np.asarray([m[0] for m in mapping], dtype=str),
                       np.asarray([m[1] for m in mapping], dtype=np.int64))


def _check_mapping(mapping: str | None, output: str | None, spec: str, env: Environment) -> None:
    from lossctl.out import check_output

    if mapping is None:
        return
    if mapping == "-":
        raise UsageError(f"{opt('mapping')} needs a file name: standard output carries the data",
                         hint="give --mapping classes.csv", option="mapping")
    check_output(mapping, [spec], stdin=env.stdin)
    if output is not None and os.path.abspath(mapping) == os.path.abspath(output):
        raise UsageError(f"{opt('mapping')} and {opt('output')} name the same file",
                         hint="write the mapping to its own file", option="mapping")


def _label_blocks(enc: Any, src: Any, sel: list[int], spec: str) -> Iterator:
    """The label blocks to convert; with inferred classes, a first pass scans them all
    (standard input is read once: its labels are kept for the second pass)."""
    if not enc.needs_scan:
        return ((b.data, b.start) for b in src.blocks(sel))
    if spec == "-":
        kept = [(b.data, b.start) for b in src.blocks(sel)]
        for data, start in kept:
            enc.scan(data, start)
        enc.finish_scan()
        return iter(kept)
    for b in src.blocks(sel):
        enc.scan(b.data, b.start)
    enc.finish_scan()
    return ((b.data, b.start) for b in src.blocks(sel))


def _budget(memory_limit: str) -> tuple[int, Any]:
    """Cells per block (or column piece) within the budget, and the read options' chunk size."""
    from lossctl import budget

    limit = budget.parse_size(memory_limit)
    return budget.block_cells(limit), budget.chunk_bytes(limit)


def _map_dims(src: Any, sel: Any, class_axis: int | None) -> tuple[int, ...] | None:
    """The shape of one sample of an N-D input (None: rows of columns). Several columns are
    read as one map ``(N, T)`` when ``--class-axis`` is given (sequences of labels)."""
    dims = src.dims  # (select set it for a selected column of nested lists)
    if dims is None and class_axis is not None and sel is not None and len(sel) > 1:
        return (len(sel),)
    return None if dims is None else tuple(dims)


def _check_class_axis(class_axis: int | None, multi_label: bool) -> None:
    """``--class-axis`` on rows of columns: 1 or -1 (the one class axis of ``(N, C)``)."""
    if class_axis is None:
        return
    if multi_label:
        raise UsageError(f"{opt('class_axis')} applies to label maps, not to "
                         f"{opt('multi_label', True)}", hint="drop one of them",
                         option="class_axis")
    from lossctl.labelmaps import class_axis_of

    class_axis_of(class_axis, 2)


def _set_rows(src: Any, rows: int) -> None:
    """Blocks of ``rows`` samples (at least one) from ``src``."""
    from lossctl.record import replace

    from lossctl.budget import MAX_BLOCK_ROWS

    src.options = replace(src.options, block_rows=int(min(max(rows, 1), MAX_BLOCK_ROWS)))


def _map_format(fmt: Any, output: str | None, env: Environment) -> str:
    """The output format of an N-D result: as asked, else from ``-o``'s extension, else NPY
    (refused on a terminal with the fix)."""
    from lossctl.out import resolve_format
    from lossctl.out.formats import is_stdout

    given = fmt.value if fmt is not None else None
    if given is None and is_stdout(output):
        given = "npy"
    return resolve_format(given, output, stdout_isatty=env.stdout_isatty)


def _onehot_maps(enc: Any, src: Any, sel: Any, dims: tuple[int, ...], *,
                 class_axis: int | None, cells: int, fmt: Any, output: str | None,
                 mapping: str | None, env: Environment) -> None:
    """``onehot`` of label maps: ``(N, *grid)`` -> ``(N, *grid, C)`` (or the class axis
    ``--class-axis``), in blocks of whole samples, a sample in pieces when its one-hot map is
    larger than a block."""
    import math

    from lossctl.labelmaps import MapEncoder
    from lossctl.out import open_sink

    out_fmt = _map_format(fmt, output, env)
    m = MapEncoder(enc, dims, class_axis=class_axis)
    if out_fmt != "npy":  # refused before the first pass; C may not be known yet
        from lossctl.out.sink import nd_rows_error

        shape: list[Any] = list(m.grid)
        shape.insert(m.axis - 1, enc.space.num_classes if enc.space else "C")
        raise nd_rows_error(out_fmt, shape)
    kept = None
    if enc.needs_scan:  # C from the data: a first pass over the label maps
        _set_rows(src, cells // max(math.prod(dims), 1))
        if src.single_pass:  # read once (a stream): the maps are kept
            kept = [(b.data, b.start) for b in src.blocks(sel)]
        for data, start in kept if kept is not None else ((b.data, b.start)
                                                          for b in src.blocks(sel)):
            m.scan(data, start)
        enc.finish_scan()
    if kept is not None:
        blocks: Any = iter(kept)
    else:
        _set_rows(src, cells // max(m.sample_cells, 1))
        blocks = ((b.data, b.start) for b in src.blocks(sel))
    with open_sink(out_fmt, ["onehot"], output=output, stdout=env.stdout, nrows=src.nrows,
                   item_shape=m.out_dims) as sink:
        for kind, part in m.convert(blocks, max_cells=cells):
            if kind == "block":
                sink.write(part)
            else:
                sink.write_row_pieces(part)
        if mapping is not None:
            _write_mapping(mapping, enc.space.mapping())


def _sparse_maps(dec: Any, src: Any, sel: Any, dims: tuple[int, ...], *, class_axis: int | None,
                 cells: int, fmt: Any, output: str | None, env: Environment) -> None:
    """``sparse`` of one-hot or probability maps ``(N, ..., C, ...)`` -> label maps."""
    import math

    from lossctl.labelmaps import MapDecoder
    from lossctl.out import open_sink

    out_fmt = _map_format(fmt, output, env)
    m = MapDecoder(dec, dims, class_axis=class_axis)
    _set_rows(src, cells // max(math.prod(dims), 1))
    blocks = ((b.data, b.start) for b in src.blocks(sel))
    with open_sink(out_fmt, ["label"], output=output, stdout=env.stdout, nrows=src.nrows,
                   item_shape=m.grid) as sink:
        for labels in m.convert(blocks, max_cells=cells):
            sink.write(labels)


def _input_names(src: Any, sel: Any) -> Any:
    """The header names of the selected columns (the lazy names themselves when all of a wide
    input's columns are selected)."""
    if isinstance(sel, range) and sel == range(len(src.columns)):
        return src.columns
    return [src.columns[i] for i in sel]


@app.command(epilog=examples(
    "lossctl onehot labels.csv -n 10                  # labels 0..9 -> 10 columns",
    "lossctl onehot labels.csv --offset 1 --header    # labels 1..10, header 1..10",
    "lossctl onehot pets.csv --cols species --mapping classes.csv -o y.npy",
    "lossctl onehot tags.csv --multi-label --classes a,b,c   # 'a;c' -> 1,0,1",
    "lossctl onehot labels.csv | lossctl sparse       # round trip",
    "lossctl onehot masks.npy -n 21 --ignore-class 255 -o onehot.npy   # [N, H, W] -> [N, H, W, 21]",
    "lossctl onehot masks.npy -n 21 --class-axis 1 > onehot.npy        # PyTorch's [N, 21, H, W]",
))
@lossctl_command
def onehot(
    ctx: typer.Context,
    input: InputArg = None,
    num_classes: Annotated[int | None, typer.Option("--num-classes", "-n", min=1, metavar="N", show_default=False, help="Number of classes C (columns). Default: the largest label + 1 - offset, reported in a note.")] = None,
    offset: Annotated[int, typer.Option("--offset", metavar="K", help="Labels start at K: labels K..K+C-1 go to columns 0..C-1 (--offset 1 for 1-based labels).")] = 0,
    classes: Annotated[str | None, typer.Option("--classes", metavar="A,B,C", callback=classes_list, show_default=False, help="Class names in column order; labels are matched by name and an unknown label is an error. Default for string labels: their sorted unique values (reported in a note, or written with --mapping).")] = None,
    mapping: Annotated[str | None, typer.Option("--mapping", metavar="FILE", show_default=False, help="Write the class -> column mapping (CSV: class,column; columns 0-based) to FILE instead of reporting it in a note.")] = None,
    dtype: Annotated[Dtype | None, typer.Option("--dtype", case_sensitive=False, show_default=False, help="Output values: int (0/1, the default) or float (0.0/1.0; implied by --smooth).")] = None,
    smooth: Annotated[float, typer.Option("--smooth", min=0.0, max=1.0, metavar="EPS", help="Label smoothing: write y*(1-EPS) + EPS/C (float). With --multi-label every column is a binary target and EPS/2 is used (as Keras binary_crossentropy).")] = 0.0,
    multi_label: Annotated[bool, typer.Option("--multi-label", help="Several labels per row, separated by ';' or spaces in one cell ('1;3'), or spread over several columns (empty cells ignored): writes multi-hot rows. A row without labels becomes a row of zeros (noted).")] = False,
    ignore_class: Annotated[int | None, typer.Option("--ignore-class", metavar="K", show_default=False, help="Label K (as written, before --offset) marks a row or pixel to ignore, e.g. 255 for void pixels: it becomes an all-zero vector (even with --smooth), counted in a note, and is left out of the inferred C.")] = None,
    class_axis: Annotated[int | None, typer.Option("--class-axis", metavar="K", show_default=False, help="Label maps: the output axis of the classes, -1 (the default: [N, H, W, C], as Keras and tf.one_hot) or 1 (PyTorch's [N, C, H, W]). Given for a file of several label columns, reads each row as a sequence of labels [N, T] -> [N, T, C].")] = None,
    cols: ColsOpt = None,
    header: Annotated[bool, typer.Option("--header", help="Write a header row of class names (csv/tsv). Off by default, so the output is the bare [N, C] matrix. For the input's header see --input-header.")] = False,
    input_header: InputHeaderOpt = None,
    delimiter: DelimiterOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    precision: PrecisionOpt = 6,
    memory_limit: MemoryOpt = "256M",
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

    Rows are converted and written block by block within --memory-limit; a row of more
    classes than a block holds is written in column pieces (csv, tsv, npy; json, jsonl and
    table refuse such rows). When C must be inferred, a file is read twice; standard input is
    kept in memory between the two passes (8 bytes per integer label).

    Label maps [N, H, W] (NPY of rank 3 or more, Parquet lists of lists; any [N, d1, .., dk])
    become one-hot maps [N, H, W, C], or [N, C, H, W] with --class-axis 1, written as NPY
    (the default in a pipe; text formats are refused); a trailing axis of 1 ([N, H, W, 1]) is
    dropped, and errors name the sample and the element: row 3, element (12, 40).
    """
    env = current_env(ctx)
    spec = resolve_input(input, "onehot", env)
    from lossctl import encoding
    from lossctl.io import ReadOptions
    from lossctl.out import check_output, open_sink, resolve_format

    cells, chunk = _budget(memory_limit)
    _check_mapping(mapping, output, spec, env)
    check_output(output, [spec], stdin=env.stdin)
    out_fmt = resolve_format(fmt.value if fmt is not None else None, output,
                             stdout_isatty=env.stdout_isatty)
    dtype_s = "float" if smooth > 0 and dtype is None else (dtype.value if dtype else "int")
    if smooth > 0 and dtype_s == "int":
        raise UsageError(f"{opt('smooth')} writes fractions, so {opt('dtype', 'int')} does not apply",
                         hint=f"drop {opt('dtype', 'int')} (the output is float)", option="dtype")
    enc = encoding.OneHotEncoder(num_classes, offset=offset, classes=classes, dtype=dtype_s,
                                 smooth=smooth, multi_label=multi_label,
                                 report_mapping=mapping is None, ignore_class=ignore_class)
    options = ReadOptions(header=input_header, delimiter=delimiter, chunk_bytes=chunk,
                          known_labels=tuple(classes) if classes else None)
    with open_input(spec, options, input_header, env) as src:
        enc.location = src.location
        sel = src.select(cols)
        dims = None if multi_label else _map_dims(src, sel, class_axis)
        if dims is not None:
            _onehot_maps(enc, src, sel, dims, class_axis=class_axis, cells=cells,
                         fmt=fmt, output=output, mapping=mapping, env=env)
            return
        _check_class_axis(class_axis, multi_label)
        blocks = _label_blocks(enc, src, sel, spec)
        space = enc.space
        with open_sink(out_fmt, space.column_names, output=output, stdout=env.stdout,
                       header=header or out_fmt == "table", nrows=src.nrows, precision=precision,
                       renderer=table_renderer(no_color, "onehot") if out_fmt == "table" else None,
                       preview=preview(out_fmt, output), max_cells=cells) as sink:
            if space.num_classes > cells:  # rows wider than a block: in column pieces
                for _row, pieces in enc.transform_rows(blocks, max_cells=cells):
                    sink.write_row_pieces(pieces)
            else:
                for onehot_rows, _start in enc.transform_blocks(blocks, max_cells=cells):
                    sink.write(onehot_rows)
            if mapping is not None:
                _write_mapping(mapping, space.mapping())


@app.command(epilog=examples(
    "lossctl sparse onehot.csv                        # [N, C] one-hot -> labels",
    "lossctl sparse probs.npy --argmax --offset 1     # predicted 1-based labels",
    "lossctl sparse multihot.csv --threshold 0.5      # '0;2' cells",
    "lossctl onehot labels.csv -f npy | lossctl sparse -",
    "lossctl sparse probs.npy --argmax -o masks.npy           # [N, H, W, C] -> [N, H, W]",
    "lossctl sparse logits.npy --argmax --class-axis 1 > masks.npy   # PyTorch's [N, C, H, W]",
))
@lossctl_command
def sparse(
    ctx: typer.Context,
    input: InputArg = None,
    argmax: Annotated[bool, typer.Option("--argmax", help="Take the column of the largest value (probabilities, scores, smoothed targets). Ties go to the lowest column and are counted in a note.")] = False,
    threshold: Annotated[float | None, typer.Option("--threshold", metavar="T", show_default=False, help="Multi-hot rows: every column with a value > T, written as one cell of labels joined by ';' (empty if none, noted).")] = None,
    offset: Annotated[int, typer.Option("--offset", metavar="K", help="Add K to the column numbers (the inverse of onehot --offset). Uses numbers even when the input has a header.")] = 0,
    classes: Annotated[str | None, typer.Option("--classes", metavar="A,B,C", callback=classes_list, show_default=False, help="Names for the columns, in order. Default: the input's header names if it has a header, otherwise the 0-based column numbers.")] = None,
    numbers: Annotated[bool, typer.Option("--numbers", help="Write column numbers even when the input has a header row.")] = False,
    tolerance: Annotated[float, typer.Option("--tolerance", min=0.0, max=0.5, metavar="TOL", help="Strict mode: how far from 0 and 1 a value may be.")] = 1e-6,
    class_axis: Annotated[int | None, typer.Option("--class-axis", metavar="K", show_default=False, help="N-D maps: the input axis of the classes, -1 (the default: [N, H, W, C]) or 1 (PyTorch's [N, C, H, W]).")] = None,
    cols: ColsOpt = None,
    header: Annotated[bool, typer.Option("--header", help="Write a header row ('label') in csv/tsv output. Off by default, so the output is the bare label column. For the input's header see --input-header.")] = False,
    input_header: Annotated[bool | None, typer.Option("--input-header/--no-input-header", show_default=False, help="Whether the input's first row is a header (its names become the labels). Default: detected (a first row that is not numeric while the rest is).")] = None,
    delimiter: DelimiterOpt = None,
    fmt: FormatOpt = None,
    output: OutputOpt = None,
    precision: PrecisionOpt = 6,
    memory_limit: MemoryOpt = "256M",
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
    of the input. Rows are converted and written block by block within --memory-limit; a row
    wider than a block is read and decoded in column pieces. -f npy writes a 1-D (N,) array.

    One-hot or probability maps [N, H, W, C] (NPY of rank 3 or more; [N, C, H, W] with
    --class-axis 1) become label maps [N, H, W], written as NPY (the default in a pipe), each
    element decoded as a row is; errors name the sample and the element: row 3, element (12, 40).
    """
    env = current_env(ctx)
    spec = resolve_input(input, "sparse", env)
    from lossctl import decoding
    from lossctl.io import ReadOptions
    from lossctl.out import check_output, open_sink, resolve_format

    if numbers and classes is not None:
        raise UsageError(f"{opt('numbers')} and {opt('classes')} exclude each other",
                         hint="--classes names the columns; --numbers numbers them")
    cells, chunk = _budget(memory_limit)
    check_output(output, [spec], stdin=env.stdin)
    out_fmt = resolve_format(fmt.value if fmt is not None else None, output,
                             stdout_isatty=env.stdout_isatty)
    dec = decoding.SparseDecoder(argmax=argmax, threshold=threshold, offset=offset,
                                 classes=classes, tol=tolerance)
    options = ReadOptions(header=input_header, delimiter=delimiter, chunk_bytes=chunk)
    with open_input(spec, options, input_header, env) as src:
        dec.location = src.location
        sel = src.select(cols)
        dims = _map_dims(src, sel, None)
        if dims is not None:
            _sparse_maps(dec, src, sel, dims, class_axis=class_axis, cells=cells, fmt=fmt,
                         output=output, env=env)
            return
        _check_class_axis(class_axis, False)
        if classes is None and not numbers and offset == 0 and src.has_header:
            names = _input_names(src, sel)
            dec.classes = names
            if any(name != str(j) for j, name in enumerate(names)):
                shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
                note(f"labels are the input's header names ({shown}); give "
                     f"{opt('numbers', True)} for column numbers")
        name = "labels" if dec.multi else "label"
        with open_sink(out_fmt, [name], output=output, stdout=env.stdout,
                       header=header or out_fmt == "table", nrows=src.nrows, precision=precision,
                       renderer=table_renderer(no_color, "sparse") if out_fmt == "table" else None,
                       preview=preview(out_fmt, output), vector=True) as sink:
            for labels in dec.transform_pieces(src.pieces(sel, max_cells=cells), width=len(sel)):
                sink.write(labels)
            dec.finish()
