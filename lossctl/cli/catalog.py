"""``lossctl list`` and ``lossctl explain``: the registry, for people and for programs."""

from typing import Annotated, Any

import typer

from lossctl.cli.app import app
from lossctl.cli.boundary import current_env, lossctl_command
from lossctl.cli.flags import renderer
from lossctl.cli.options import (
    FormatOpt,
    NoColorOpt,
    NoWarnOpt,
    OutputOpt,
    QuietOpt,
    StrictOpt,
    Task,
    examples,
)
from lossctl.cli.writing import draw
from lossctl.errors import UsageError

__all__ = ["explain", "list_"]


def _options_text(d: dict) -> str:
    parts = [f"{k}={v}" if v not in (None, False) else k for k, v in d["options"].items()]
    return " ".join(parts + d["features"])


@app.command(name="list", epilog=examples(
    "lossctl list",
    "lossctl list --task multi-class",
    "lossctl list -f json | jq '.[].name'",
))
@lossctl_command
def list_(
    ctx: typer.Context,
    task: Annotated[Task | None, typer.Option("--task", "-t", case_sensitive=False, show_default=False, help="Only losses for this task.")] = None,
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
    from lossctl.losses import registry
    from lossctl.out import open_sink, resolve_format, write_json

    env = current_env(ctx)
    out_fmt = resolve_format(fmt.value if fmt else None, output, stdout_isatty=env.stdout_isatty,
                             plain="csv")
    flag = renderer("compute")
    specs = [s for s in registry.SPECS if task is None or s.task == task.value]
    rows = [registry.describe(s, flag) for s in specs]
    if out_fmt == "json":
        write_json(rows, output=output, stdout=env.stdout)
        return
    if out_fmt == "npy":
        raise UsageError("lossctl list has no numeric output for npy", hint="use -f csv or json")
    if out_fmt == "table":  # narrow enough for a terminal: aliases in one column, short kinds
        from lossctl import render

        table = [
            [d["name"], d["task"], registry.TARGET_SHORT[s.target], s.prediction,
             "; ".join(f"{fw}: {' '.join(v)}" for fw, v in d["aliases"].items()),
             " ".join(list(d["options"]) + d["features"])]
            for s, d in zip(specs, rows)
        ]
        title = f"lossctl losses ({len(rows)})"
        draw(env, output, no_color, lambda c: render.loss_list(table, console=c, title=title),
             width=160)
        return
    import numpy as np

    fws = registry.FRAMEWORKS
    cols = ["name", "task", *fws, "y_true", "y_pred", "options"]
    table = [[d["name"], d["task"], *(" ".join(d["aliases"].get(f, [])) for f in fws),
              d["y_true"], d["y_pred"], _options_text(d)] for d in rows]
    with open_sink(out_fmt, cols, output=output, stdout=env.stdout, header=True,
                   title="lossctl losses") as sink:
        if table:
            sink.write(*(np.asarray([r[j] for r in table], dtype=str) for j in range(len(cols))))


@app.command(epilog=examples(
    "lossctl explain scce",
    "lossctl explain CrossEntropyLoss",
    "lossctl explain kl_div -f json",
))
@lossctl_command
def explain(
    ctx: typer.Context,
    loss: Annotated[str, typer.Argument(metavar="LOSS", show_default=False, help="Any loss name or alias.")],
    fmt: Annotated[str | None, typer.Option("--format", "-f", metavar="text|json", show_default=False, help="text (default) or json.")] = None,
    no_color: NoColorOpt = False,
    quiet: QuietOpt = False,
    no_warn: NoWarnOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Explain a loss: formula, what each framework does and where they differ, when to use it,
    input shapes, a runnable example and its siblings."""
    from lossctl.losses import registry

    env = current_env(ctx)
    spec, alias = registry.lookup(loss)
    if fmt not in (None, "text", "json"):
        raise UsageError(f"unknown format {fmt!r} for explain", hint="use text or json")
    info: dict[str, Any] = registry.describe(spec, renderer("compute"))
    info["doc"] = spec.doc
    if alias is not None:
        info["alias"] = {"name": alias.name, "framework": alias.framework,
                         "implies": dict(alias.defaults)}
    if fmt == "json":
        from lossctl.out import write_json

        write_json(info, stdout=env.stdout)
        return
    from lossctl.losses import explain as pages

    text = pages.page(info)
    if env.stdout_isatty:
        from lossctl import render

        render.markdown(text, console=render.make_console(no_color=no_color, file=env.stdout))
    else:
        env.stdout.write(text)
