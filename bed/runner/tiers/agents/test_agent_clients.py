"""The real agent clients, headless, through the real gateway: Codex CLI (OpenAI Responses
API, /v1/responses) and Claude Code (Anthropic Messages, /v1/messages).

Each test scripts one agent turn on the shim for a unique marker (a tool call, then a text
that quotes the tool's output), runs the agent, and checks three things:
  - the agent really ran the command in this container: the final text carries ``42-<nonce>``,
    which only exists once ``echo $((6*7))-<nonce>`` has been executed, and the file the
    command writes is in the agent's working directory;
  - the gateway sent the turn as two legs: the first offers the agent's shell tool, the
    second carries the tool's output back;
  - the agent sent nothing anywhere else (telemetry, update checks, plugin syncs).
Each runs through the gateway, for every group of BED_AGENT_GROUPS (default BED_GROUP). When a
turn fails, the same turn runs again straight at the shim, and the failure says which side broke:
the gateway (the direct turn passed) or the agent or the shim (it failed too). A green turn needs
no such control, so it costs nothing then. Wall times go to the JUnit properties
(``turn_seconds``, ``control_turn_seconds``) and the output. Settings and facts:
docs/agents-research.md.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the fixtures come from this folder's conftest.py; "conftest" is not importable by name
    from conftest import EgressTrap, Shim

GROUP = os.environ.get("BED_GROUP", "codex-agent-1")
GROUPS = [g for g in os.environ.get("BED_AGENT_GROUPS", GROUP).split(",") if g]
TURN_TIMEOUT_S = float(os.environ.get("BED_AGENT_TIMEOUT", "120"))
MODEL_PATHS = ("/chat/completions", "/responses", "/messages")

pytestmark = [pytest.mark.needs_shim, pytest.mark.needs_bed_shim]


@dataclasses.dataclass(frozen=True)
class Turn:
    """One scripted turn: what the agent is asked, the tool step, and what proves it ran."""

    marker: str
    prompt: str
    evidence: str  # the command's output; never in any request before the command has run
    final: str  # the scripted final text, before {tool_output} is filled in

    @classmethod
    def new(cls, agent: str) -> Turn:
        nonce = secrets.token_hex(4)
        marker = f"bed-agent-{agent}-{nonce}"
        return cls(marker=marker,
                   prompt=f"[{marker}] Run the shell command `{command(nonce)}` and reply with its output.",
                   evidence=f"42-{nonce}", final=f"done {marker}: {{tool_output}}")

    @property
    def nonce(self) -> str:
        return self.marker.rsplit("-", 1)[1]


def command(nonce: str) -> str:
    # It writes a file in the agent's working directory, so the agent's permission settings
    # are exercised (Claude Code runs a read-only `echo` even when Bash is not allowed).
    return f"echo $((6*7))-{nonce} > {proof_file(nonce)} && cat {proof_file(nonce)}"


def proof_file(nonce: str) -> str:
    return f"bed-proof-{nonce}.txt"


@dataclasses.dataclass(frozen=True)
class Agent:
    name: str
    tool: str  # the shell tool the agent offers (the script calls it)
    arguments: Callable[[str], dict[str, Any]]  # the tool's arguments for a command
    argv: Callable[[Turn, Path], list[str]]
    env: Callable[[str, str, str, Path], dict[str, str]]  # (base URL, key, group, home) -> environment
    base: Callable[[str], str]  # the gateway's or shim's /v1 base -> the agent's base URL
    final_text: Callable[[str, Path], str]  # (output, home) -> the agent's last message


# Codex 0.169.0: `codex exec` always streams /v1/responses with store=false and the whole
# history each leg (no previous_response_id). With a model it has no metadata for it offers
# `exec_command` (unified exec) as its shell tool, not `shell`.
def _codex_argv(turn: Turn, home: Path) -> list[str]:
    return ["codex", "exec", "--skip-git-repo-check", "--ephemeral", "--color", "never",
            "-o", str(home / "last-message.txt"), turn.prompt]


def _codex_env(base: str, key: str, group: str, home: Path) -> dict[str, str]:
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    # Only what a throwaway container needs: no sandbox (bubblewrap cannot make namespaces in
    # an unprivileged container) and no approvals; no analytics (ab.chatgpt.com) and no
    # plugin sync (api.github.com, chatgpt.com); no retries, so a broken gateway fails at once.
    (codex_home / "config.toml").write_text(
        f'model = "{group}"\nmodel_provider = "bed"\nsandbox_mode = "danger-full-access"\n'
        'approval_policy = "never"\ncheck_for_update_on_startup = false\n\n'
        "[analytics]\nenabled = false\n\n[features]\nplugins = false\n\n"
        f'[model_providers.bed]\nname = "bed"\nbase_url = "{base}"\nenv_key = "OPENAI_API_KEY"\n'
        'wire_api = "responses"\nrequest_max_retries = 0\nstream_max_retries = 0\n')
    return {"CODEX_HOME": str(codex_home), "OPENAI_API_KEY": key}


def _codex_final(output: str, home: Path) -> str:
    last = home / "last-message.txt"
    return last.read_text() if last.is_file() else ""


# Claude Code 2.1.328: `claude -p` always streams /v1/messages (?beta=true). As root it
# refuses --dangerously-skip-permissions; dontAsk + an allowed Bash runs the command and
# denies anything else without ever prompting.
def _claude_argv(turn: Turn, home: Path) -> list[str]:
    return ["claude", "-p", turn.prompt, "--permission-mode", "dontAsk", "--allowedTools=Bash",
            "--output-format", "stream-json", "--verbose", "--no-session-persistence"]


def _claude_env(base: str, key: str, group: str, home: Path) -> dict[str, str]:
    return {
        "ANTHROPIC_BASE_URL": base, "ANTHROPIC_AUTH_TOKEN": key,
        # Every model role maps to the group, so no side request can name a model the
        # gateway lacks.
        "ANTHROPIC_MODEL": group, "ANTHROPIC_DEFAULT_HAIKU_MODEL": group, "ANTHROPIC_SMALL_FAST_MODEL": group,
        "ANTHROPIC_DEFAULT_SONNET_MODEL": group, "ANTHROPIC_DEFAULT_OPUS_MODEL": group,
        "CLAUDE_CONFIG_DIR": str(home / ".claude"), "CLAUDE_CODE_MAX_RETRIES": "0",
        # Without these it calls api.anthropic.com (event logging, metrics opt-out) and
        # HEADs {base}/api/hello.
        "DISABLE_TELEMETRY": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1", "DISABLE_ERROR_REPORTING": "1",
    }


def _claude_final(output: str, home: Path) -> str:
    for line in reversed(output.splitlines()):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("type") == "result":
            return str(event.get("result", ""))
    return ""


AGENTS = {
    "codex": Agent("codex", "exec_command", lambda cmd: {"cmd": cmd}, _codex_argv, _codex_env,
                   lambda v1: v1, _codex_final),
    "claude": Agent("claude", "Bash", lambda cmd: {"command": cmd, "description": "Print the bed nonce"},
                    _claude_argv, _claude_env, lambda v1: v1.removesuffix("/v1"), _claude_final),
}
SHIM_KEY = "sk-mini-agent-not-a-secret"


@pytest.mark.needs_proxy
@pytest.mark.parametrize("group", GROUPS, ids=[f"gateway-{g}" for g in GROUPS])
@pytest.mark.parametrize("agent_name", sorted(AGENTS))
def test_agent_runs_one_tool_call(agent_name: str, group: str, proxy_url: str, master_key: str, shim_base: str,
                                  request: pytest.FixtureRequest, shim: Shim, egress_trap: EgressTrap,
                                  tmp_path: Path) -> None:
    agent = AGENTS[agent_name]
    if shutil.which(agent.name) is None:
        pytest.fail(f"{agent.name} is not installed here; run this tier in the bed-agents image "
                    "(bed/images/context/agents)", pytrace=False)
    problem, seconds = _turn(agent, proxy_url + "/v1", master_key, group, shim, egress_trap, tmp_path / "gateway")
    # As a user property (what record_property does, without its warning under xunit2 JUnit).
    request.node.user_properties.append(("turn_seconds", round(seconds, 3)))
    if problem is None:
        return
    # Which side broke: the same turn straight at the shim, with no gateway in between.
    control, control_seconds = _turn(agent, shim_base, SHIM_KEY, GROUP, shim, egress_trap, tmp_path / "shim-direct")
    request.node.user_properties.append(("control_turn_seconds", round(control_seconds, 3)))
    if control is None:
        side = f"the same turn straight at the shim passed ({control_seconds:.2f} s): the gateway broke it"
    else:
        side = (f"the same turn straight at the shim failed too: {control}; so the agent or bed's shim is at "
                "fault, not (only) the gateway")
    pytest.fail(f"through the gateway ({group}): {problem}\n{side}", pytrace=False)


def _turn(agent: Agent, v1: str, key: str, group: str, shim: Shim, trap: EgressTrap,
          folder: Path) -> tuple[str | None, float]:
    """One scripted turn of ``agent`` against ``v1``: what is wrong with it (None: nothing), and its wall time."""
    turn = Turn.new(agent.name)
    shim.script(turn.marker, [{"tool": [agent.tool], "arguments": agent.arguments(command(turn.nonce))},
                              {"text": turn.final}])
    home = folder / "home"
    work = folder / "work"
    work.mkdir(parents=True)
    home.mkdir()
    base = agent.base(v1)
    env = _isolated_env(home, base, trap.url) | agent.env(base, key, group, home)
    trapped = len(trap.seen)
    rc, output, seconds = _run(agent.name, agent.argv(turn, home), env, work)
    print(f"TURN {agent.name} via {base} ({group}): {seconds:.2f} s", flush=True)
    legs = [e for e in shim.journal(turn.marker)
            if e.get("method") == "POST" and e.get("path", "").split("?")[0].endswith(MODEL_PATHS)]
    return _problem(agent, turn, rc, agent.final_text(output, home), legs, work, trap.seen[trapped:], base), seconds


def _problem(agent: Agent, turn: Turn, rc: int, final: str, legs: list[dict[str, Any]], work: Path,
             trapped: list[str], base: str) -> str | None:
    """The first of the turn's checks that fails, said in one sentence; None when all hold."""
    route = " -> ".join(e["path"] for e in legs) or "nothing"
    proof = work / proof_file(turn.nonce)
    if rc != 0:
        return f"{agent.name} exited {rc} (the shim saw: {route}); its output is above"
    if turn.evidence not in final:
        return (f"{agent.name}'s final text lacks the command's output {turn.evidence!r}: {final[-300:]!r} "
                f"(the shim saw: {route})")
    if not final.startswith(turn.final.split("{")[0]):
        return f"the final text is not the scripted one: {final[:200]!r}"
    if not proof.is_file():
        return f"{agent.name} did not write {proof} (the command did not run here)"
    if proof.read_text().strip() != turn.evidence:
        return f"{proof} holds {proof.read_text()[:100]!r}, not {turn.evidence!r}"
    if len(legs) != 2:
        return f"expected the turn as 2 requests at the shim, got {len(legs)}: {route}"
    first, second = (e["body"] for e in legs)
    if agent.tool not in offered_tools(first):
        return f"leg 1 ({legs[0]['path']}) does not offer {agent.tool}: {offered_tools(first)}"
    if tool_results(first):
        return f"leg 1 already carries tool results: {tool_results(first)}"
    if turn.evidence in json.dumps(first):
        return "leg 1 already holds the command's output"
    if not any(turn.evidence in r for r in tool_results(second)):
        return f"leg 2 ({legs[1]['path']}) does not carry the tool output {turn.evidence!r}: {tool_results(second)}"
    if trapped:
        return f"{agent.name} tried to reach more than {base}: {trapped}"
    return None


def _isolated_env(home: Path, base: str, trap: str) -> dict[str, str]:
    """A clean environment: a private HOME, and every proxy-aware request that is not for
    the agent's one base sent into the trap."""
    host = urllib.parse.urlsplit(base).hostname or ""
    names = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")
    proxy = dict.fromkeys(names, trap)
    return {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "HOME": str(home),
            "LANG": "C.UTF-8", "TERM": "dumb", "NO_PROXY": host, "no_proxy": host, **proxy}


def _run(name: str, argv: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str, float]:
    """Run the agent with its output streamed as it comes; kill its whole group at the bound."""
    print(f"$ {' '.join(argv)}", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
    lines: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            sys.stdout.write(f"[{name}] {line.rstrip()}\n")
            sys.stdout.flush()

    def kill() -> None:
        timed_out.set()
        os.killpg(process.pid, signal.SIGKILL)

    timed_out = threading.Event()
    # A timer kills the agent's process group at the bound, so wait() can block on the exit
    # itself (wait(timeout=...) polls, which rounds every turn time up to 50 ms).
    killer = threading.Timer(TURN_TIMEOUT_S, kill)
    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    killer.start()
    rc = process.wait()
    seconds = time.monotonic() - started
    killer.cancel()
    reader.join(5)
    if timed_out.is_set():
        pytest.fail(f"{name} did not finish its turn within {TURN_TIMEOUT_S:.0f} s (BED_AGENT_TIMEOUT); "
                    f"last output: {''.join(lines[-5:])[-500:]!r}", pytrace=False)
    return rc, "".join(lines), seconds


def offered_tools(body: Any) -> list[str]:
    """Tool names a request offers, in any of the three wire formats."""
    names = []
    for tool in body.get("tools") or [] if isinstance(body, dict) else []:
        function = tool.get("function")
        names.append(function.get("name") if isinstance(function, dict) else tool.get("name") or tool.get("type"))
    return [str(n) for n in names if n]


def tool_results(body: Any) -> list[str]:
    """The text of each tool result a request carries, in any of the three wire formats:
    chat ``role: tool`` messages, Responses ``*_output`` items, Messages ``tool_result`` blocks."""
    if not isinstance(body, dict):
        return []
    found: list[Any] = []
    for message in body.get("messages") or []:
        if not isinstance(message, dict):
            continue
        if message.get("role") == "tool":
            found.append(message.get("content"))
        elif isinstance(message.get("content"), list):
            found += [block.get("content") for block in message["content"]
                      if isinstance(block, dict) and block.get("type") == "tool_result"]
    items = body.get("input")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get("type", "")).endswith("_output"):
            found.append(item.get("output"))
    return [_text(f) for f in found]


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_text(part.get("text", "")) if isinstance(part, dict) else _text(part) for part in content)
    return "" if content is None else json.dumps(content)
