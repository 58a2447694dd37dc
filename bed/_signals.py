"""SIGINT and SIGTERM become an ``Interrupted`` exception, so every owner unwinds and cleans up.

Teardown itself runs ``shielded()``: a signal that arrives while containers are being
removed is held until the removal is done, so a second Ctrl-C cannot leave half a stack.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

from ._errors import Interrupted

_state = threading.local()


def _shield_depth() -> int:
    return int(getattr(_state, "depth", 0))


_pending: list[int] = []


def _handler(signum: int, frame: FrameType | None) -> None:
    if _shield_depth() > 0:
        _pending.append(signum)  # raised when the shielded block ends
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
    """Hold SIGINT/SIGTERM until the block ends; then raise the first one that came."""
    _state.depth = _shield_depth() + 1
    try:
        yield
    finally:
        _state.depth = _shield_depth() - 1
        if _shield_depth() == 0 and _pending and threading.current_thread() is threading.main_thread():
            signum = _pending[0]
            _pending.clear()
            raise Interrupted(signum)
