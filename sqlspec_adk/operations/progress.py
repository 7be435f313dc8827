"""A small progress bar on stderr (stdlib only).

On a terminal it redraws one line; otherwise (logs, CI) it prints a line at
each quarter, so long jobs still show that they move.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """``with Progress("importing", total) as bar: bar.advance(n)``; ``enabled=False`` prints nothing."""

    def __init__(self, label: str, total: int, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_draw = 0.0
        self._last_quarter = -1

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._draw(force=True)
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def advance(self, count: int = 1) -> None:
        self.done += count
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        fraction = 1.0 if self.total == 0 else min(self.done / self.total, 1.0)
        if self.tty:
            now = time.monotonic()
            if not force and now - self._last_draw < 0.1:
                return
            self._last_draw = now
            filled = int(fraction * 30)
            bar = "#" * filled + "-" * (30 - filled)
            self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} ({fraction:4.0%})")
            self.stream.flush()
            return
        quarter = int(fraction * 4)
        if quarter != self._last_quarter and (force or quarter > self._last_quarter):
            self._last_quarter = quarter
            self.stream.write(f"{self.label}: {self.done}/{self.total} ({fraction:.0%})\n")
            self.stream.flush()
