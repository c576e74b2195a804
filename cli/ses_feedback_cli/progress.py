"""A progress bar on stderr for long commands (import). stdout stays the command's answer."""

from __future__ import annotations

import sys
import time
from typing import TextIO

_WIDTH = 30


class ProgressBar:
    """``[#####.....]  45%  45,000 rows  9,000 rows/s`` redrawn in place on a terminal;
    elsewhere (a CI log, a captured stream) one line every ``interval`` seconds."""

    def __init__(
        self, total_bytes: int, stream: TextIO | None = None, enabled: bool = True, unit: str = "rows"
    ) -> None:
        self.total = max(total_bytes, 1)
        self.unit = unit  # what ``rows`` counts, as the line names it
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.interval = 0.1 if self.tty else 5.0
        self.started = time.monotonic()
        self.shown_at = 0.0
        self.done_bytes = 0
        self.rows = 0
        self.last_shown: tuple[int, int] | None = None  # (percent, rows) of the last line written

    def advance_bytes(self, count: int) -> None:
        self.done_bytes += count

    def update(self, rows: int, force: bool = False) -> None:
        self.rows = rows
        now = time.monotonic()
        if not self.enabled or (not force and now - self.shown_at < self.interval):
            return
        fraction = min(self.done_bytes / self.total, 1.0)
        # In a log, a line that says what the last one said (finish() after the last batch) is noise.
        shown = (round(fraction * 100), rows)
        if not self.tty and shown == self.last_shown:
            return
        self.shown_at, self.last_shown = now, shown
        filled = int(fraction * _WIDTH)
        rate = rows / max(now - self.started, 1e-6)
        bar = f"[{'#' * filled}{'.' * (_WIDTH - filled)}]"
        line = f"{bar} {fraction:4.0%}  {rows:,} {self.unit}  {rate:,.0f} {self.unit}/s"
        if self.tty:
            self.stream.write("\r" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        """A line of its own (a bad row, say) without breaking the bar."""
        if self.tty and self.enabled:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        self.done_bytes = self.total
        self.update(self.rows, force=True)
        if self.tty and self.enabled:
            self.stream.write("\n")
            self.stream.flush()
