"""The shape of the code, as ARCHITECTURE.md draws it, checked from the source.

- the library never imports typer, rich, the CLI or the renderer; ``render.py`` is the only
  module that imports rich, ``lossctl/cli/`` the only one that imports typer;
- ``compute`` in the CLI holds no pipeline logic: it never touches the readers, the aligner or
  the engine, only :mod:`lossctl.pipeline`;
- library messages name options through ``opt()``, never as command-line flags;
- no module over about 600 lines, no function over about 120; no ``os._exit``.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "lossctl"
MODULES = sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 120


def _rel(p: Path) -> str:
    return p.relative_to(PKG.parent).as_posix()


def _is_cli(p: Path) -> bool:
    """The CLI: lossctl/cli/ and the ``python -m lossctl`` entry point."""
    return "cli" in p.relative_to(PKG).parts or p.name == "__main__.py"


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


TREES = {p: ast.parse(p.read_text(encoding="utf-8")) for p in MODULES}


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_layers(path):
    imported = _imports(TREES[path])

    def uses(prefix: str) -> bool:
        return any(n == prefix or n.startswith(prefix + ".") for n in imported)

    if path.name == "render.py":
        assert not uses("typer") and not uses("lossctl.cli")
        return
    assert not uses("rich"), f"{_rel(path)} imports rich (only lossctl/render.py may)"
    if not _is_cli(path):
        for banned in ("typer", "click", "lossctl.cli", "lossctl.render"):
            assert not uses(banned), f"library module {_rel(path)} imports {banned}"


def test_compute_command_holds_no_pipeline_logic():
    imported = _imports(TREES[PKG / "cli" / "compute.py"])
    for banned in ("lossctl.io", "lossctl.engine", "lossctl.inputs", "lossctl.validation",
                   "lossctl.losses.reduction"):
        assert not any(n == banned or n.startswith(banned + ".") for n in imported), banned
    assert "lossctl.pipeline" in imported


_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def _docstrings(tree: ast.AST) -> set[int]:
    """Docstrings, and the texts of ``example=`` command lines (they show flags on purpose)."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "example":
            ids.update(id(c) for c in ast.walk(node.value) if isinstance(c, ast.Constant))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


# inspection builds `lossctl ...` command lines, which spell their flags on purpose
_COMMAND_BUILDERS = {"inspection.py", "inspection_maps.py", "explain.py"}


@pytest.mark.parametrize("path", [p for p in MODULES if not _is_cli(p) and p.name != "render.py"],
                         ids=_rel)
def test_library_messages_name_options_not_flags(path):
    if path.name in _COMMAND_BUILDERS:
        pytest.skip("builds command lines")
    tree = TREES[path]
    docs = _docstrings(tree)
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            text = node.value
            if "lossctl " in text or "`lossctl" in text:  # a command line shown as an example
                continue
            if _FLAG.search(text):
                bad.append(f"line {node.lineno}: {text!r}")
    assert not bad, f"{_rel(path)} spells flags; use lossctl.errors.opt():\n" + "\n".join(bad)


@pytest.mark.parametrize("path", MODULES, ids=_rel)
def test_sizes(path):
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") <= MAX_MODULE_LINES, f"{_rel(path)}: {text.count(chr(10))} lines"
    long = []
    for node in ast.walk(TREES[path]):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = node.end_lineno - node.lineno + 1
            if n > MAX_FUNCTION_LINES:
                long.append(f"{node.name} ({n} lines)")
    assert not long, f"{_rel(path)}: " + ", ".join(long)


def test_no_os_exit():
    for path in MODULES:
        assert "os._exit" not in path.read_text(encoding="utf-8"), _rel(path)


def test_only_plot_imports_matplotlib_and_only_inside_functions():
    def names(nodes) -> set[str]:
        return {n.split(".")[0] for n in _imports(ast.Module(body=list(nodes), type_ignores=[]))}

    for path, tree in TREES.items():
        if path == PKG / "plot.py":
            top = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.ClassDef))]
            assert "matplotlib" not in names(top), "lossctl/plot.py imports matplotlib at import time"
            assert "matplotlib" in names(tree.body)
        else:
            assert "matplotlib" not in names(tree.body), f"{_rel(path)} imports matplotlib"
