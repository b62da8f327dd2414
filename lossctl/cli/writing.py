"""Where a command's results go: the writers (:mod:`lossctl.out`) and the renderers
(:mod:`lossctl.render`) chosen for one output format, standard output or ``-o``.

:class:`ComputeOutput` is ``compute``'s: per-sample rows streamed as they are computed, the
bare value in a pipe, one JSON document, the report, or the comparison table.
:func:`draw` prints any rich renderer to standard output or, as plain text, to a file.
"""
from __future__ import annotations

import contextlib
from typing import Any, Callable

from lossctl.cli.env import Environment

__all__ = ["ComputeOutput", "draw", "table_renderer"]


def table_renderer(no_color: bool) -> Any:
    """The rich renderer of ``--format table`` for :func:`lossctl.out.open_sink`."""
    from lossctl import render

    return render.table_renderer(no_color)


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
                 precision: int, no_color: bool, flag: Callable) -> None:
        self.env = env
        self.fmt = fmt
        self.output = output
        self.value_only = value_only
        self.precision = precision
        self.no_color = no_color
        self.flag = flag
        self.sink: Any = None
        self.stream_rows = False
        self.stream_lines = False

    def streams(self, ev: Any) -> bool:
        """Whether per-sample data is written block by block as it is computed."""
        comp = ev.computations[0]
        self.stream_rows = self.fmt in ("csv", "tsv", "jsonl", "npy") and not self.value_only
        self.stream_lines = self.value_only and (comp.reduction == "none" or comp.elementwise)
        return self.stream_rows or self.stream_lines

    def write_block(self, ev: Any, block: Any, stack: contextlib.ExitStack) -> None:
        """Write one block's per-sample rows (the sink opens on the first block)."""
        rows = ev.rows
        if self.sink is None:
            from lossctl.out import open_sink

            rows.values_only = self.fmt == "npy" or self.stream_lines
            self.sink = stack.enter_context(open_sink(
                "csv" if self.stream_lines else self.fmt, rows.columns(block, ev.width or 1),
                output=self.output, stdout=self.env.stdout, header=not self.stream_lines,
                precision=self.precision, nrows=ev.total if self.fmt == "npy" else None,
                renderer=table_renderer(self.no_color) if self.fmt == "table" else None))
        self.sink.write(*rows.arrays(block))

    def finish(self, ev: Any, result: Any) -> None:
        """Write what comes after the last block: the comparison, the report, the value, the
        JSON document."""
        if result.compare is not None:
            self._compare(result)
        elif self.fmt == "table":
            from lossctl import render
            from lossctl.errors import render_options

            result.report.predictions = render_options(result.report.predictions, self.flag)
            draw(self.env, self.output, self.no_color,
                 lambda console: render.report(result.report, console=console,
                                               precision=self.precision))
        elif self.value_only:
            if not self.stream_lines:
                from lossctl.out import write_value

                write_value(result.value, stdout=self.env.stdout)
        elif self.fmt == "json":
            from lossctl.out import write_json

            write_json(result.to_dict(flag=self.flag), output=self.output, stdout=self.env.stdout)

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
