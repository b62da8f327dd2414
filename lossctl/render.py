"""Presentation for people: rich consoles, tables and progress bars.

This is the only module that imports rich. The CLI imports it lazily, in commands that print for
a person, never for ``import lossctl`` or ``lossctl --help``; the library never imports it (the
table writer of :mod:`lossctl.out` takes :func:`table_renderer` as an injected renderer). Data
for machines (csv, json, npy) never passes through here: see :mod:`lossctl.out`.

Colour: rich honours ``NO_COLOR`` (colour off, bold/italic kept), ``FORCE_COLOR`` and
``TERM=dumb`` by itself; ``--no-color`` is ``make_console(no_color=True)``. Whether a *table* is
printed at all is decided by the caller from ``sys.stdout.isatty()``, not by rich.
"""
from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import Any

from rich import box as _box  # loaded by rich.table anyway
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from lossctl.out.table import format_cell, is_number  # the one rule for cells, shared

__all__ = ["TaskProgress", "build_table", "compare", "details", "format_cell", "inspection",
           "is_number", "loss_list", "make_console", "markdown", "progress", "report", "table",
           "table_renderer"]


def make_console(
    *,
    stderr: bool = False,
    no_color: bool = False,
    file: Any = None,
    width: int | None = None,
    force_terminal: bool | None = None,
) -> Console:
    """A rich console set up the lossctl way.

    Highlighting and emoji codes are off, so numbers and file names print as they are (a file
    called ``a:cat:.csv`` stays that). Markup stays on for lossctl's own strings; print user text
    with ``markup=False``.

    Args:
        stderr: write to standard error (messages, progress) instead of standard output.
        no_color: ``--no-color``: no colour whatever the environment says. When False, rich still
            honours ``NO_COLOR``.
        file: write to this stream instead (tests: ``io.StringIO()``).
        width: fixed width; default: the terminal's, ``COLUMNS``, or 80.
        force_terminal: override rich's terminal detection (``False`` for files: no control codes
            even under ``FORCE_COLOR``).

    Returns:
        The console.
    """
    return Console(
        stderr=stderr,
        file=file,
        width=width,
        # None (not False) lets rich read NO_COLOR; False would override the environment.
        no_color=True if no_color else None,
        force_terminal=force_terminal,
        highlight=False,
        emoji=False,
    )


def build_table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    precision: int = 6,
    show_header: bool = True,
    gap: int | None = None,
) -> Table:
    """A rich table of rows: numeric columns right-aligned and rounded, text left-aligned.

    Cells and headings are plain text (``Text``), never parsed as rich markup, so labels such as
    ``[cat]`` print as they are. When the table is wider than the console, cells are folded onto
    more lines rather than cut with an ellipsis, so no digit is ever hidden. Compose the result
    into panels or layouts, or print it with :func:`table`.

    Args:
        columns: headings, one per column.
        rows: rows of cells (numbers, strings, ``None``), each ``len(columns)`` long.
        title: shown above the table.
        precision: significant digits for float cells (see :func:`format_cell`).
        show_header: print the headings.
        gap: a row of ``⋮`` before row ``gap`` (where a preview left rows out).

    Returns:
        The table.

    Raises:
        ValueError: a row has the wrong number of cells.
    """
    rows = [list(r) for r in rows]
    ncols = len(columns)
    for i, row in enumerate(rows):
        if len(row) != ncols:
            raise ValueError(f"row {i} has {len(row)} cells, the table has {ncols} columns")
    numeric = [
        all(r[j] is None or is_number(r[j]) for r in rows) and any(r[j] is not None for r in rows)
        for j in range(ncols)
    ]
    result = Table(
        title=Text(title) if title else None,
        show_header=show_header,
        header_style="bold",
    )
    for name, num in zip(columns, numeric):
        justify = "right" if num else "left"
        # fold, never "…": a table too wide for the terminal wraps cells instead of hiding digits
        result.add_column(Text(str(name), justify=justify), justify=justify, overflow="fold")
    for i, row in enumerate(rows):
        if i == gap:
            result.add_row(*(Text("⋮", justify="center") for _ in range(ncols)), style="dim")
        result.add_row(*(Text(format_cell(v, precision)) for v in row))
    if gap is not None and gap >= len(rows):
        result.add_row(*(Text("⋮", justify="center") for _ in range(ncols)), style="dim")
    return result


def _column_groups(columns: Sequence[str], rows: Sequence[Sequence[Any]], precision: int,
                   width: int, keep_first: bool) -> list[list[int]]:
    """Columns split into groups whose tables fit ``width`` (no value is ever hidden); with
    ``keep_first``, the first column (row numbers) starts every group."""
    need = [len(str(c)) for c in columns]
    for row in rows:
        for j, v in enumerate(row):
            need[j] = max(need[j], len(format_cell(v, precision)))
    need = [n + 3 for n in need]  # padding and a border
    first = [0] if keep_first else []
    budget = width - 1 - (need[0] if keep_first else 0)
    groups: list[list[int]] = []
    current: list[int] = []
    used = 0
    for j in range(1 if keep_first else 0, len(columns)):
        if current and used + need[j] > budget:
            groups.append(first + current)
            current, used = [], 0
        current.append(j)
        used += need[j]
    if current or not groups:
        groups.append(first + current)
    return groups


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    precision: int = 6,
    console: Console,
    show_header: bool = True,
    caption: str | None = None,
    gap: int | None = None,
) -> None:
    """Print rows as a table on ``console`` (see :func:`build_table`).

    A table wider than the console is printed as several tables of consecutive columns (each
    with the row numbers when the first column is ``#``), so no cell is ever cut or blanked.

    Args:
        columns: headings, one per column.
        rows: rows of cells.
        title: shown above the table.
        precision: significant digits for float cells.
        console: where to print (:func:`make_console`).
        show_header: print the headings.
        caption: printed below (a preview says how many rows there are).
        gap: where rows were left out of a preview: a row of ``⋮`` there.
    """
    rows = [list(r) for r in rows]
    keep_first = bool(columns) and columns[0] == "#"
    groups = _column_groups(columns, rows, precision, console.width, keep_first)
    for k, group in enumerate(groups):
        cols = [columns[j] for j in group]
        part = [[r[j] for j in group] for r in rows]
        name = title
        if len(groups) > 1:
            shown = [columns[j] for j in group if not (keep_first and j == 0)]
            span = f"columns {shown[0]} to {shown[-1]}" if shown else ""
            name = f"{title}: {span}" if title else span
        console.print(build_table(cols, part, title=name, precision=precision,
                                  show_header=show_header, gap=gap))
    if caption:
        console.print(Text(caption, style="dim"))


class TaskProgress(Progress):
    """A rich :class:`~rich.progress.Progress` with the one task lossctl shows.

    Attributes:
        task_id: the task's id, for ``update`` and friends.
    """

    def __init__(self, *columns: Any, description: str, total: float | None, **kwargs: Any):
        super().__init__(*columns, **kwargs)
        self.task_id = self.add_task(description, total=total)

    def step(self, advance: float = 1) -> None:
        """Advance the task by ``advance`` units (rows, blocks, bytes: what ``total`` counts)."""
        self.advance(self.task_id, advance)

    def change(self, **fields: Any) -> None:
        """Change the task's ``description`` or ``total``."""
        self.update(self.task_id, **fields)


def _RateColumn() -> Any:
    from rich.progress import ProgressColumn

    class RateColumn(ProgressColumn):
        """Rows per second, e.g. ``2.1M rows/s``."""

        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            if not speed:
                return Text("")
            for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
                if speed >= scale:
                    return Text(f"{speed / scale:.1f}{unit} rows/s")
            return Text(f"{speed:.0f} rows/s")

    return RateColumn()


def progress(
    console: Console,
    *,
    quiet: bool,
    total: float | None = None,
    description: str,
) -> TaskProgress:
    """A progress bar that cannot end up in the data.

    Configured as the CLI conventions require: drawn on ``console`` (which must be the stderr
    console), ``transient`` (erased when done), ``redirect_stdout=False`` and
    ``redirect_stderr=False`` (rich would otherwise swap ``sys.stdout`` while the bar is live, and
    data printed meanwhile would land on the terminal instead of the redirected file), and
    disabled when ``quiet`` or when that console is not a terminal.

    Use it as a context manager::

        with progress(err_console, quiet=quiet, total=n_rows, description="computing") as bar:
            for block in blocks:
                ...
                bar.step(len(block))

    Args:
        console: the stderr console (``make_console(stderr=True, ...)``).
        quiet: ``-q/--quiet``: never show it.
        total: the amount of work, or ``None`` for an indeterminate bar.
        description: the label before the bar.

    Returns:
        The (not yet started) progress display.

    Raises:
        ValueError: ``console`` writes to standard output.
    """
    if console.file is sys.stdout or console.file is sys.__stdout__:
        raise ValueError("progress bars go to the stderr console, never to stdout")
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeRemainingColumn,
    )

    return TaskProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeRemainingColumn(),
        description=description,
        total=total,
        console=console,
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
        disable=quiet or not console.is_terminal,
    )


# --- the loss report (``lossctl compute`` on a terminal) ---------------------------------------


def report(rep: Any, *, console: Console, precision: int = 6, width: int = 30) -> None:
    """Print a :class:`lossctl.report.Report`: summary, worst samples, per class, histogram.

    Everything is plain ``Text`` (file names and labels may contain ``[...]``).
    """
    from rich.panel import Panel

    from lossctl.report import bar

    name = rep.loss if not rep.alias or rep.alias == rep.loss else f"{rep.loss} ({rep.alias})"
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    value = "—  (reduction none: see the per-sample output)" if rep.value is None else format_cell(
        rep.value, max(precision, 8)
    )
    summary.add_row(Text("loss"), Text(name))
    summary.add_row(Text("value"), Text(value, style="bold"))
    ci, cell = getattr(rep, "ci", None), lambda v: format_cell(v, precision)
    if ci is not None and ci.get("level") is not None:
        summary.add_row(Text(f"{ci['level']:g}% CI"), Text(
            f"[{cell(ci['low'])}, {cell(ci['high'])}]  (bootstrap, {ci['replicates']} "
            f"replicates, seed {ci['seed']}; standard error {cell(ci['standard_error'])})"))
    summary.add_row(Text("convention"), Text(rep.convention))
    summary.add_row(Text("reduction"), Text(rep.reduction))
    summary.add_row(Text("samples"), Text(str(rep.samples)))
    shape = getattr(rep, "shape", None)
    if shape is not None:
        dims = "(N, " + ", ".join(map(str, shape)) + ")"
        summary.add_row(Text("elements"), Text(f"{rep.elements} (predictions {dims})"))
    if getattr(rep, "predictions", ""):
        summary.add_row(Text("predictions"), Text(rep.predictions))
    if rep.classes:
        summary.add_row(Text("classes"), Text(str(rep.classes)))
    opts = ", ".join(f"{k}={v}" for k, v in rep.options.items() if v not in (None, False, 0, 0.0))
    if opts:
        summary.add_row(Text("options"), Text(opts))
    counts = [f"{v} {k}" for k, v in rep.counts.items() if v]
    if rep.nonfinite:
        counts.append(f"{rep.nonfinite} non-finite")
    summary.add_row(Text("flags"), Text(", ".join(counts) if counts else "none"))
    console.print(Panel(summary, title=Text("lossctl compute"), expand=False))

    value_name, mean_name, share_name = rep.labels
    if rep.worst:
        has_cls = any(w.true is not None for w in rep.worst)
        cols = ["row" if shape is None else "sample", value_name]
        if has_cls:
            cols[1:1] = ["true", "predicted", "confidence"]
        rows = []
        for w in rep.worst:
            r: list[Any] = [w.index]
            if has_cls:
                r += [w.true, w.predicted, w.confidence]
            r.append(w.loss)
            rows.append(r)
        console.print(build_table(cols, rows, title=f"worst {len(rows)} samples",
                                  precision=precision))

    if rep.per_class:
        acc = any(c.accuracy is not None for c in rep.per_class)
        cols = ["class", "count", mean_name] + ([share_name] if share_name else []) + (
            ["accuracy"] if acc else [])
        rows = []
        for c in rep.per_class:
            r = [c.label, c.count, c.mean_loss] + ([f"{100 * c.share:.1f}%"] if share_name else [])
            if acc:
                r.append(None if c.accuracy is None else f"{100 * c.accuracy:.1f}%")
            rows.append(r)
        title = "per class" if shape is None else "per class, over elements"
        console.print(build_table(cols, rows, title=title, precision=precision))

    if rep.histogram:
        biggest = max(b.count for b in rep.histogram)
        grid = Table(title=Text(f"per-sample {value_name}"), show_header=True, header_style="bold",
                     box=None)
        grid.add_column(Text("from", justify="right"), justify="right")
        grid.add_column(Text("to", justify="right"), justify="right")
        grid.add_column(Text("count", justify="right"), justify="right")
        grid.add_column(Text(""), no_wrap=True)
        for b in rep.histogram:
            grid.add_row(
                Text(format_cell(b.lo, 3)),
                Text(format_cell(b.hi, 3)),
                Text(str(b.count)),
                Text(bar(b.count, biggest, width), style="cyan"),
            )
        console.print(grid)


def details(data: dict[str, Any], *, console: Console, precision: int = 6) -> None:
    """Print a metric's extra tables (:attr:`lossctl.result.Result.details`): its numbers as one
    grid, each list of rows as a table, a confusion matrix with the true classes down the side."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for key, value in data.items():
        if not isinstance(value, (list, dict)):  # a flag reads yes/no here (1/0 in data)
            text = ("yes" if value else "no") if isinstance(value, bool) else \
                format_cell(value, max(precision, 8))
            grid.add_row(Text(key.replace("_", " ")), Text(text))
    if grid.row_count:
        console.print(grid)
    for key, value in data.items():
        if isinstance(value, dict) and "matrix" in value:
            labels = [str(v) for v in value.get("names", value["labels"])]
            rows = [[label, *row] for label, row in zip(labels, value["matrix"])]
            console.print(build_table(["true \\ predicted", *labels], rows, precision=precision,
                                      title="confusion matrix (rows: true class)"))
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            console.print(build_table(list(value[0]), [list(r.values()) for r in value],
                                      title=key.replace("_", " "), precision=precision))


def compare(rows: Sequence[Any], *, console: Console, precision: int = 6) -> None:
    """Print ``--compare`` results: one row per convention, value and the reason it differs."""
    console.print(build_table(["convention", "value", "why it differs"],
                              [[r["convention"], r["value"], r["reason"]] for r in rows],
                              title=f"{rows[0]['loss']} under each convention" if rows else None,
                              precision=max(precision, 8)))


def comparison(c: Any, *, console: Console, precision: int = 6) -> None:
    """Print a :class:`lossctl.comparison.Comparison`: the models, each candidate's difference
    with the baseline, its per-class and per-slice deltas and the samples that changed most."""
    better, level = "higher" if c.higher_is_better else "lower", f"{c.level:g}%"
    console.print(build_table(
        ["model", "value", f"{level} CI low", "high", "standard error"],
        [[m.name, m.value, m.low, m.high, m.standard_error] for m in c.models],
        title=f"{c.loss} ({c.convention}, {better} is better) on {c.samples} samples",
        precision=precision))
    for d in c.differences:
        style = {"better": "green", "worse": "red"}.get(d.verdict, "")
        console.print(build_table(
            ["candidate - baseline", "delta", f"{level} CI low", "high", "p-value",
             "verdict"],
            [[f"{d.candidate} - {d.baseline}", d.delta, d.low, d.high, d.p_value,
              Text(d.verdict, style=style)]], precision=precision))
        pair, cells, slices = f"({d.candidate} - {d.baseline})", ("baseline", "candidate",
                                                                  "delta"), d.per_slice or []
        for head, rows, title in (
                (["class", "samples"], [[r["label"], r["count"], *(r[k] for k in cells)]
                                        for r in d.per_class],
                 f"per class: largest changes {pair}"),
                (["group", "samples"], [[r["group"], r["count"], *(r[k] for k in cells),
                                         r["low"], r["high"]] for r in slices],
                 f"by {c.group_by}: {len(slices)} slices, largest changes first {pair}"),
                (["row", "label"], [[r["index"], r["label"] or "", *(r[k] for k in cells)]
                                    for r in d.changed],
                 f"samples that changed most {pair}")):
            ci = (f"{level} CI low", "high") if rows and len(rows[0]) > 5 else ()
            if rows:
                console.print(build_table([*head, d.baseline, d.candidate, "delta", *ci], rows,
                                          title=title, precision=precision))
    console.print(Text(f"{c.replicates} paired bootstrap and permutation replicates, seed "
                       f"{c.seed}; significant when p < {1 - c.level / 100:.4g}"
                       + (f"; {c.note}" if c.note else ""), style="dim"))


def inspection(ins: Any, *, console: Console, precision: int = 6) -> None:
    """Print an :class:`lossctl.inspection.Inspection` for a person."""
    from rich.panel import Panel

    def describe(title: str, d: dict | None) -> None:
        if d is None:
            return
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        kind = d.get("encoding") or d.get("kind")
        grid.add_row(Text("looks like"), Text(str(kind), style="bold"))
        grid.add_row(Text("why"), Text(d.get("reason", "")))
        grid.add_row(Text("shape"), Text(f"{d['rows']} rows x {d['columns']} columns"))
        if d.get("num_classes"):
            grid.add_row(Text("classes"), Text(str(d["num_classes"])
                                               + (f" (starting at {d['offset']})" if d.get("offset") else "")))
        if d.get("classes") and d.get("counts") and len(d["classes"]) <= 30:
            pairs = ", ".join(f"{c}: {n}" for c, n in zip(d["classes"], d["counts"]))
            grid.add_row(Text("counts"), Text(pairs))
        if d.get("min") is not None:
            grid.add_row(Text("range"), Text(f"{format_cell(d['min'], precision)} .. "
                                             f"{format_cell(d['max'], precision)}"))
        bad = [f"{d[k]} {k}" for k in ("nan", "posinf", "neginf") if d.get(k)]
        if bad:
            grid.add_row(Text("non-finite"), Text(", ".join(bad), style="red"))
        if d.get("rows_not_summing_to_one"):
            grid.add_row(Text("rows not summing to 1"), Text(str(d["rows_not_summing_to_one"])))
        console.print(Panel(grid, title=Text(title), expand=False))

    describe("y_true", ins.y_true)
    describe("y_pred", ins.y_pred)
    if ins.imbalance and ins.imbalance > 1.5:
        console.print(Text(f"class imbalance: the largest class is {ins.imbalance:.1f}x the smallest"))
    for p in ins.problems:
        console.print(Text("mismatch: ", style="bold red") + Text(p))
    for n in ins.notes:
        console.print(Text("note: ", style="bold yellow") + Text(n))
    if not ins.problems and ins.y_pred is not None:
        console.print(Text("the files fit together", style="bold green"))
    # commands are printed whole (soft_wrap): a person copies them, so never break them
    if ins.recommendations:
        console.print(Text("\nrecommended", style="bold"))
        for i, r in enumerate(ins.recommendations, 1):
            console.print(Text(f" {i}. ") + Text(r.loss, style="bold") + Text(f": {r.why}"))
            console.print(Text(f"    {r.command}", style="cyan"), soft_wrap=True)
    if ins.conversions:
        console.print(Text("\nor convert the labels", style="bold"))
        for r in ins.conversions:
            console.print(Text(f"    {r.command}", style="cyan"), soft_wrap=True)
            console.print(Text(f"    ({r.why})"))


def markdown(text: str, *, console: Console) -> None:
    """Print Markdown (``lossctl explain`` on a terminal)."""
    from rich.markdown import Markdown

    console.print(Markdown(text))


def loss_list(rows: Sequence[Sequence[str]], *, console: Console, title: str) -> None:
    """``lossctl list`` on a terminal. Names never wrap; on a narrow terminal (< 140 columns)
    the alias and option columns are left out, with a caption saying where they are."""
    wide = console.width >= 140

    t = Table(title=Text(title), header_style="bold", box=_box.SIMPLE_HEAD if not wide else _box.HEAVY_HEAD,
              caption=None if wide else Text("other names and options: `lossctl explain NAME`, "
                                             "or widen the terminal"))
    t.add_column(Text("name"), no_wrap=True, style="bold")
    t.add_column(Text("task"), no_wrap=True)
    t.add_column(Text("y_true"), no_wrap=True)
    t.add_column(Text("y_pred"), no_wrap=True)
    if wide:
        t.add_column(Text("other names"), overflow="fold", ratio=2)
        t.add_column(Text("options"), overflow="fold", ratio=1)
    for r in rows:
        t.add_row(*(Text(str(c)) for c in (r if wide else r[:4])))
    console.print(t)


def framework_list(rows: Sequence[Sequence[str]], *, console: Console, framework: str,
                   title: str) -> None:
    """One framework's table of ``lossctl list --framework``: its names, the lossctl loss,
    the inputs, what the name implies."""
    wide = console.width >= 140
    t = Table(title=Text(title), header_style="bold", box=_box.SIMPLE_HEAD, title_justify="left")
    t.add_column(Text(f"{framework} name"), style="bold", overflow="fold",
                 max_width=44 if wide else 30)
    t.add_column(Text("lossctl"), no_wrap=True)
    t.add_column(Text("task"), no_wrap=True)
    if wide:
        t.add_column(Text("y_true"), no_wrap=True)
        t.add_column(Text("y_pred"), no_wrap=True)
    t.add_column(Text("implies"), overflow="fold")
    for r in rows:
        t.add_row(*(Text(str(c)) for c in (r if wide else [*r[:3], r[5]])))
    console.print(t)


# --- the renderer of ``--format table`` (injected into lossctl.out's table writer) --------------


def table_renderer(no_color: bool = False, flag: Any = None) -> Any:
    """A table renderer for :func:`lossctl.out.open_sink` (``renderer=``): a rich :func:`table`.

    The library's table writer never imports rich; the CLI hands it this renderer. The renderer
    is called at close as ``renderer(columns, rows, *, title, precision, show_header, file,
    plain)`` (a preview adds ``caption`` and ``gap``): ``plain=True`` (a file output) draws plain
    text whatever ``FORCE_COLOR`` says, no wrapping; otherwise the console honours ``no_color``
    (``--no-color``) and ``NO_COLOR``.

    Args:
        no_color: no colour on standard output.
        flag: how option references in a caption are spelled (the CLI's flags).

    Returns:
        The renderer.
    """

    def renderer(
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        title: str | None = None,
        precision: int = 6,
        show_header: bool = True,
        file: Any = None,
        plain: bool = False,
        caption: str | None = None,
        gap: int | None = None,
    ) -> None:
        from lossctl.errors import render_options

        if plain:  # a file: plain text whatever FORCE_COLOR says, no wrapping
            console = make_console(file=file, no_color=True, width=100_000, force_terminal=False)
        else:
            console = make_console(file=file, no_color=no_color)
        table(
            columns, rows, title=title, precision=precision, console=console,
            show_header=show_header, gap=gap,
            caption=render_options(caption, flag) if caption else None,
        )

    return renderer
