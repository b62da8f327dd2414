"""Where a command's results go: the writers (:mod:`lossctl.out`) and the renderers
(:mod:`lossctl.render`) chosen for one output format, standard output or ``-o``.

:class:`ComputeOutput` is ``compute``'s: per-sample rows streamed as they are computed, the
bare value in a pipe, one JSON document, the report, or the comparison table.
:func:`draw` prints any rich renderer to standard output or, as plain text, to a file.
"""
from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from lossctl.cli.env import Environment

__all__ = ["PREVIEW_ROWS", "ComputeOutput", "draw", "preview", "table_renderer"]


#: Rows at each end of a table that a converter shows on a terminal (a preview: any number of
#: rows is shown at once, in bounded time and memory).
PREVIEW_ROWS = 10


def table_renderer(no_color: bool, command: str | None = None) -> Any:
    """The rich renderer of ``--format table`` for :func:`lossctl.out.open_sink`."""
    from lossctl import render
    from lossctl.cli.flags import renderer

    return render.table_renderer(no_color, flag=renderer(command))


def preview(fmt: str, output: str | None) -> int | None:
    """How many rows at each end a table on the terminal shows (None: all, for a file)."""
    return PREVIEW_ROWS if fmt == "table" and output is None else None


def draw(env: Environment, output: str | None, no_color: bool, paint: Callable[[Any], None],
         *, width: int = 120) -> None:
    """Call ``paint(console)`` with a console on stdout, or on ``output`` (atomically, plain
    text of ``width`` columns)."""
    from lossctl import render

    if output:
        from lossctl.out import atomic_open

        with atomic_open(output, "w") as fh:
            paint(render.make_console(no_color=True, file=fh, width=width, force_terminal=False))
    else:
        paint(render.make_console(no_color=no_color, file=env.stdout))


class ComputeOutput:
    """The output of one ``compute`` run. See the module docstring."""

    def __init__(self, env: Environment, fmt: str, output: str | None, *, value_only: bool,
                 precision: int, no_color: bool, flag: Callable, sort: str | None = None,
                 top: int | None = None, plot: str | None = None) -> None:
        self.env = env
        self.sort = sort
        self.top = top
        self.ranked: Any = None  # the rows --sort keeps (lossctl.out.order.TopRows)
        self._columns: list[str] | None = None
        self.plot = plot  # --plot PATH: the figures of the result, after the data
        self.group_by: str | None = None  # --group-by SPEC: the name of the groups' table
        self.several = False  # several losses in one pass (set by streams)
        self.fmt = fmt
        self.output = output
        self.value_only = value_only
        self.precision = precision
        self.no_color = no_color
        self.flag = flag
        self.sink: Any = None
        self.table: str | None = None
        self.stream_rows = False
        self.stream_lines = False
        self.stream_json = False
        self._doc: Any = None  # the JSON document, streamed: header, per_sample, then the value
        self._array: Any = None
        self._spool: Any = None  # elementwise rows, held on disk until per_sample is closed

    def streams(self, ev: Any) -> bool:
        """Whether per-sample data is written block by block as it is computed."""
        comp = ev.computations[0]
        # a metric whose data is a table (the confusion matrix): csv/tsv write the table
        self.table = comp.spec.data_table if (
            self.fmt in ("csv", "tsv") and not self.value_only and comp.reduction != "none"
            and not ev.several) else None
        data = self.fmt != "table" and not self.value_only and self.table is None
        if data and self.sort is not None and (self.sort != "row" or self.top is not None):
            self.ranked = self._ranking(ev)
        self.stream_rows = data and (self.fmt in ("csv", "tsv", "jsonl", "npy", "parquet")
                                     or self.ranked is not None)
        self.stream_lines = self.value_only and (comp.reduction == "none" or comp.elementwise)
        self.stream_json = (self.fmt == "json" and not self.value_only and self.ranked is None
                            and not ev.several)
        self.several = ev.several  # several losses: summary forms of their own (_several)
        return self.stream_rows or self.stream_lines or self.stream_json

    def _ranking(self, ev: Any) -> Any:
        """The holder of the rows ``--sort`` / ``--top`` keep; elementwise rows are refused."""
        from lossctl import budget
        from lossctl.errors import UsageError, opt
        from lossctl.out.order import TopRows

        if ev.computations[0].elementwise:
            raise UsageError(
                f"{opt('sort')} orders per-sample rows, and elementwise output has a row of "
                "class values per sample without a row index",
                hint=f"leave out {opt('elementwise')}, or sort its output yourself",
                option="sort")
        return TopRows(self.sort, self.top, budget.usable(ev.budget) // 2)

    def write_block(self, ev: Any, block: Any, stack: contextlib.ExitStack) -> None:
        """Write one block's per-sample rows (the sink opens on the first block)."""
        if self.stream_json:
            self._json_block(ev, block, stack)
            return
        rows = ev.rows
        if self.ranked is not None:  # held until the end; rows keep their index column
            import numpy as np

            if self._columns is None:
                rows.values_only = False
                self._columns = rows.columns(block, ev.width or 1)
            n = block.per_sample.shape[0]
            self.ranked.add(block.per_sample, np.arange(block.start, block.start + n),
                            rows.arrays(block))
            return
        if self.sink is None:
            from lossctl.out.sink import open_rows_sink

            self.sink = stack.enter_context(open_rows_sink(
                rows, block, ev.width, "csv" if self.stream_lines else self.fmt,
                map_fmt="npy" if self.stream_lines else self.fmt,
                values_only=self.fmt == "npy" or self.stream_lines,
                shown="a terminal" if self.fmt == "table" else None, nrows=ev.total,
                output=self.output, stdout=self.env.stdout,
                header=not self.stream_lines or ev.several, precision=self.precision,
                renderer=table_renderer(self.no_color) if self.fmt == "table" else None))
        self.sink.write(*rows.arrays(block))

    def finish(self, ev: Any, result: Any) -> None:
        """Write what comes after the last block: the comparison, the report, the value, the
        JSON document."""
        if result.groups is not None and self.value_only and not self.stream_lines:
            self._groups_csv(result)
        elif result.compare is not None:
            self._compare(result)
        elif self.several and self.ranked is None and not self.stream_rows \
                and not self.stream_lines:
            self._several(result)
        elif self.fmt == "table":
            from lossctl import render
            from lossctl.errors import render_options

            result.report.predictions = render_options(result.report.predictions, self.flag)

            def paint(console: Any) -> None:
                render.report(result.report, console=console, precision=self.precision)
                if result.details:  # a metric's tables: confusion matrix, reliability, ...
                    render.details(result.details, console=console, precision=self.precision)
                self._groups_table(result, render, console)

            draw(self.env, self.output, self.no_color, paint)
        elif self.table is not None:
            self._data_table((result.details or {}).get(self.table))
        elif self.ranked is not None:
            self._ranked_finish(result)
        elif self.value_only:
            if not self.stream_lines and result.ci is not None:
                self._value_and_interval(result)
            elif not self.stream_lines:
                from lossctl.out import write_value

                write_value(result.value, stdout=self.env.stdout)
        elif self.fmt == "json":
            self._json_finish(result)
        if self.plot is not None:
            from lossctl.plot import result_figure

            result_figure(self.plot, result)

    def _several(self, result: Any) -> None:
        """Several losses in one pass: a table of their values (and the first one's report) on
        a terminal, one CSV row per loss in a pipe, or one JSON document of them all."""
        results = [result, *(result.others or [])]
        if self.fmt == "json":
            from lossctl.out import write_json

            doc = {"losses": [{**r.header(flag=self.flag), **(
                {"details": r.details} if r.details is not None else {})} for r in results]}
            if result.groups is not None:
                doc["groups"] = result.group_dicts(flag=self.flag)
            write_json(doc, output=self.output, stdout=self.env.stdout)
            return
        if self.fmt == "table":
            from lossctl import render

            ci = result.ci is not None
            rows = [[r.loss, r.value, *((r.ci["low"], r.ci["high"]) if ci else ()),
                     r.convention, r.reduction] for r in results]

            def paint(console: Any) -> None:
                render.table(["loss", "value", *(("CI low", "high") if ci else ()),
                              "convention", "reduction"], rows, console=console,
                             title=f"{len(results)} values on {result.samples} samples",
                             precision=max(self.precision, 8))
                if result.report is not None:
                    render.report(result.report, console=console, precision=self.precision)
                self._groups_table(result, render, console)

            draw(self.env, self.output, self.no_color, paint)
            return
        import numpy as np

        from lossctl.out import open_sink

        ci = result.ci is not None
        cols = ["loss", "value", *(("low", "high", "level") if ci else ())]

        def num(key: str) -> Any:
            return np.asarray([np.nan if (r.ci or {}).get(key) is None else r.ci[key]
                               for r in results], dtype=np.float64)

        arrays = [np.asarray([r.loss for r in results], dtype=str),
                  np.asarray([np.nan if r.value is None else r.value for r in results])]
        with open_sink("csv", cols, output=self.output, stdout=self.env.stdout,
                       header=True) as sink:
            sink.write(*arrays, *((num("low"), num("high"), num("level")) if ci else ()))

    @staticmethod
    def _group_rows(result: Any) -> tuple[list[str], list[list[Any]]]:
        """One row per group (and loss): group, [loss,] samples, value[, low, high]."""
        several = len(result.groups[0][1]) > 1 if result.groups else False
        ci = result.ci is not None
        cols = ["group", *(("loss",) if several else ()), "samples", "value",
                *(("low", "high") if ci else ())]
        rows = [[key, *((r.loss,) if several else ()), r.samples, r.value,
                 *(((r.ci or {}).get("low"), (r.ci or {}).get("high")) if ci else ())]
                for key, rs in result.groups for r in rs]
        return cols, rows

    def _groups_table(self, result: Any, render: Any, console: Any) -> None:
        if result.groups is not None:
            cols, rows = self._group_rows(result)
            render.table(cols, rows, console=console, precision=max(self.precision, 8),
                         title=f"by {self.group_by or 'group'}: {len(result.groups)} groups")

    def _groups_csv(self, result: Any) -> None:
        """``group_by`` in a pipe: one CSV row per group (and loss)."""
        import numpy as np

        from lossctl.out import open_sink

        cols, rows = self._group_rows(result)
        text = {"group", "loss"}
        arrays = [np.asarray([r[j] for r in rows], dtype=str) if c in text else
                  np.asarray([r[j] for r in rows], dtype=np.int64) if c == "samples" else
                  np.asarray([np.nan if r[j] is None else r[j] for r in rows], dtype=np.float64)
                  for j, c in enumerate(cols)]
        with open_sink("csv", cols, output=None, stdout=self.env.stdout, header=True) as sink:
            sink.write(*arrays)

    def _value_and_interval(self, result: Any) -> None:
        """``--ci`` in a pipe: one CSV row with a header, ``value,low,high,level``."""
        import numpy as np

        from lossctl.out import open_sink

        ci = result.ci
        with open_sink("csv", ["value", "low", "high", "level"], output=None,
                       stdout=self.env.stdout, header=True) as sink:
            sink.write(*(np.asarray([np.nan if v is None else v], dtype=np.float64)
                         for v in (result.value, ci["low"], ci["high"], ci["level"])))

    # --- one JSON document, streamed ------------------------------------------------------
    def _json_block(self, ev: Any, block: Any, stack: contextlib.ExitStack) -> None:
        import numpy as np

        if self._doc is None:
            from lossctl.errors import render_options
            from lossctl.out import json_document

            comp = ev.computations[0]
            doc = stack.enter_context(json_document(output=self.output, stdout=self.env.stdout))
            for name, value in (("loss", comp.spec.name),
                                ("alias", comp.alias.name if comp.alias else None),
                                ("convention", comp.convention), ("reduction", comp.reduction),
                                ("options", dict(comp.options)),
                                ("predictions", render_options(str(comp.reading), self.flag))):
                doc.field(name, value)
            self._doc = doc
            self._array = doc.array("per_sample")
            if comp.elementwise:
                import tempfile

                self._spool = stack.enter_context(tempfile.TemporaryFile(prefix="lossctl-"))
        self._array.write(block.per_sample)
        if self._spool is not None and block.elementwise is not None:
            e = np.ascontiguousarray(block.elementwise, dtype=np.float64)
            self._item = e.shape[1:]  # (C,) per row, or one sample's loss map
            self._spool.write(e.tobytes())

    def _json_finish(self, result: Any) -> None:
        import numpy as np

        if self._doc is None:  # no rows at all: the whole document at once
            from lossctl.out import write_json

            write_json(result.to_dict(flag=self.flag), output=self.output, stdout=self.env.stdout)
            return
        self._array.close()
        if self._spool is not None:
            import math

            self._spool.seek(0)
            item = getattr(self, "_item", (1,))
            row_bytes = 8 * max(math.prod(item), 1)
            rows_per_read = max(1, (8 << 20) // row_bytes)
            with self._doc.array("elementwise") as arr:
                while True:
                    data = self._spool.read(rows_per_read * row_bytes)
                    if not data:
                        break
                    arr.write(np.frombuffer(data, dtype=np.float64).reshape(-1, *item))
        names = ("value", "samples", *(("elements", "shape") if result.shape else ()), "classes",
                 *(("details",) if result.details is not None else ()),
                 *(("ci",) if result.ci is not None else ()),
                 *(("groups",) if result.groups is not None else ()))
        for name in names:
            value = getattr(result, name)
            if name == "ci":
                value = {k: v for k, v in value.items() if k != "values"}
            elif name == "groups":
                value = result.group_dicts(flag=self.flag)
            self._doc.field(name, list(value) if name == "shape" else value)
        self._doc.close()

    def _ranked_finish(self, result: Any) -> None:
        """The rows ``--sort`` kept, in its order: rows of the format, or in a JSON document
        the header fields, ``sort``, ``top`` and these ``rows`` (objects), then the details."""
        from lossctl.out import json_document, open_sink

        columns = self._columns or ["index", "loss"]
        cols = self.ranked.columns()
        if self.fmt != "json":
            with open_sink(self.fmt, columns, output=self.output, stdout=self.env.stdout) as sink:
                if cols:
                    sink.write(*cols)
            return
        with json_document(output=self.output, stdout=self.env.stdout) as doc:
            for name, value in result.header(flag=self.flag).items():
                doc.field(name, value)
            doc.field("sort", self.sort)
            doc.field("top", self.top)
            with doc.array("rows", columns=columns) as arr:
                if cols:
                    arr.write(*cols)
            if result.details is not None:
                doc.field("details", result.details)

    def _data_table(self, table: dict | None) -> None:
        """A metric's matrix as rows: a header of the predicted classes, then one row per true
        class, its name first (no rows: the header cell alone)."""
        import numpy as np

        from lossctl.out import open_sink

        names = [] if table is None else [str(v) for v in table.get("names", table["labels"])]
        with open_sink(self.fmt, ["true \\ predicted", *names], output=self.output,
                       stdout=self.env.stdout) as sink:
            if names:
                matrix = np.asarray(table["matrix"])  # int64 counts, float64 weight sums
                sink.write(np.asarray(names, dtype=str), matrix.reshape(len(names), -1))

    def _compare(self, result: Any) -> None:
        import numpy as np

        from lossctl.out import open_sink, write_json

        data = result.to_dict(flag=self.flag)
        rows = data["compare"]
        if self.fmt == "table":
            from lossctl import render

            draw(self.env, self.output, self.no_color,
                 lambda console: render.compare(rows, console=console, precision=self.precision))
            return
        if self.fmt == "json":
            write_json(data, output=self.output, stdout=self.env.stdout)
            return
        values = np.asarray([np.nan if r["value"] is None else r["value"] for r in rows])
        if self.fmt == "npy":
            with open_sink("npy", ["value"], output=self.output, stdout=self.env.stdout,
                           nrows=len(rows)) as sink:
                sink.write(values)
            return
        fmt = "csv" if self.value_only else self.fmt
        with open_sink(fmt, ["convention", "value", "reason"], output=self.output,
                       stdout=self.env.stdout, header=True) as sink:
            sink.write(np.asarray([r["convention"] for r in rows], dtype=str), values,
                       np.asarray([r["reason"] for r in rows], dtype=str))
