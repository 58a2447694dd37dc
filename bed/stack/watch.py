"""Watching a tier's dependencies while it runs.

When one exits, is OOM-killed, removed or frozen (paused), the runner is stopped at once (its
tests could only fail or hang) and the reason is kept: that is the one case a check may end
as a SKIP for a dependency. The state comes from the engine, so this works on remote engines.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from ..console import Console
from ..model.results import Cause
from ..policy.deps import is_down
from .owner import Service
from .wait import LOG_TAIL_LINES

POLL_S = 0.25


class Watch:
    def __init__(self, deps: Sequence[Service], stop: Callable[[], None], console: Console,
                 poll_s: float = POLL_S) -> None:
        """``stop``: ends the tier's session (kills its runner, or its fork in a warm runner)."""
        self.down: Cause | None = None
        self._deps, self._stop, self._console, self._poll_s = deps, stop, console, poll_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Watch:
        if self._deps:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        if self.down is None and exc[0] is None:
            # A session can end between two looks (its tests failed fast against a dependency
            # that had just died): one more look, so that is not taken for the tests' failure.
            self._look(stopping=False)

    def _loop(self) -> None:
        while not self._look(stopping=True) and not self._done.wait(self._poll_s):
            pass

    def _look(self, *, stopping: bool) -> bool:
        """Whether a dependency is down; the first found is kept (and the session stopped)."""
        for dep in self._deps:
            state = dep.state()
            if not is_down(state):
                continue
            what = f"{dep.name} is {state.describe()}"
            self._console.step(f"DEPENDENCY DOWN during the tier: {what}; "
                               + ("stopping the runner" if stopping else "the runner had ended"))
            self.down = Cause(dep.name, "", f"DEPENDENCY DOWN: {what}", dep.log_tail(LOG_TAIL_LINES))
            if stopping:
                self._stop()
            return True
        return False
