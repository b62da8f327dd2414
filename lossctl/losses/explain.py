"""The ``lossctl explain`` page: a loss's registry entry and its function's docstring as prose.

:func:`page` lays out what :func:`lossctl.losses.registry.describe` gives as Markdown that reads
as plain text in a pipe (paragraphs wrapped at 80 columns); the docstring's ``Args:``,
``Returns:`` and ``Conventions:`` sections become headed paragraphs and lists, without their
reStructuredText markup. :func:`example` is a command that runs from any folder: a few rows
piped in with ``printf``, labels and predictions in one input (``--true-cols``/``--pred-cols``).
"""
from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from typing import Any

from lossctl.losses.spec import LossSpec

__all__ = ["example", "page", "prose"]

WIDTH = 80

#: Inline data for an example, by (target, prediction): header, then rows.
_DATA: dict[tuple[str, str], tuple[str, list[str]]] = {
    ("index", "probabilities"): ("y,p0,p1,p2", ["1,0.05,0.95,0", "2,0.1,0.8,0.1", "0,0.7,0.2,0.1"]),
    ("index", "log-probabilities"): ("y,p0,p1,p2", ["1,-2.9957,-0.0513,-5.2983",
                                                    "2,-2.3026,-0.2231,-2.3026",
                                                    "0,-0.3567,-1.6094,-2.3026"]),
    ("index", "scores"): ("y,s0,s1,s2", ["1,0.2,2.1,-1.0", "2,1.5,0.3,0.9", "0,2.0,-0.5,0.1"]),
    ("index_or_dense", "logits"): ("y,z0,z1,z2", ["1,0.5,3.0,-1.0", "2,1.0,0.2,2.5", "0,2.2,0.1,-0.3"]),
    ("index_or_dense", "probabilities"): ("y,p0,p1,p2", ["1,0.05,0.95,0", "2,0.1,0.8,0.1",
                                                         "0,0.7,0.2,0.1"]),
    ("dense", "probabilities"): ("y0,y1,y2,p0,p1,p2", ["0,1,0,0.05,0.95,0", "0,0,1,0.1,0.8,0.1",
                                                       "1,0,0,0.7,0.2,0.1"]),
    ("dense", "logits"): ("y0,y1,y2,z0,z1,z2", ["0,1,0,0.5,3.0,-1.0", "0,0,1,1.0,0.2,2.5",
                                                "1,0,0,2.2,0.1,-0.3"]),
    ("dense", "scores"): ("y0,y1,y2,s0,s1,s2", ["0,1,0,0.2,2.1,-1.0", "0,0,1,1.5,0.3,0.9",
                                                "1,0,0,2.0,-0.5,0.1"]),
    ("binary", "probabilities"): ("y,p", ["1,0.9", "0,0.3", "1,0.6", "0,0.05"]),
    ("binary", "logits"): ("y,z", ["1,2.2", "0,-0.8", "1,0.4", "0,-3.0"]),
    ("signed", "scores"): ("y,s", ["1,0.8", "-1,-1.5", "1,-0.2", "-1,0.3"]),
    ("values", "values"): ("y,p", ["3.0,2.5", "-0.5,0.0", "2.0,2.1", "7.0,7.8"]),
    ("counts", "rates"): ("y,p", ["2,1.5", "0,0.4", "5,4.2", "1,1.0"]),
    ("positive", "values"): ("y,p", ["2.0,1.5", "0.5,0.8", "5.0,4.2", "1.0,1.0"]),
    ("index_or_dense", "scores"): ("y,s0,s1,s2", ["1,0.2,2.1,-1.0", "2,1.5,0.3,0.9",
                                                  "0,2.0,-0.5,0.1"]),
    ("labels", "labels"): ("y,p", ["1,1", "2,0", "0,0", "2,2"]),
}
#: Multi-column data where the single-column form above does not fit the loss.
_WIDE = {
    ("binary", "probabilities"): ("y0,y1,y2,p0,p1,p2", ["1,0,1,0.9,0.2,0.7", "0,1,0,0.3,0.6,0.1",
                                                        "1,1,0,0.8,0.7,0.4"]),
    ("binary", "logits"): ("y0,y1,y2,z0,z1,z2", ["1,0,1,2.2,-1.1,0.9", "0,1,0,-0.8,0.5,-2.0",
                                                 "1,1,0,1.4,0.7,-0.3"]),
    ("binary", "scores"): ("y0,y1,y2,s0,s1,s2", ["1,0,1,2.2,-1.1,0.9", "0,1,0,-0.8,0.5,-2.0",
                                                 "1,1,0,1.4,0.7,-0.3"]),
    ("values", "values"): ("y0,y1,y2,p0,p1,p2", ["1.0,0.5,-0.2,0.9,0.6,-0.1",
                                                 "0.3,-1.2,0.8,0.1,-1.0,0.7",
                                                 "2.0,0.1,0.4,1.8,0.3,0.2"]),
}
_MULTI_COLUMN = {"multi-label", "segmentation", "similarity"}


def _options_of(spec: LossSpec) -> list[str]:
    """The option flags of the registry's example (``--delta 2``)."""
    words = spec.example.split()
    out: list[str] = []
    for k, w in enumerate(words):
        if w.startswith("--") or out and out[-1].startswith("--") and k > 0 and words[k - 1] == out[-1]:
            out.append(w)
    return out


def example(spec: LossSpec, name: str | None = None) -> str:
    """A self-contained command line computing ``spec`` on a few inline rows."""
    key = (spec.target, spec.prediction)
    data = _WIDE.get(key) if spec.task in _MULTI_COLUMN else None
    header, rows = data or _DATA[key]
    names = header.split(",")
    true = [n for n in names if n[0] == "y"]
    pred = [n for n in names if n[0] != "y"]
    tcols = true[0] if len(true) == 1 else "'y*'"
    pcols = pred[0] if len(pred) == 1 else f"'{pred[0][0]}*'"
    text = "\\n".join([header, *rows]) + "\\n"
    opts = " ".join(_options_of(spec))
    return (f"printf '{text}' | lossctl compute {name or spec.name} - --true-cols {tcols} "
            f"--pred-cols {pcols}" + (f" {opts}" if opts else ""))


# --- docstrings as prose ----------------------------------------------------------------------
_SECTIONS = ("Args:", "Returns:", "Raises:", "Conventions:", "Formula:", "Examples:", "Yields:")
_HEADINGS = {"Args:": "Arguments", "Returns:": "Returns", "Raises:": "Raises",
             "Conventions:": "The frameworks' conventions", "Formula:": "Formula",
             "Examples:": "Examples", "Yields:": "Yields"}


def _plain(text: str) -> str:
    """Without reStructuredText markup: ``code`` -> code, :func:`x` -> x."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    return text.replace("``", "")


def _fill(text: str, indent: str = "") -> str:
    return textwrap.fill(" ".join(text.split()), WIDTH, initial_indent=indent,
                         subsequent_indent=" " * len(indent))


def _blocks(lines: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            out[-1].append(line)
        elif out[-1]:
            out.append([])
    return [b for b in out if b]


def _code(block: list[str]) -> list[str]:
    """An indented block kept as written (its own alignment), indented 4 spaces."""
    if not block:
        return []
    return ["    " + ln for ln in textwrap.dedent("\n".join(block)).splitlines()] + [""]


def _section(name: str, lines: list[str]) -> list[str]:
    out = [f"### {_HEADINGS.get(name, name.rstrip(':'))}", ""]
    if name in ("Formula:", "Examples:"):
        body = textwrap.dedent("\n".join(lines)).splitlines()
        return out + ["    " + ln if ln.strip() else "" for ln in body] + [""]
    if name in ("Args:", "Raises:"):
        items: list[str] = []
        for line in textwrap.dedent("\n".join(lines)).splitlines():
            if line and not line[0].isspace():
                items.append(line.strip())
            elif items:
                items[-1] += " " + line.strip()
        return out + [_fill(_plain(i), "- ") for i in items] + [""]
    for block in _blocks(textwrap.dedent("\n".join(lines)).splitlines()):
        if all(ln.startswith("    ") for ln in block):  # a code block stays as it is
            out += _code(block)
        else:
            out += [_fill(_plain(" ".join(block))), ""]
    return out


def prose(doc: str) -> list[str]:
    """A Google-style docstring as Markdown paragraphs wrapped at 80 columns."""
    intro: list[str] = []
    sections: list[tuple[str, list[str]]] = []
    for line in doc.splitlines():
        if line.strip() in _SECTIONS and not line.startswith(" "):
            sections.append((line.strip(), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            intro.append(line)
    out: list[str] = []
    for block in _blocks(intro):
        if block[0].rstrip().endswith("::"):  # "Formula::" then an indented block
            out += [_fill(_plain(block[0].rstrip(":")) + ":"), ""]
            out += _code(block[1:])
        elif all(b.startswith("    ") for b in block):
            out += _code(block)
        else:
            out += [_fill(_plain(" ".join(b.strip() for b in block))), ""]
    for name, body in sections:
        out += _section(name, body)
    return out


def page(info: Mapping[str, Any]) -> str:
    """The explain page (Markdown, readable as plain text) of :func:`registry.describe`'s data."""
    lines = [f"# {info['name']}", "", _fill(info["summary"]), ""]
    if "alias" in info:
        a = info["alias"]
        implied = ", ".join(f"{k}={v}" for k, v in a["implies"].items())
        lines += [_fill(f"`{a['name']}` is the {a['framework']} name"
                        + (f"; it implies {implied}." if implied else ".")), ""]
    lines += ["## Formula", "", "    " + info["formula"], ""]
    more = [_fill(f"{flag}: {text}", "- ") for flag, text in info.get("inputs", {}).items()
            if flag not in ("Y_TRUE", "Y_PRED")]  # the further inputs by role
    lines += ["## Inputs", "",
              _fill(f"y_true: {info['y_true']}", "- "),
              _fill(f"y_pred: {info['y_pred']}", "- "), *more,
              _fill(f"returns: {info['returns']}", "- "), ""]
    red = info["reduction"]
    lines += ["## Reduction (mean)", "",
              _fill(f"per sample: {red['per_sample']}", "- "),
              *(_fill(f"{c}: {red[c]}", "- ") for c in ("keras", "torch", "sklearn")
                if c in red and c in info.get("conventions", (c,))), ""]
    if info["differences"]:
        lines += ["## Where the frameworks differ", "", _fill(info["differences"]), ""]
    lines += ["## When to use it", "", _fill(info["when"]), ""]
    names = [f"{fw}: {', '.join(v)}" for fw, v in info["aliases"].items()]
    if names:
        lines += ["## Names", ""] + [_fill(n, "- ") for n in names] + [""]
    opts = [f"{k} (default {v})" for k, v in info["options"].items()] + info["features"]
    if opts:
        lines += ["## Options", "", _fill(", ".join(opts)), ""]
    lines += ["## Example", "", "A few rows piped in; it runs from any folder:", "",
              "    " + info["example"], ""]
    if info["siblings"]:
        lines += ["## See also", "", _fill(", ".join(info["siblings"])), ""]
    if info.get("doc"):
        lines += ["## Reference", ""] + prose(info["doc"])
    return "\n".join(lines).rstrip() + "\n"
