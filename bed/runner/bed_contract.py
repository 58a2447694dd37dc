"""The contract between bed on the host and a tier's session in the runner: the variables bed
sets, the paths it uses inside the runner, the tier markers and the format of the records.

Standard library only: the runner image carries it as ``bed_contract`` beside ``bed_records``,
and bed imports it on the host, so both sides spell every name the same way.

A records file holds one JSON object per line. Every record carries the session it belongs to
(``sid``, from BED_SESSION), the process that wrote it (``pid``, and ``worker`` for an xdist
worker) and a sequence number per process (``seq``, from 1), so bed can tell a record a forked
child wrote, records lost to a test that removed the file, and two sessions' records apart.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

# --- the variables bed sets on a tier's session ---------------------------------------------------
RECORDS = "BED_RECORDS"  # the records file (this module's format)
SESSION = "BED_SESSION"  # the session's id, written into each of its records
TIER = "BED_TIER"  # the tier being run (deterministic, nd, agents, release)
TIER_MARKER = "BED_TIER_MARKER"  # a project's suite: run only the tests marked for this tier
SELECT = "BED_SELECT"  # a JSON file listing the exact node ids to run (a re-run, a repro)
SHARD = "BED_SHARD"  # I/N: run the I-th of N balanced shares
DURATIONS = "BED_DURATIONS"  # JSON {node id: seconds}, what the shares are balanced by
WAIT_FOR = "BED_WAIT_FOR"  # comma list of URLs the tests wait for after collection
WAIT_BUDGET = "BED_WAIT_BUDGET"  # seconds, for all of them
# ... and what the tiers' own smokes read (bed/runner/tiers/)
GROUP = "BED_GROUP"  # the model group (codex-agent-1)
PROXY_URL = "BED_PROXY_URL"  # the proxy on the bed network
ROUTER_YAML = "BED_ROUTER_YAML"  # the router config this run's proxy loads (change control reads it)
RELEASE_SMOKES = "BED_RELEASE_SMOKES"  # JSON: the release tier's smokes
TWIN_SMOKES = "BED_TWIN_SMOKES"  # JSON: each live deployment's smoke against its provider's twin (the ND tier)
AGENT_IMAGE = "BED_AGENT_IMAGE"  # your agent stands where the shim would: shim-only smokes skip
AGENTS = "BED_AGENTS"  # agent@version,... the agents tier runs (bed.config.clients)
AGENT_KINDS = "BED_AGENT_KINDS"  # comma list of the kinds of turn each agent runs (tool, plain)
AGENT_ROUTES = "BED_AGENT_ROUTES"  # JSON: per surface, the groups of each route LiteLLM serves it by
EXPECT = "BED_EXPECT"  # READINESS_EXPECT, for the release tier's loud skips

# --- paths inside the runner ------------------------------------------------------------------------
LIB = "/bed/lib"  # this module, bed_records, bed_shards, bed_warm (on PYTHONPATH)
TIERS_DIR = "/bed/tiers"  # bed's own tiers; the image's working folder
OUT = "/bed/out"  # a fresh runner's records (outside /tmp, which a test may empty)
PROJECT = "/bed/project"  # a project's own suite, copied in

# --- the tier markers -----------------------------------------------------------------------------
TIER_MARKERS = {
    "deterministic": "a hermetic readiness test: no network, no skips (bed's deterministic tier)",
    "nd": "a readiness test through the proxy and the shim (bed's ND tier)",
    "release": "a live-provider readiness test, opt-in with LIVE_PROVIDERS=1 (bed's release tier)",
    "agents": "a readiness test that drives a real agent client through the gateway (bed's agent tier)",
}
OTHER_MARKERS = {
    "needs_shim": "talks to the mini-agent shim on the bed network",
    "needs_proxy": "talks to the LiteLLM proxy on the bed network",
    "needs_bed_shim": "needs the bed shim's faults, scripts or journal (skipped loudly against your own agent)",
}

# --- the records ----------------------------------------------------------------------------------
START = "start"  # the session began (once, from the process that reports outcomes)
COLLECTED = "collected"  # every item pytest collected, before any selection: the census
COLLECT_ERROR = "collect_error"  # a file or package that could not be collected
COLLECT_SKIP = "collect_skip"  # a module or package skipped while collecting (a skip at import)
SELECTION = "selection"  # what was selected, and what was deselected and why
TEST = "test"  # one phase (setup, call, teardown) of one test
FINISH = "finish"  # the session ended, with pytest's exit status
KINDS = (START, COLLECTED, COLLECT_ERROR, COLLECT_SKIP, SELECTION, TEST, FINISH)
# Why a collected test was not selected; "options" is pytest's own -k / -m / --deselect.
DESELECTED_BY = ("options", "tier", "select", "shard")
TEXT_LIMIT = 500  # a message in a record
LONG_LIMIT = 20_000  # a failure's full report, and captured output, in a record


class Writer:
    """Appends records to one file, each flushed at once (a killed runner keeps what it wrote)."""

    def __init__(self, path: str, worker: str | None = None, sid: str | None = None) -> None:
        self.path = path
        self.worker = worker
        self.sid = sid or os.environ.get(SESSION) or uuid.uuid4().hex[:12]
        self._pid = os.getpid()
        self._seq = 0

    def write(self, kind: str, **fields: Any) -> None:
        if os.getpid() != self._pid:  # a forked child: its own count, so its records stand out
            self._pid, self._seq = os.getpid(), 0
        self._seq += 1
        record = {"kind": kind, "sid": self.sid, "pid": self._pid, "seq": self._seq, "worker": self.worker,
                  **fields}
        line = json.dumps(record, default=str) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8", "surrogatepass"))
        finally:
            os.close(fd)
