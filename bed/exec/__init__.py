"""Every outside process bed runs on the host (git, tar, debootstrap, docker compose) behind one seam.

    Exec     the Protocol: run an argv list, captured or streamed live, bounded in time
    Local    the adapter over subprocess: never a shell string; a missing program, a timeout or an
             exit code not allowed becomes the caller's error kind (``error=``), with the output's
             last lines as details and the caller's ``hint``
    Done     what a finished process left: its exit code and (captured) output
    Failed   raised by ``Local`` when asked for a soft failure (``error=Failed``): callers that can
             do without the process catch it
``bed.exec.fake.FakeExec`` serves the unit tests.
"""

from ._adapter import Done, Exec, Failed, Local

__all__ = ["Done", "Exec", "Failed", "Local"]
