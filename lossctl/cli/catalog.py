"""``lossctl list`` and ``lossctl explain``: the registry, for people and for programs."""

from typing import Annotated, Any

import typer

from lossctl.cli.root import app
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


def _implied(d: dict, flag: Any) -> str:
    """What a framework's name implies, as flags: ``--from-logits --convention torch``."""
    from lossctl.errors import opt, render_options

    return " ".join(render_options(opt(k, v), flag) for k, v in d["implies"].items()
                    if k != "convention" or v != d["framework"])  # the prefix says it


def _list_frameworks(env: Any, framework: str | None, task: Any, out_fmt: str,
                     output: str | None, no_color: bool) -> None:
    """``list --framework FW`` (``all``: every framework, one table each): the losses under
    each framework's own names."""
    from lossctl.losses import registry
    from lossctl.out import open_sink, write_json

    flag = renderer("compute")
    rows = registry.by_framework(None if framework == "all" else framework,
                                 task.value if task else None, flag)
    if out_fmt == "json":
        write_json(rows, output=output, stdout=env.stdout)
        return
    if out_fmt == "npy":
        raise UsageError("lossctl list has no numeric output for npy", hint="use -f csv or json")
    if out_fmt == "table":
        from lossctl import render

        def paint(console: Any) -> None:
            for fw in registry.FRAMEWORKS:
                mine = [r for r in rows if r["framework"] == fw]
                if mine:
                    table = [[" ".join(r["names"]), r["loss"], r["task"],
                              registry.TARGET_SHORT[r["target"]], r["prediction"],
                              _implied(r, flag)] for r in mine]
                    render.framework_list(table, console=console, framework=fw,
                                          title=f"{fw} losses ({len(mine)}): lossctl compute "
                                          f"{fw}.NAME")

        draw(env, output, no_color, paint, width=160)
        return
    import numpy as np

    cols = ["framework", "name", "loss", "task", "y_true", "y_pred", "implies"]
    table = [[r["framework"], " ".join(r["names"]), r["loss"], r["task"], r["y_true"],
              r["y_pred"], _implied(r, flag)] for r in rows]
    with open_sink(out_fmt, cols, output=output, stdout=env.stdout, header=True,
                   title="lossctl losses by framework") as sink:
        if table:
            sink.write(*(np.asarray([r[j] for r in table], dtype=str) for j in range(len(cols))))


@app.command(name="list", epilog=examples(
    "lossctl list",
    "lossctl list --task multi-class",
    "lossctl list --framework torch          # PyTorch's names, and what each computes",
    "lossctl list --framework all -f csv     # every framework's names",
    "lossctl list -f json | jq '.[].name'",
))
@lossctl_command
def list_(
    ctx: typer.Context,
    task: Annotated[Task | None, typer.Option("--task", "-t", case_sensitive=False, show_default=False, help="Only losses for this task.")] = None,
    framework: Annotated[str | None, typer.Option("--framework", "-F", metavar="keras|tf.nn|torch|optax|sklearn|all", show_default=False, help="List the losses by framework, under the framework's own names (all: one table per framework). Any of these names may be given to compute as FRAMEWORK.NAME.")] = None,
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
    if framework is not None:
        _list_frameworks(env, framework.lower(), task, out_fmt, output, no_color)
        return
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
            [d["name"], d["task"],
             *(s.role_names() if s.inputs else (registry.TARGET_SHORT[s.target], s.prediction)),
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
