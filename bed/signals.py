"""SIGINT and SIGTERM become an ``Interrupted`` exception, so every owner unwinds and cleans up.

Container starts and teardown run ``shielded()``: a signal that arrives meanwhile is held
until the block ends, so a container is either owned (and later removed) or never made, and a
second Ctrl-C cannot leave half a stack. Python runs signal handlers on the main thread only,
while starts also happen in worker threads; so the shield is one process-wide count, and a
signal held for a worker's block is re-delivered to the main thread when the last block ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from .errors import Interrupted

_lock = threading.Lock()
_depth = 0
_pending: list[int] = []


def _handler(signum: int, frame: FrameType | None) -> None:
    with _lock:
        if _depth > 0:
            _pending.append(signum)  # raised when the last shielded block ends
            return
    raise Interrupted(signum)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Install the handlers for the duration of a command (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, _handler)
    try:
        yield
    finally:
        for old_signum, handler in previous.items():
            signal.signal(old_signum, handler)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Hold SIGINT/SIGTERM until every shielded block (in any thread) has ended."""
    global _depth
    with _lock:
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            signum = _pending[0] if _depth == 0 and _pending else None
            if signum is not None:
                _pending.clear()
        if signum is not None:
            if threading.current_thread() is threading.main_thread():
                raise Interrupted(signum)
            os.kill(os.getpid(), signum)  # the main thread's handler raises it there
