"""The terminal: every line bed prints goes through here, redacted and flushed at once.

Two streams, as docker compose and cargo use them: what a command *found* goes to stdout (the
summary, the CAUSE and VERDICT lines, `bed env`'s table, `bed up --env`'s export lines, what
`bed init` wrote); what bed is *doing* goes to stderr (step lines, the tiers' and containers'
streamed output, progress, banners) and so do errors. So ``bed run > verdict.txt`` keeps the
verdict, ``bed run 2>/dev/null`` shows only results, and a CI log (both streams) reads as before.

Flushing each line is the point: buffered output is what made failures look like hangs.
Long silent work (a health wait) shows progress: on a terminal, one status line redrawn
in place under the output; elsewhere (CI logs), a plain heartbeat line every few seconds.

Colour is sparing: the verdict, CAUSE lines, error kinds and banners, nothing else. It is on
for a terminal unless NO_COLOR is set; FORCE_COLOR turns it on elsewhere; ``--color`` beats both.
"""

from __future__ import annotations

import contextlib
import io
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from typing import TextIO

from .redact import Redactor

BANNER_WIDTH = 78
TICK_S = 0.2
HEARTBEAT_S = 5.0
CLEAR = "\r\033[K"
COLORS = ("auto", "always", "never")
# SGR codes of the few things bed colours.
STYLES = {"good": "1;32", "bad": "1;31", "warn": "1;33", "error": "1;31"}
RESET = "\033[0m"

Stream = TextIO | io.TextIOBase


def wants_color(mode: str | None, environ: Mapping[str, str], stream: Stream) -> bool:
    """``--color`` first; then NO_COLOR (any non-empty value: off), then FORCE_COLOR (on);
    else colour only on a terminal that is not TERM=dumb (pytest's order)."""
    if mode == "always":
        return True
    if mode == "never":
        return False
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    return environ.get("TERM") != "dumb" and _isatty(stream)


def _isatty(stream: Stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or odd stream
        return False


class Console:
    def __init__(self, out: Stream | None = None, redact: Redactor | None = None, *,
                 tty: bool | None = None, err: Stream | None = None) -> None:
        # Given one stream only (a test's buffer), everything goes there, in order.
        self._out = out if out is not None else sys.stdout
        self._err = err if err is not None else (self._out if out is not None else sys.stderr)
        self.redact = redact or Redactor()
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._tty = _isatty(self._err) if tty is None else tty  # the status line is drawn on stderr
        self._color = {"out": False, "err": False}
        self._active: dict[str, float] = {}  # label -> when it started
        self._beats: dict[str, float] = {}
        self._status_shown = False
        self._ticker: threading.Thread | None = None

    def use_color(self, mode: str | None, environ: Mapping[str, str]) -> None:
        """Colour each stream or not, by ``--color`` and the environment (see ``wants_color``)."""
        self._color = {"out": wants_color(mode, environ, self._out), "err": wants_color(mode, environ, self._err)}

    def labelled(self, label: str) -> Console:
        """A console for one of several jobs that run side by side (compare legs): each of its lines
        starts with ``[label]`` and is written whole under this console's lock, so the lines of two
        jobs never mix; its progress is heartbeat lines, never a redrawn status line."""
        out = _Labelled(self._out, f"[{label}] ", self._lock)
        err = out if self._err is self._out else _Labelled(self._err, f"[{label}] ", self._lock)
        child = Console(out, self.redact.copy(), tty=False, err=err)
        child._color = dict(self._color)
        return child

    def _write(self, text: str, *, to: str = "err", head: str = "", style: str = "") -> None:
        """One line (or block) to stdout (``to="out"``) or stderr, redacted; ``head``, when the
        text starts with it, is painted in ``style`` on a stream that takes colour."""
        stream = self._out if to == "out" else self._err
        text = self.redact(text)
        if head and style and self._color[to] and text.startswith(head):
            text = f"\033[{STYLES[style]}m{head}{RESET}{text[len(head):]}"
        with self._lock:
            if self._status_shown:  # the status line lives on stderr: clear it before any line
                self._err.write(CLEAR)
                self._err.flush()
                self._status_shown = False
            stream.write(text + "\n")
            stream.flush()

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
                        self._err.write(CLEAR)
                        self._err.flush()
                        self._status_shown = False
                    self._ticker = None
                    return
                now = time.monotonic()
                if self._tty:
                    items = " | ".join(f"{label} {now - t:4.1f}s" for label, t in self._active.items())
                    self._err.write(f"{CLEAR}[bed {now - self._t0:6.1f}s] ... {items}"[: 200])
                    self._status_shown = True
                else:
                    for label, last in list(self._beats.items()):
                        if now - last >= HEARTBEAT_S:
                            started = self._active[label]
                            self._err.write(f"[bed {now - self._t0:6.1f}s] still {label} ({now - started:.0f} s)\n")
                            self._beats[label] = now
                self._err.flush()

    # --- what bed is doing: stderr ----------------------------------------------------------------

    def step(self, message: str) -> None:
        """A line about what bed is doing now, with the time since the run began."""
        self._write(f"[bed {time.monotonic() - self._t0:6.1f}s] {message}")

    def stream(self, source: str, line: str) -> None:
        """A line of a container's or a tier's own output, prefixed with where it came from."""
        self._write(f"  {source} | {line}")

    def banner(self, title: str, lines: list[str]) -> None:
        """A block that cannot be missed: for SKIPs, forced values and other loud news."""
        rule = "!" * BANNER_WIDTH
        head = f"{rule}\n!! {title}"
        self._write("\n".join([head, *(f"!!   {line}" for line in lines), rule]), head=head, style="warn")

    def error(self, message: str) -> None:
        """An error or diagnostic (``KIND: what. Hint: fix.``): its KIND painted."""
        kind = message.split(":", 1)[0] + ":" if ":" in message.split(" ", 1)[0] else ""
        self._write(message, head=kind, style="error")

    def note(self, message: str) -> None:
        """A diagnostic without a timestamp or colour (an error's details, a log tail)."""
        self._write(message)

    # --- what a command found: stdout -------------------------------------------------------------

    def plain(self, message: str, *, head: str = "", style: str = "") -> None:
        """A result line; ``head`` (a prefix of it) painted in ``style`` (good, bad, warn)."""
        self._write(message, to="out", head=head, style=style)


class _Labelled(io.TextIOBase):
    """Whole lines, each prefixed, into a stream shared with other jobs (under their shared lock)."""

    def __init__(self, out: Stream, prefix: str, lock: threading.Lock) -> None:
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
