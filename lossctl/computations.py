"""The computations of a request: one :class:`~lossctl.engine.Computation` per loss (several
losses in one pass: ``"scce,brier_score,accuracy"``) or per convention (``compare``), each with
the options that are its own. Every option is validated here, before any input is read."""
from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl.engine import Computation
from lossctl.errors import UsageError, opt
from lossctl.losses import registry
from lossctl.losses.spec import CONVENTIONS

if TYPE_CHECKING:
    from lossctl.pipeline import Request

__all__ = ["losses", "make_computations"]


def _conventions(req: Request) -> list[str | None]:
    if not req.compare:
        return [req.convention]
    names = [str(c).strip().lower() for c in req.compare if str(c).strip()]
    if names == ["all"]:
        names = list(CONVENTIONS)
    for c in names:
        if c not in CONVENTIONS:
            raise UsageError(f"{opt('compare')} takes {', '.join(CONVENTIONS)} or all, not {c!r}",
                             option="compare")
    if req.elementwise or req.reduction == "none":
        other = opt("elementwise") if req.elementwise else opt("reduction", "none")
        raise UsageError(f"{opt('compare')} compares reduced values, so it does not combine "
                         f"with {other}", hint="drop one of the two options", option="compare")
    return list(names)


def losses(req: Request) -> list[str]:
    """The losses of a request: ``"scce,brier_score,accuracy"`` (or a list) is several, computed
    in one pass over the inputs."""
    names = req.loss if isinstance(req.loss, (list, tuple)) else str(req.loss).split(",")
    names = [str(n).strip() for n in names if str(n).strip()]
    canonical = [registry.lookup(n)[0].name for n in names]
    twice = sorted({n for n in canonical if canonical.count(n) > 1})
    if twice:
        raise UsageError(f"{', '.join(twice)} is given twice (under one name or another)",
                         hint="name each loss once", option="loss")
    if not names:
        raise UsageError("no loss given", hint="name one, e.g. scce (see lossctl list)",
                         option="loss")
    return names


def _several(req: Request, names: list[str]) -> None:
    """What does not combine with several losses in one pass."""
    for given, what in ((req.compare, opt("compare")), (req.elementwise, opt("elementwise")),
                        (req.fail_above is not None, opt("fail_above")),
                        (req.fail_below is not None, opt("fail_below"))):
        if given:
            raise UsageError(f"{what} takes one loss, not {len(names)} ({', '.join(names)})",
                             hint="run the losses one at a time for it", option="loss")
    for name in names:
        if registry.lookup(name)[0].kind == "batch":
            raise UsageError(f"{name} compares pairs across the whole batch, so it is computed "
                             "on its own, not beside other losses", option="loss")


#: options and features that change how the inputs are read (see make_computations)
_READING = ("from_logits",)
_READING_FEATURES = ("offset", "ignore_class")


def _not_for_all(key: str, names: list[str], takes: list[bool]) -> None:
    without = [n for n, t in zip(names, takes) if not t]
    if not any(takes):
        raise UsageError(f"{opt(key)} applies to none of {', '.join(names)}", option=key)
    raise UsageError(f"{opt(key)} does not apply to {', '.join(without)}, so the losses would "
                     "not read the same inputs", hint=f"compute {', '.join(without)} in a run "
                     f"of its own, without {opt(key)}", option=key)


def make_computations(req: Request, class_weight: Sequence[float] | None = None,
                      roles: dict[str, Any] | None = None) -> list[Computation]:
    """One :class:`Computation` per loss and convention; every option is validated here, before
    any input is read. ``roles``: the further inputs given, by name, with their constants
    (None for a per-row input)."""
    names = losses(req)
    for name in names:
        registry.lookup(name)  # an unknown name is the first thing to report
    cw = class_weight if class_weight is not None else (
        None if req.class_weight is None or isinstance(req.class_weight, (str, os.PathLike))
        else list(np.asarray(req.class_weight, dtype=np.float64).reshape(-1)))
    given_roles = roles if roles is not None else _given_roles(req)
    if len(names) == 1:
        return [Computation(names[0], convention=conv, reduction=req.reduction,
                            dtype=req.dtype, offset=req.offset, ignore_class=req.ignore_class,
                            class_weight=cw, classes=req.classes, elementwise=req.elementwise,
                            class_axis=req.class_axis, roles=given_roles, **req.options)
                for conv in _conventions(req)]
    _several(req, names)
    specs = [registry.lookup(n)[0] for n in names]
    # options that say how the inputs are read must hold for every loss (a loss that ignored
    # them would read other numbers); the others go to the losses that take them
    for key, value in req.options.items():
        if value is None:
            continue
        takes = [key in s.options for s in specs]
        if not any(takes) or (key in _READING and not all(takes)):
            _not_for_all(key, names, takes)
    for key in _READING_FEATURES:
        if getattr(req, key) is not None:
            takes = [key in s.features for s in specs]
            if not all(takes):
                _not_for_all(key, names, takes)
    return [Computation(name, convention=req.convention, reduction=req.reduction,
                        dtype=req.dtype,
                        offset=req.offset if "offset" in spec.features else None,
                        ignore_class=req.ignore_class if "ignore_class" in spec.features
                        else None, class_weight=cw, classes=req.classes,
                        class_axis=req.class_axis,
                        roles={k: v for k, v in given_roles.items() if k in spec.inputs},
                        **{k: v for k, v in req.options.items() if k in spec.options})
            for name, spec in zip(names, specs)]


def _given_roles(req: Request) -> dict[str, Any]:
    """The further inputs given (a source or its columns), by name; constants not read yet."""
    return {k: None for k in {*req.roles, *req.role_cols}}
