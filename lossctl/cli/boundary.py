"""Where the library meets the user: errors, warnings and usage errors as one stderr line each.

* :func:`lossctl_command` wraps every command: library warnings and notes are shown on stderr
  (``-q``/``--no-warn``/``--strict``), a :class:`~lossctl.errors.LossctlError` becomes
  ``lossctl: error: ...`` and its exit code, anything else a one-line "internal error" (the
  traceback with ``LOSSCTL_DEBUG=1``). Option references in every message are rendered as this
  command's flags (:mod:`lossctl.cli.flags`).
* :class:`Group` is the root command: it lists the commands in the order a user needs them and
  turns click's usage errors (three lines in click's own format) into the same one line, with
  click's suggestion, exit 2.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import typer
import typer.core

from lossctl.cli.env import Environment
from lossctl.cli.flags import renderer
from lossctl.errors import ExitCode, LossctlError, LossctlNote, LossctlWarning

try:  # typer >= 0.26 vendors click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - an older typer with click as a dependency
    from click import exceptions as click_exceptions  # type: ignore[no-redef]

__all__ = ["Group", "current_env", "lossctl_command", "message_policy"]


def current_env(ctx: Any = None) -> Environment:
    """The environment of this run: ``ctx.obj`` when one was injected, else the process's.

    ``ctx.obj`` may also be a dict of overrides (``{"stdout_isatty": True}``): the environment
    is then the process's streams with those facts changed (tests inject what a terminal sees).
    """
    obj = getattr(ctx, "obj", None)
    if isinstance(obj, Environment):
        return obj
    env = Environment.from_system(**obj) if isinstance(obj, dict) else Environment.from_system()
    if ctx is not None:
        ctx.obj = env
    return env


@contextlib.contextmanager
def message_policy(env: Environment, render: Callable, *, quiet: bool = False,
                   no_warn: bool = False, strict: bool = False) -> Iterator[None]:
    """Show library warnings and notes on stderr while a command runs.

    ``LossctlNote`` -> ``lossctl: note: ...`` (hidden by ``quiet`` and ``no_warn``);
    ``LossctlWarning`` -> ``lossctl: warning: ...`` (hidden by ``no_warn``; raised as an
    exception with ``strict``); other warnings (numpy's, say) -> ``lossctl: warning: ...``.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("always", LossctlNote)
        warnings.simplefilter("error" if strict else "always", LossctlWarning)

        def show(message, category, filename, lineno, file=None, line=None):
            text = message.render(render) if hasattr(message, "render") else str(message)
            if issubclass(category, LossctlNote):
                if not (quiet or no_warn):
                    env.say("note", text)
            elif not no_warn:
                if not issubclass(category, LossctlWarning):
                    text = f"{category.__name__}: {text}"
                env.say("warning", text)

        warnings.showwarning = show
        yield


def _is_epipe(exc: BaseException) -> bool:
    return isinstance(exc, BrokenPipeError) or (
        isinstance(exc, OSError) and exc.errno == errno.EPIPE
    )


def _traceback(env: Environment) -> None:
    if env.debug:
        import traceback

        traceback.print_exc(file=env.stderr)


def lossctl_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command (whose first parameter is the click context ``ctx``).

    * :class:`LossctlError` -> ``lossctl: error: {err}`` and ``err.exit_code`` (with
      ``LOSSCTL_DEBUG=1`` the traceback is printed first);
    * ``LossctlWarning`` under ``--strict`` -> ``lossctl: error: ...`` and exit 1;
    * typer's own exits, ``KeyboardInterrupt`` and a closed pipe (EPIPE) pass through;
    * anything else -> ``lossctl: error: internal error: <type>: <msg> (this is a bug; ...)``
      and exit 1, or the full traceback with ``LOSSCTL_DEBUG=1``.

    Reads the command's ``quiet``, ``no_warn`` and ``strict`` keyword arguments if it has them.
    """
    command = fn.__name__.rstrip("_")
    render = renderer(command)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        env = current_env(kwargs.get("ctx"))
        policy = message_policy(env, render, quiet=bool(kwargs.get("quiet")),
                                no_warn=bool(kwargs.get("no_warn")),
                                strict=bool(kwargs.get("strict")))
        try:
            with policy:
                return fn(*args, **kwargs)
        except LossctlError as err:
            _traceback(env)
            env.say("error", err.render(render))
            raise typer.Exit(int(err.exit_code)) from None
        except LossctlWarning as w:  # --strict
            _traceback(env)
            env.say("error", f"{w.render(render)} (--strict makes warnings errors)")
            raise typer.Exit(int(ExitCode.ERROR)) from None
        except (typer.Exit, typer.Abort, typer.TyperException, click_exceptions.ClickException):
            raise
        except UnicodeEncodeError as exc:  # PYTHONIOENCODING=ascii and a non-ASCII label
            _traceback(env)
            encoding = getattr(env.stdout, "encoding", None) or exc.encoding
            env.say("error", f"standard output is {encoding} and cannot hold "
                    f"{exc.object[exc.start:exc.end]!r} in the data: set PYTHONIOENCODING=utf-8 "
                    "(or a UTF-8 locale), or write a file with -o (files are always UTF-8)")
            raise typer.Exit(int(ExitCode.ERROR)) from None
        except Exception as exc:
            if _is_epipe(exc) or env.debug:
                raise
            env.say("error", f"internal error: {type(exc).__name__}: {exc} (this is a bug; rerun "
                    "with LOSSCTL_DEBUG=1 for the traceback)")
            raise typer.Exit(int(ExitCode.ERROR)) from None

    return wrapper


def _usage_line(exc: Any) -> str:
    """click's usage error as one sentence, with its suggestion and where help is."""
    possible = sorted(getattr(exc, "possibilities", None) or [])
    if isinstance(exc, click_exceptions.NoSuchOption) and possible:
        text = f"{exc.message}. Did you mean {' or '.join(possible[:3])}?"
    else:
        text = exc.format_message().strip().replace("\n", " ")
    text = text[0].lower() + text[1:] if text[:1].isupper() and text[1:2].islower() else text
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "lossctl"
    if not text.endswith((".", "?", "!")):
        text += "."
    return f"{text} Run '{where} --help' for the options"


class Group(typer.core.TyperGroup):
    """The root command. See the module docstring."""

    ORDER = ("compute", "compare", "inspect", "explain", "list", "onehot", "sparse")

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(names, key=lambda n: self.ORDER.index(n) if n in self.ORDER else 99)

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        env = extra.get("obj") if isinstance(extra.get("obj"), Environment) else None
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click_exceptions.NoArgsIsHelpError as exc:  # `lossctl` alone: the help
            exc.show()
            sys.exit(int(ExitCode.USAGE))
        except click_exceptions.UsageError as exc:
            (env or Environment.from_system()).say("error", _usage_line(exc))
            sys.exit(int(ExitCode.USAGE))
        except click_exceptions.ClickException as exc:
            (env or Environment.from_system()).say("error", exc.format_message())
            sys.exit(exc.exit_code)
        except typer.Abort:
            sys.exit(int(ExitCode.INTERRUPTED))
        sys.exit(rv if isinstance(rv, int) else 0)
