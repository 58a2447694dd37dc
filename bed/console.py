"""The terminal: every line bed prints goes through here, redacted and flushed at once.

Flushing each line is the point: buffered output is what made failures look like hangs.
Long silent work (a health wait) shows progress: on a terminal, one status line redrawn
in place under the output; elsewhere (CI logs), a plain heartbeat line every few seconds.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

from .redact import Redactor

BANNER_WIDTH = 78
TICK_S = 0.2
HEARTBEAT_S = 5.0
CLEAR = "\r\033[K"


class Console:
    def __init__(self, out: TextIO | io.TextIOBase | None = None, redact: Redactor | None = None, *,
                 tty: bool | None = None) -> None:
        self._out = out if out is not None else sys.stdout
        self.redact = redact or Redactor()
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._tty = self._out.isatty() if tty is None else tty
        self._active: dict[str, float] = {}  # label -> when it started
        self._beats: dict[str, float] = {}
        self._status_shown = False
        self._ticker: threading.Thread | None = None

    def labelled(self, label: str) -> Console:
        """A console for one of several jobs that run side by side (compare legs): each of its lines
        starts with ``[label]`` and is written whole under this console's lock, so the lines of two
        jobs never mix; its progress is heartbeat lines, never a redrawn status line."""
        return Console(_Labelled(self._out, f"[{label}] ", self._lock), self.redact.copy(), tty=False)

    def _write(self, text: str) -> None:
        with self._lock:
            prefix = CLEAR if self._status_shown else ""
            self._status_shown = False
            self._out.write(prefix + self.redact(text) + "\n")
            self._out.flush()

    @contextlib.contextmanager
    def progress(self, label: str) -> Iterator[None]:
        """Show that ``label`` is under way until the block ends."""
        with self._lock:
            self._active[label] = self._beats[label] = time.monotonic()
            if self._ticker is None or not self._ticker.is_alive():
                self._ticker = threading.Thread(target=self._tick, daemon=True)
                self._ticker.start()
        try:
            yield
        finally:
            with self._lock:
                self._active.pop(label, None)
                self._beats.pop(label, None)

    def _tick(self) -> None:
        while True:
            time.sleep(TICK_S)
            with self._lock:
                if not self._active:
                    if self._status_shown:
                        self._out.write(CLEAR)
                        self._out.flush()
                        self._status_shown = False
                    self._ticker = None
                    return
                now = time.monotonic()
                if self._tty:
                    items = " | ".join(f"{label} {now - t:4.1f}s" for label, t in self._active.items())
                    self._out.write(f"{CLEAR}[bed {now - self._t0:6.1f}s] ... {items}"[: 200])
                    self._status_shown = True
                else:
                    for label, last in list(self._beats.items()):
                        if now - last >= HEARTBEAT_S:
                            started = self._active[label]
                            self._out.write(f"[bed {now - self._t0:6.1f}s] still {label} ({now - started:.0f} s)\n")
                            self._beats[label] = now
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


class _Labelled(io.TextIOBase):
    """Whole lines, each prefixed, into a stream shared with other jobs (under their shared lock)."""

    def __init__(self, out: TextIO | io.TextIOBase, prefix: str, lock: threading.Lock) -> None:
        super().__init__()
        self._out, self._prefix, self._lock = out, prefix, lock
        self._pending = ""

    def write(self, text: str) -> int:
        with self._lock:
            *lines, self._pending = (self._pending + text).split("\n")
            for line in lines:
                self._out.write(f"{self._prefix}{line}\n")
            self._out.flush()
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self._out.flush()

    def isatty(self) -> bool:
        return False
