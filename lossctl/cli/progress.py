"""A progress bar on stderr for work that takes more than a second.

Shown only when stderr is a terminal and not ``--quiet``; it never touches stdout (rich's stdout
redirection is off, see :func:`lossctl.render.progress`), and it is erased when done.
"""
from __future__ import annotations

import time
from typing import Any

from lossctl.cli.env import Environment

__all__ = ["Progress"]

#: Seconds of work before the bar appears.
DELAY = 1.0


class Progress:
    """Counts rows; draws a rich progress bar once the work has taken :data:`DELAY` seconds.

    ``total`` (rows) may be set or changed while it runs (the pipeline knows it once the inputs
    are open).
    """

    def __init__(self, env: Environment, *, quiet: bool, no_color: bool,
                 total: int | None = None, description: str = "rows") -> None:
        self._enabled = not quiet and bool(env.stderr_isatty)
        self._env = env
        self._t0 = time.monotonic()
        self.total = total
        self._no_color = no_color
        self._description = self._base = description
        self._bar: Any = None
        self._done = 0

    def __enter__(self) -> Progress:
        return self

    def follow(self, ev: Any, rows: int) -> None:
        """``rows`` more of the evaluation ``ev`` done: its total, and its shards (``shard 3/16``
        beside the rows) when the input is a shard set."""
        self.total = ev.total
        shards = ev.shards()
        if shards is not None:
            self.describe(f"{self._base} · shard {shards[0]}/{shards[1]}")
        self.advance(rows)

    def describe(self, description: str) -> None:
        """Change the label before the bar."""
        self._description = description
        if self._bar is not None:
            self._bar.change(description=description)

    def advance(self, rows: int) -> None:
        self._done += rows
        if not self._enabled:
            return
        if self._bar is None and time.monotonic() - self._t0 > DELAY:
            from lossctl import render

            console = render.make_console(file=self._env.stderr, no_color=self._no_color)
            self._bar = render.progress(console, quiet=False, total=self.total,
                                        description=self._description)
            self._bar.__enter__()
            self._bar.step(self._done - rows)
        if self._bar is not None:
            if self.total is not None:
                self._bar.change(total=self.total)
            self._bar.step(rows)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
