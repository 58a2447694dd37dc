"""The real agent clients, headless, through the real gateway: Codex CLI (Responses API), Claude
Code (Anthropic Messages), Gemini CLI (the Gemini API), OpenCode and Qwen Code (chat completions).

One test per cell: an agent at a version (BED_AGENTS), through each route by which the gateway
serves its surface (BED_AGENT_ROUTES: native pass-through, the chat bridge, LiteLLM's adapters),
a plain or a tool turn (BED_AGENT_KINDS). The session's turns run side by side (turns.Pool); each
test waits for its own and records the cell as JUnit properties (agent, version, surface, route,
group, kind, turn_seconds, and for a failed turn control_turn_seconds and side), which is where
bed's report takes the matrix from. What a turn checks, and how a failure names the side that
broke: turns.py. Settings and facts: docs/agents-research.md.
"""

from __future__ import annotations

import pytest
from turns import Cell, Pool, cells

CELLS = cells()

pytestmark = [pytest.mark.needs_shim, pytest.mark.needs_bed_shim]


@pytest.mark.needs_proxy
@pytest.mark.parametrize("cell", CELLS, ids=[c.id for c in CELLS])
def test_agent_turn(cell: Cell, turns: Pool, request: pytest.FixtureRequest) -> None:
    # As user properties (what record_property does, without its warning under xunit2 JUnit).
    properties = request.node.user_properties
    properties += cell.properties()
    if cell.route.skip:
        pytest.skip(cell.route.skip)
    outcome = turns.outcome(cell)
    properties += [("turn_seconds", round(outcome.gateway.seconds, 3)),
                   ("turn_cpu_seconds", round(outcome.gateway.cpu_seconds, 3))]
    if outcome.passed:
        return
    assert outcome.control is not None
    properties += [("control_turn_seconds", round(outcome.control.seconds, 3)), ("side", outcome.side)]
    pytest.fail(outcome.message(), pytrace=False)
