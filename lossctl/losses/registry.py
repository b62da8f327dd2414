"""The registry: every loss lossctl knows, found by any of its names, with its options.

Adding a loss is one function in its family module plus one :class:`LossSpec` entry in
``lossctl/losses/catalog/<family>.py``. ``lossctl list``, ``lossctl explain``, the CLI's options
and the README all read this table; nothing else keeps a list of losses.

Names are matched case-insensitively with ``-`` and ``_`` equivalent (:func:`normalize`). An alias
may carry defaults: the PyTorch names select ``convention="torch"`` and PyTorch's input meaning
(``cross_entropy`` takes logits, ``nll_loss`` and ``kl_div`` take log-probabilities), the tf.nn and
optax names take logits and return elementwise values, as those functions do.

This module imports nothing heavy (no numpy): the CLI reads it at start-up.
"""
from __future__ import annotations

import difflib
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from lossctl.errors import FlagRenderer, UsageError, opt, render_options
from lossctl.losses.catalog import SPECS
from lossctl.losses.spec import (
    CONVENTIONS,
    FEATURES,
    FRAMEWORKS,
    OPTIONS,
    PREDICTIONS,
    PREFIX_CONVENTIONS,
    PREFIXES,
    REDUCTIONS,
    ROLES,
    TARGET_SHORT,
    TARGETS,
    TASKS,
    Alias,
    LossSpec,
    Option,
    check_option,
)

__all__ = [
    "CONVENTIONS",
    "FEATURES",
    "FRAMEWORKS",
    "OPTIONS",
    "PREDICTIONS",
    "REDUCTIONS",
    "SPECS",
    "TARGETS",
    "TARGET_SHORT",
    "TASKS",
    "Alias",
    "LossSpec",
    "Option",
    "by_framework",
    "describe",
    "framework_of",
    "get",
    "lookup",
    "names",
    "normalize",
    "options_for",
    "reduction_rules",
    "resolve_options",
    "role_users",
    "roles",
]


def normalize(name: str) -> str:
    """Lookup key of a loss name: case-insensitive, '-' and '_' equivalent."""
    return name.strip().lower().replace("-", "_")


def _build_index() -> dict[str, tuple[LossSpec, Alias | None]]:
    """Every name: canonical names and aliases as written, and ``framework.alias`` for every
    alias (a ``prefix_only`` alias only so)."""
    index: dict[str, tuple[LossSpec, Alias | None]] = {}
    for spec in SPECS:
        keys = [(spec.name, None)]
        for a in spec.aliases:
            keys.append((f"{a.framework}.{a.name}", a))
            if not a.prefix_only:
                keys.append((a.name, a))
        for key, alias in keys:
            k = normalize(key)
            if k in index and index[k][0] is not spec:
                raise RuntimeError(f"registry: {key!r} names two losses (mark one alias "
                                   "prefix_only)")
            if k in index and alias is None:
                continue
            index.setdefault(k, (spec, alias))
    return index


_INDEX = _build_index()


def names() -> list[str]:
    """Every canonical name, in registry order."""
    return [s.name for s in SPECS]


def lookup(name: str) -> tuple[LossSpec, Alias | None]:
    """The spec a name refers to and the alias used (None for the canonical name).

    Raises UsageError with "did you mean ...?" for an unknown name.
    """
    prefixed = _prefixed(name)
    if prefixed is not None:
        return prefixed
    hit = _INDEX.get(normalize(name))
    if hit is not None:
        return hit
    keys = [k for k in _INDEX if "." not in k]
    close = difflib.get_close_matches(normalize(name), keys, n=3, cutoff=0.6)
    shown = []
    for k in close:
        canon = _INDEX[k][0].name
        label = k if k == canon else f"{k} ({canon})"
        if label not in shown:
            shown.append(label)
    hint = (
        f"did you mean {', '.join(shown)}? Run `lossctl list` for every loss"
        if shown
        else "run `lossctl list` for every loss and its aliases"
    )
    raise UsageError(f"unknown loss {name!r}", hint=hint, option="loss")


def framework_of(spec: LossSpec) -> list[str]:
    """The frameworks that define ``spec`` (its aliases' and its conventions')."""
    out = [a.framework for a in spec.aliases]
    out += [c for c in spec.conventions if c in FRAMEWORKS]
    return list(dict.fromkeys(out))


def _prefixed(name: str) -> tuple[LossSpec, Alias | None] | None:
    """``keras.NAME``, ``torch.NAME``, ...: the loss NAME (any of its names) in that
    framework's meaning and convention; None when ``name`` has no framework prefix."""
    text = name.strip()
    prefix = next((p for p in PREFIXES if text.lower().startswith(p)), None)
    if prefix is None:
        return None
    fw, bare = PREFIXES[prefix], text[len(prefix):]
    hit = _INDEX.get(normalize(f"{fw}.{bare}")) or _INDEX.get(normalize(bare))
    if hit is None:
        return None  # unknown: reported with suggestions by lookup()
    spec, named = hit
    if fw not in framework_of(spec):  # (then no alias of spec is fw's either)
        raise UsageError(
            f"{bare!r} ({spec.name}) is not a {fw} loss",
            hint=f"{spec.name} is defined by {', '.join(framework_of(spec))}; run "
            f"`lossctl list --framework {fw}` for {fw}'s losses", option="loss")
    own = named if named is not None and named.framework == fw else next(
        (a for a in spec.aliases if a.framework == fw), None)
    conv = PREFIX_CONVENTIONS.get(fw)
    defaults = dict(own.defaults) if own is not None else {}
    if conv in spec.conventions:
        defaults.setdefault("convention", conv)
    return spec, Alias(text, fw, MappingProxyType(defaults))


def roles() -> dict[str, list[str]]:
    """Every further input (a role beyond Y_TRUE and Y_PRED) and the losses that take it."""
    out: dict[str, list[str]] = {}
    for spec in SPECS:
        for r in spec.extra_inputs:
            out.setdefault(r, []).append(spec.name)
    return out


def role_users(name: str) -> list[str]:
    """The losses that take the further input ``name``."""
    return roles().get(name, [])


def get(name: str) -> LossSpec:
    """The spec for any name or alias."""
    return lookup(name)[0]


def options_for(spec: LossSpec, alias: Alias | None = None) -> dict[str, Any]:
    """The loss options with their defaults, alias defaults applied."""
    opts = dict(spec.options)
    if alias is not None:
        for k, v in alias.defaults.items():
            if k in opts:
                opts[k] = v
    return opts


def resolve_options(
    spec: LossSpec, alias: Alias | None, given: Mapping[str, Any]
) -> dict[str, Any]:
    """The options of one computation: defaults, then the alias's, then ``given`` (None values
    are "not given"), each validated against its domain.

    Raises:
        UsageError: an option the loss does not take, or a value outside its domain (NaN and
            infinities included); the error names the option.
    """
    options = options_for(spec, alias)
    for key, value in given.items():
        if value is None:
            continue
        if key not in spec.options:
            takes = ", ".join(opt(k) for k in spec.options) or "no options"
            raise UsageError(
                f"{opt(key)} does not apply to {spec.name}",
                hint=f"{spec.name} takes {takes}",
                option=key,
            )
        options[key] = check_option(key, value, spec.domain(key),
                                    per_class=key in spec.per_class_options)
    if options.get("pos_weight") is not None and not options.get("from_logits"):
        raise UsageError(
            f"{opt('pos_weight')} needs {opt('from_logits', True)}",
            hint="PyTorch and tf.nn define pos_weight on logits (BCEWithLogitsLoss)",
            option="pos_weight",
        )
    return options


def reduction_rules(spec: LossSpec) -> dict[str, str]:
    """How ``reduction="mean"`` turns per-sample values into one number, per convention."""
    per = "mean over the class axis of the elementwise values" if spec.kind == "elementwise" else (
        "one value per row"
    )
    torch = {
        "rows": "sum(l) / N",
        "weights": "sum(w*l) / sum(w) with weights (PyTorch weight=), else sum(l) / N",
        "class_weights": "sum(w[y_n] * l_n) / sum(w[y_n]) over non-ignored rows with class "
        "weights, else / number of non-ignored rows; all ignored -> nan",
        "elements": f"sum(l) / (N * C) (PyTorch 'mean'); {opt('reduction', 'batchmean')} "
        "gives sum(l) / N",
    }[spec.torch_mean]
    if spec.kind == "elementwise" and spec.torch_mean == "rows":
        torch = "mean over all N*C elements (= mean of the per-sample values); sum adds every element"
    rules = {
        "per_sample": per,
        "keras": f"sum(w*l) / N (N = rows; with {opt('ignore_class')}, the non-ignored rows; all "
        "ignored -> 0); mean_with_sample_weight: sum(w*l) / sum(w)",
        "torch": torch,
    }
    if spec.finalize == "sqrt":
        rules["keras"] = "sqrt(sum(w*l) / N) where l is the per-sample mean squared error"
        rules["torch"] = rules["keras"]
    if "sklearn" in spec.conventions:
        rules["sklearn"] = ("scikit-learn's own aggregate of the per-sample values (per output "
                            "column, then averaged)" if spec.aggregate else
                            "sum(w*l) / sum(w) (np.average); no rows -> nan")
    return rules


def describe(spec: LossSpec, flag: FlagRenderer | None = None) -> dict[str, Any]:
    """Everything ``list`` and ``explain`` show for a loss, as plain data (JSON-able).

    Option references in the texts are spelled by ``flag`` (Python names by default).
    """
    aliases: dict[str, list[str]] = {fw: [] for fw in FRAMEWORKS}
    for a in spec.aliases:
        aliases.setdefault(a.framework, []).append(a.name)

    def r(text: str) -> str:
        return render_options(text, flag)

    return {
        "name": spec.name,
        "family": spec.family,
        "task": spec.task,
        "aliases": {k: v for k, v in aliases.items() if v},
        "y_true": _named(spec, 0, r(TARGETS[spec.target])),
        "y_pred": _named(spec, 1, r(PREDICTIONS[spec.prediction])),
        "inputs": _inputs(spec, r),
        "returns": "elementwise [N, C], reduced to one value per row" if spec.kind == "elementwise"
        else "one value per row [N]",
        "options": {r(opt(k)): v for k, v in spec.options.items()},
        "features": [r(opt(f)) for f in spec.features],
        "conventions": list(spec.conventions),
        "default_convention": spec.default_convention,
        "summary": r(spec.summary),
        "formula": r(spec.formula),
        "reduction": {k: r(v) for k, v in reduction_rules(spec).items()},
        "differences": r(spec.divergences),
        "when": r(spec.when),
        "siblings": list(spec.siblings),
        "example": _example(spec),  # self-contained: it runs from any folder
    }


def by_framework(framework: str | None = None, task: str | None = None,
                 flag: FlagRenderer | None = None) -> list[dict[str, Any]]:
    """The losses of each framework under its own names (``lossctl list --framework``): one
    row per framework and loss, in :data:`FRAMEWORKS` order, with what ``framework.NAME``
    computes (the lossctl loss, its inputs, and the defaults the name implies)."""
    if framework is not None and framework not in FRAMEWORKS:
        raise UsageError(f"unknown framework {framework!r}",
                         hint="use one of: " + ", ".join(FRAMEWORKS), option="framework")
    rows = []
    for fw in FRAMEWORKS if framework is None else (framework,):
        for spec in SPECS:
            if task is not None and spec.task != task:
                continue
            groups: dict[tuple, list[Alias]] = {}  # names that imply the same defaults
            for a in spec.aliases:
                if a.framework == fw:
                    groups.setdefault(tuple(sorted(a.defaults.items())), []).append(a)
            for key, own in groups.items():
                rows.append(_framework_row(fw, spec, own, dict(key), flag))
    return rows


def _framework_row(fw: str, spec: LossSpec, own: list[Alias], implies: dict[str, Any],
                   flag: FlagRenderer | None) -> dict[str, Any]:
    return {"framework": fw, "names": [a.name for a in own], "loss": spec.name,
            "task": spec.task, "y_true": render_options(TARGETS[spec.target], flag),
            "y_pred": render_options(PREDICTIONS[spec.prediction], flag),
            "target": spec.target, "prediction": spec.prediction, "implies": implies}


def _named(spec: LossSpec, k: int, text: str) -> str:
    """Y_TRUE's or Y_PRED's description, after the loss's name for it ("anchor: ...")."""
    if not spec.inputs:
        return text
    return f"{spec.inputs[k]}: {render_options(ROLES[spec.inputs[k]].help)}"


def _inputs(spec: LossSpec, r: Any) -> dict[str, str]:
    """Every input by role: Y_TRUE, Y_PRED (by the loss's names for them) and the further
    ones, with what each must hold (option references rendered by ``r``)."""
    true, pred = spec.role_names()
    out = {"Y_TRUE": true, "Y_PRED": pred}
    for name in spec.extra_inputs:
        req = "optional" if name in spec.optional_inputs else "required"
        out[r(opt(name))] = r(f"{ROLES[name].help} ({req})")
    return out


def _example(spec: LossSpec) -> str:
    if spec.inline_example:
        return spec.inline_example
    from lossctl.losses import explain  # (only describe() needs it: not on compute's path)

    return explain.example(spec)
