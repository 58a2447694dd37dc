"""The terminal: every line bed prints goes through here, redacted and flushed at once.

Flushing each line is the point: buffered output is what made failures look like hangs.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from ._redact import Redactor

BANNER_WIDTH = 78


class Console:
    def __init__(self, out: TextIO | None = None, redact: Redactor | None = None) -> None:
        self._out = out if out is not None else sys.stdout
        self.redact = redact or Redactor()
        self._t0 = time.monotonic()
        self._lock = threading.Lock()

    def _write(self, text: str) -> None:
        with self._lock:
            self._out.write(self.redact(text) + "\n")
            self._out.flush()

    def step(self, message: str) -> None:
        """A line about what bed is doing now, with the time since the run began."""
        self._write(f"[bed {time.monotonic() - self._t0:6.1f}s] {message}")

    def stream(self, source: str, line: str) -> None:
        """A line of a container's or a tier's own output, prefixed with where it came from."""
        self._write(f"  {source} | {line}")

    def plain(self, message: str) -> None:
        self._write(message)

    def banner(self, title: str, lines: list[str]) -> None:
        """A block that cannot be missed: for SKIPs, forced values and other loud news."""
        rule = "!" * BANNER_WIDTH
        self._write("\n".join([rule, f"!! {title}", *(f"!!   {line}" for line in lines), rule]))
