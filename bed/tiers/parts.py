"""A tier split into parts that run at once, joined back into what one session would have left.

On a kept stack each part is a session of the same tier forked in the same warm runner, with
``BED_SHARD=I/N``: bed's plugin keeps that part's share of the tests (balanced by recorded
durations), so the parts together run every test exactly once. Their records are joined by
``bed.model.evidence.parse``, strictly: the tier started and finished only when every part did
(one part that crashed makes the whole tier a crash), and the shares' selections add up.
"""

from __future__ import annotations

from collections.abc import Sequence

NO_TESTS = 5  # pytest's exit status when a part's share was empty


def join_exit(codes: Sequence[int | None]) -> int | None:
    """None when any part did not end (its budget); else the worst part's, an empty share aside."""
    if any(code is None for code in codes):
        return None
    meaningful = [code for code in codes if code is not None and code != NO_TESTS]
    return max(meaningful) if meaningful else NO_TESTS


def join_records(parts: Sequence[bytes | None]) -> bytes | None:
    """The parts' records, one after another: each record names its session, and
    ``bed.model.evidence.parse`` joins the sessions strictly (it is told how many there were)."""
    if not any(parts):
        return None
    return b"".join(raw if raw.endswith(b"\n") else raw + b"\n" for raw in parts if raw)
