"""The agent tier's pieces without Docker: how each client is pointed at a gateway (bed_agents, the
contract `bed up` prints too), which cells a session runs, what a turn checks, and which side a
failed turn blames (turns.py), on fakes."""

from __future__ import annotations

import importlib.util
import json
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import bed.runner
from bed.config import clients
from bed.runner import bed_agents

TIERS = Path(bed.runner.__file__).parent / "tiers"
KEY = "sk-test-key"


@pytest.fixture
def turns(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setitem(sys.modules, "bed_agents", bed_agents)
    spec = importlib.util.spec_from_file_location("turns", TIERS / "agents" / "turns.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "turns", module)
    spec.loader.exec_module(module)
    return module


def test_the_contract_and_the_npm_catalogue_name_the_same_agents() -> None:
    assert list(bed_agents.CLIENTS) == list(clients.AGENTS)
    for name, client in bed_agents.CLIENTS.items():
        assert client.command == clients.AGENTS[name].command
        assert client.surface in bed_agents.SURFACES


@pytest.mark.parametrize("name", list(bed_agents.CLIENTS))
def test_each_client_is_pointed_at_the_gateway_with_no_key_in_a_file_and_no_retries(name: str, tmp_path: Path) -> None:
    client = bed_agents.CLIENTS[name]
    setup = client.setup(gateway="http://litellm:4000", key=KEY, group="g-1", home=tmp_path / "h", work=tmp_path / "w")
    for path, content in setup.files.items():
        assert path.is_relative_to(tmp_path)  # its private HOME or working folder, never a person's own
        assert KEY not in content
    assert KEY in setup.env.values()  # the key travels in the environment only
    text = json.dumps(setup.env) + "".join(setup.files.values())
    assert "litellm:4000" in text
    argv = client.argv("/x/bin/agent", "the prompt", "g-1", tmp_path / "h")
    assert argv[0] == "/x/bin/agent"
    assert "the prompt" in argv
    assert "g-1" in text + " ".join(argv)  # the group: in its config, its environment or its model flag


def test_codex_gets_its_provider_in_its_own_config_without_retries(tmp_path: Path) -> None:
    setup = bed_agents.CLIENTS["codex"].setup(gateway="http://litellm:4000", key=KEY, group="g", home=tmp_path,
                                              work=tmp_path)
    config = tomllib.loads(setup.files[tmp_path / ".codex/config.toml"])
    provider = config["model_providers"]["bed"]
    assert (provider["base_url"], provider["wire_api"], provider["env_key"]) == (
        "http://litellm:4000/v1", "responses", "OPENAI_API_KEY")
    assert provider["request_max_retries"] == provider["stream_max_retries"] == 0
    assert config["analytics"]["enabled"] is False


def test_gemini_cli_uses_the_native_base_with_usage_statistics_off_and_one_attempt(tmp_path: Path) -> None:
    setup = bed_agents.CLIENTS["gemini-cli"].setup(gateway="http://litellm:4000", key=KEY, group="g",
                                                   home=tmp_path, work=tmp_path)
    assert setup.env["GOOGLE_GEMINI_BASE_URL"] == "http://litellm:4000"  # the Gemini API's root, no /v1
    settings = json.loads(setup.files[tmp_path / ".gemini/settings.json"])
    assert settings["security"]["auth"]["selectedType"] == "gemini-api-key"
    assert settings["privacy"]["usageStatisticsEnabled"] is False
    assert settings["general"]["maxAttempts"] == 1


def test_opencode_reads_its_key_from_the_environment_and_npm_stays_offline(tmp_path: Path) -> None:
    setup = bed_agents.CLIENTS["opencode"].setup(gateway="http://litellm:4000", key=KEY, group="g", home=tmp_path,
                                                 work=tmp_path / "w")
    config = json.loads(setup.files[tmp_path / "w/opencode.json"])
    options = config["provider"]["bed"]["options"]
    assert options == {"baseURL": "http://litellm:4000/v1", "apiKey": "{env:LITELLM_API_KEY}"}
    assert config["provider"]["bed"]["npm"] == "@ai-sdk/openai-compatible"
    assert setup.env["LITELLM_API_KEY"] == KEY
    assert setup.env["npm_config_offline"] == "true"  # its start-up plugin install asks no registry


@pytest.mark.parametrize(("name", "output", "final"), [
    ("claude-code", '{"type":"system"}\n{"type":"result","result":"done x: 42"}\n', "done x: 42"),
    ("qwen-code", 'noise\n{"type":"result","subtype":"success","result":"done y"}\n', "done y"),
    ("gemini-cli", '{"type":"message","role":"assistant","content":"thinking"}\n'
                   '{"type":"tool_result","status":"success","output":"s"}\n'
                   '{"type":"message","role":"assistant","content":"done "}\n'
                   '{"type":"message","role":"assistant","content":"z: s","delta":true}\n{"type":"result"}\n',
     "done z: s"),
    ("opencode", '{"type":"text","part":{"text":"before"}}\n{"type":"tool_use","part":{"tool":"bash"}}\n'
                 '{"type":"text","part":{"text":"done w: s\\n"}}\n', "done w: s\n"),
])
def test_each_client_s_final_text_is_read_from_its_own_output(name: str, output: str, final: str,
                                                              tmp_path: Path) -> None:
    assert bed_agents.CLIENTS[name].final_text(output, tmp_path) == final


def test_cells_are_agents_at_versions_times_the_routes_of_their_surface_times_kinds(turns: ModuleType) -> None:
    routes = [{"surface": "responses", "route": "native", "group": "g", "upstream": "/responses"},
              {"surface": "responses", "route": "chat-bridge", "group": "g-chat", "upstream": "/chat/completions"},
              {"surface": "gemini", "route": "native", "group": "g-gemini", "upstream": ":streamGenerateContent",
               "skip": "no group g-gemini"}]
    env = {"BED_AGENTS": "codex@0.169.0,gemini-cli@0.60.0,gemini-cli@0.61.0", "BED_AGENT_ROUTES": json.dumps(routes),
           "BED_AGENT_KINDS": "plain,tool"}
    ids = [c.id for c in turns.cells(env)]
    assert ids == ["codex@0.169.0-responses-native-plain", "codex@0.169.0-responses-native-tool",
                   "codex@0.169.0-responses-chat-bridge-plain", "codex@0.169.0-responses-chat-bridge-tool",
                   "gemini-cli@0.60.0-gemini-native-plain", "gemini-cli@0.60.0-gemini-native-tool",
                   "gemini-cli@0.61.0-gemini-native-plain", "gemini-cli@0.61.0-gemini-native-tool"]
    assert turns.cells(env)[-1].route.skip == "no group g-gemini"
    assert [c.kind for c in turns.cells({**env, "BED_AGENT_KINDS": ""})] == []
    assert {c.kind for c in turns.cells({k: v for k, v in env.items() if k != "BED_AGENT_KINDS"})} == {"tool"}



def test_cells_default_to_the_image_s_agents_the_default_routes_and_tool_turns(
        turns: ModuleType, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"agents": [{"agent": "codex", "version": "0.169.0", "command": "/x/codex"},
                                               {"agent": "no-such-agent", "version": "1", "command": "/x/no"},
                                               {"agent": "claude-code", "version": "2.0.0", "command": "/x/claude"}]}))
    monkeypatch.setattr(turns, "MANIFEST", manifest)
    for name in ("BED_AGENTS", "BED_AGENT_ROUTES", "BED_AGENT_KINDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BED_GROUP", "g-env")
    assert [(c.id, c.route.group, c.route.upstream) for c in turns.cells()] == [
        ("codex@0.169.0-responses-native-tool", "g-env", "/responses"),
        ("claude-code@2.0.0-messages-responses-adapter-tool", "g-env", "/responses")]
    env = {"BED_AGENTS": " codex@0.169.0 ,no-version,no-such-agent@1,", "BED_AGENT_KINDS": "tool,bogus,plain"}
    assert [(c.id, c.route.group) for c in turns.cells(env)] == [
        ("codex@0.169.0-responses-native-tool", "codex-agent-1"),
        ("codex@0.169.0-responses-native-plain", "codex-agent-1")]


def _leg(path: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"method": "POST", "path": path, "body": body}


def _found(turns: ModuleType, script: Any, tmp_path: Path, seen: list[dict[str, Any]], **over: Any) -> Any:
    (tmp_path / f"bed-proof-{script.nonce}.txt").write_text(script.secret + "\n")
    values = {"rc": 0, "final": f"done {script.marker}: {script.secret}", "legs": tuple(seen), "work": tmp_path,
              "trapped": (), "timed_out": False, **over}
    return turns.Found(**values)


def _tool_legs(script: Any, tool: str = "run_shell_command", path: str = "/v1/chat/completions") -> list[Any]:
    offer = [{"type": "function", "function": {"name": tool}}]
    return [_leg(path, {"messages": [{"role": "user", "content": script.prompt}], "tools": offer}),
            _leg(path, {"messages": [{"role": "tool", "content": script.secret}], "tools": offer}),
            _leg(path, {"messages": [{"role": "user", "content": f"title for {script.marker}"}]})]  # a side request


def test_a_good_tool_turn_passes_and_each_broken_part_is_named(turns: ModuleType, tmp_path: Path) -> None:
    client = bed_agents.CLIENTS["qwen-code"]
    script = turns.Script.new("qwen-code", "tool")
    route = turns.Route("chat", "native", "g", "/chat/completions")
    legs = _tool_legs(script)
    assert turns.check(client, script, route, _found(turns, script, tmp_path, legs), "http://gw", 120) is None
    broken = {
        "did not finish within 120 s": {"timed_out": True},
        "exited 1": {"rc": 1},
        "final text lacks": {"final": "done nothing"},
        "tried to reach more than": {"trapped": ("CONNECT telemetry.example:443",)},
        "expected the turn as 2 requests": {"legs": tuple(legs[:1])},
    }
    for says, over in broken.items():
        found = _found(turns, script, tmp_path, legs, **over)
        assert says in (turns.check(client, script, route, found, "http://gw", 120) or ""), says
    elsewhere = turns.Route("chat", "native", "g", "/responses")
    assert "should reach the shim at …/responses" in turns.check(client, script, elsewhere,
                                                                  _found(turns, script, tmp_path, legs), "gw", 120)
    (tmp_path / f"bed-proof-{script.nonce}.txt").unlink()
    found = turns.Found(0, f"done {script.marker}: {script.secret}", tuple(legs), tmp_path, (), False)
    assert "did not write" in turns.check(client, script, route, found, "gw", 120)



def test_how_the_client_ended_and_what_the_shim_saw_are_named(turns: ModuleType, tmp_path: Path) -> None:
    client = bed_agents.CLIENTS["qwen-code"]
    script = turns.Script.new("qwen-code", "tool")
    route = turns.Route("chat", "native", "g", "/chat/completions")
    offer = [{"type": "function", "function": {"name": client.tool}}]
    legs = [*_tool_legs(script), _leg("/v1/models", {"tools": offer})]  # not a model call: neither seen nor a leg

    def check(**over: Any) -> Any:
        return turns.check(client, script, route, _found(turns, script, tmp_path, legs, **over), "http://gw", 120)

    seen = "(the shim saw: /v1/chat/completions -> /v1/chat/completions -> /v1/chat/completions)"
    assert check(rc=1) == f"qwen-code exited 1 {seen}"
    assert check(rc=-9) == f"qwen-code exited -9 (killed: out of memory?) {seen}"
    assert check(timed_out=True, legs=()) == \
        "qwen-code did not finish within 120 s (BED_AGENT_TIMEOUT; the shim saw: nothing)"
    assert check(final=f"{script.secret} done {script.marker}") == \
        f"the final text is not the scripted one: {script.secret + ' done ' + script.marker!r}"
    assert check(final=f"  done {script.marker}: {script.secret}") is None


def test_a_tool_turn_s_legs_must_carry_the_tool_output_only_on_the_second(turns: ModuleType, tmp_path: Path) -> None:
    client = bed_agents.CLIENTS["qwen-code"]
    script = turns.Script.new("qwen-code", "tool")
    route = turns.Route("chat", "native", "g", "/chat/completions")
    offer = [{"type": "function", "function": {"name": client.tool}}]
    early = _leg("/v1/chat/completions", {"messages": [{"role": "tool", "content": "early"}], "tools": offer})
    told = _leg("/v1/chat/completions", {"messages": [{"role": "user", "content": script.secret}], "tools": offer})
    empty = _leg("/v1/chat/completions", {"messages": [{"role": "tool", "content": "nothing"}], "tools": offer})
    first, second, _ = _tool_legs(script)

    def check(*legs: Any, proof: str | None = None) -> Any:
        found = _found(turns, script, tmp_path, list(legs))
        if proof is not None:
            (tmp_path / f"bed-proof-{script.nonce}.txt").write_text(proof)
        return turns.check(client, script, route, found, "http://gw", 120) or ""

    assert check(first, second) == ""
    assert f"holds 'wrong', not {script.secret!r}" in check(first, second, proof="wrong")
    assert check(early, second).startswith("leg 1 (/v1/chat/completions) already carries tool results: ['early']")
    assert check(told, second) == "leg 1 already holds the secret the command reads"
    assert check(first, empty).startswith("leg 2 (/v1/chat/completions) does not carry the tool's output")


def test_a_plain_turn_is_one_leg_without_tool_results(turns: ModuleType, tmp_path: Path) -> None:
    client = bed_agents.CLIENTS["qwen-code"]
    script = turns.Script.new("qwen-code", "plain")
    route = turns.Route("chat", "native", "g", "/chat/completions")
    offer = [{"type": "function", "function": {"name": client.tool}}]
    ask = _leg("/v1/chat/completions", {"messages": [{"role": "user", "content": script.prompt}], "tools": offer})
    side = _leg("/v1/chat/completions", {"messages": [{"role": "user", "content": f"title for {script.marker}"}]})
    answered = _leg("/v1/chat/completions", {"messages": [{"role": "tool", "content": "out"}], "tools": offer})

    def check(*legs: Any) -> Any:
        found = turns.Found(0, f"done {script.marker}: {script.secret}", legs, tmp_path, (), False)
        return turns.check(client, script, route, found, "http://gw", 120)

    assert check(ask, side) is None  # no proof file needed: a plain turn runs no command
    assert check(ask, ask) == "expected the plain turn as 1 request, got 2: /v1/chat/completions -> " \
                              "/v1/chat/completions"
    assert check(answered) == "the plain turn's request carries tool results: ['out']"


def test_tool_results_are_read_in_each_wire_format_in_order(turns: ModuleType) -> None:
    body = {
        "messages": [
            "not a message",
            {"role": "tool", "content": "chat-out"},
            {"role": "tool", "content": [{"type": "text", "text": "chat-"}, {"type": "text", "text": "parts"}]},
            {"role": "user", "content": [{"type": "tool_result", "content": "messages-out"},
                                          {"type": "text", "text": "not a result"}, "not a block",
                                          {"type": "tool_result", "content": [{"type": "text", "text": "blocks"}]}]},
            {"role": "assistant", "content": "plain text"},
        ],
        "input": [{"type": "message", "content": "x"}, "not an item",
                  {"type": "function_call_output", "output": "responses-out"},
                  {"type": "custom_tool_call_output", "output": None}],
        "contents": [{"parts": [{"text": "go"}, {"functionResponse": {"response": {"output": "gemini-out"}}},
                                {"function_response": {"response": "snake-out"}}, "not a part",
                                {"functionResponse": "not a dict"}]},
                     "not a content", {"role": "user"}],
    }
    assert turns.tool_results(body) == ["chat-out", "chat-parts", "messages-out", "blocks", "responses-out", "",
                                        '{"output": "gemini-out"}', "snake-out"]
    assert turns.tool_results({"messages": None, "input": "not a list", "contents": None}) == []
    assert turns.tool_results(["not a body"]) == []
    assert turns.tool_results(None) == []


def test_gemini_legs_are_read_in_the_gemini_wire_format(turns: ModuleType) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "go"}]},
                         {"role": "model", "parts": [{"functionCall": {"name": "run_shell_command"}}]},
                         {"role": "user", "parts": [{"functionResponse": {"name": "run_shell_command",
                                                                          "response": {"output": "secret-1"}}}]}],
            "tools": [{"functionDeclarations": [{"name": "run_shell_command"}, {"name": "read_file"}]}]}
    assert turns.offered_tools(body) == ["run_shell_command", "read_file"]
    assert any("secret-1" in r for r in turns.tool_results(body))
    assert turns.describe(_leg("/v1/models/g:streamGenerateContent", body)) == \
        "POST /v1/models/g:streamGenerateContent, 3 contents, 2 tools, 1 tool results"


@pytest.mark.parametrize(("output", "line"), [
    ('{"type":"result","is_error":true,"result":"API Error: 500 upstream connect error"}\n',
     "API Error: 500 upstream connect error"),
    ("Loaded\n[API Error: Connection error. (cause: fetch failed)]\nbye\n",
     "[API Error: Connection error. (cause: fetch failed)]"),
    ('{"type":"error","error":{"message":"Bad Request: model not found"}}\n', "Bad Request: model not found"),
    ("all fine\n", "(none; its last line: all fine)"),
    ("", "(it printed nothing)"),
])
def test_the_clients_last_error_line(turns: ModuleType, output: str, line: str) -> None:
    assert turns.last_error(output) == line


class ScriptedPool:
    """turns.Pool with its one seam, ``attempt``, answered from a script: (via) -> Attempt."""

    def __new__(cls, turns: ModuleType, answers: dict[str, Any]) -> Any:
        pool = turns.Pool.__new__(turns.Pool)
        pool.commands = {("codex", "0.169.0"): "/x/codex"}
        pool.shim = type("S", (), {"root": "http://mini-agent:8788"})()
        pool.proxy_url, pool.key = "http://litellm:4000", KEY
        pool.calls = []

        def attempt(cell: Any, command: str, base: str, key: str, route: Any, via: str, timeout_s: float) -> Any:
            pool.calls.append((via, base, route.route, timeout_s))
            return answers[via]

        pool.attempt = attempt
        return pool


def _cell(turns: ModuleType) -> Any:
    return turns.Cell("codex", "0.169.0", turns.Route("responses", "native", "g", "/responses"), "tool")


def test_a_green_turn_needs_no_control_turn(turns: ModuleType) -> None:
    ok = turns.Attempt(None, 1.0, (), "")
    pool = ScriptedPool(turns, {"gateway": ok})
    outcome = pool._run(_cell(turns))
    assert outcome.passed
    assert [c[0] for c in pool.calls] == ["gateway"]


def test_when_the_gateway_turn_fails_and_the_direct_one_passes_the_gateway_broke_it(turns: ModuleType) -> None:
    legs = (_leg("/v1/responses", {"input": [{"role": "user", "content": "x"}], "tools": [], "model": "g"}),)
    failed = turns.Attempt("codex exited 1 (the shim saw: /v1/responses)", 2.0, legs, "stream error: 502 Bad Gateway")
    pool = ScriptedPool(turns, {"gateway": failed, "shim-direct": turns.Attempt(None, 0.9, (), "")})
    outcome = pool._run(_cell(turns))
    assert outcome.side == "gateway"
    via, base, route, _ = pool.calls[1]
    assert (via, base, route) == ("shim-direct", "http://mini-agent:8788", "direct")  # no gateway in between
    first, *rest = outcome.message().splitlines()
    assert first.startswith("the gateway broke it: codex 0.169.0 responses/native tool turn through g")
    assert "straight at the shim the same turn passed (0.9 s)" in rest[0]
    assert rest[1] == "the gateway sent: POST /v1/responses, 1 input, model g, 0 tools, 0 tool results"
    assert rest[2] == "codex's last error line: stream error: 502 Bad Gateway"


def test_when_both_fail_the_agent_broke_it_and_a_silent_gateway_is_said(turns: ModuleType) -> None:
    pool = ScriptedPool(turns, {"gateway": turns.Attempt("codex exited 1", 2.0, (), ""),
                                "shim-direct": turns.Attempt("codex exited 1", 1.0, (), "boom")})
    outcome = pool._run(_cell(turns))
    assert outcome.side == "agent"
    message = outcome.message()
    assert message.startswith("the agent broke it")
    assert "straight at the shim it failed too: codex exited 1" in message
    assert "the gateway sent the shim nothing for this turn" in message


def test_a_turn_out_of_time_still_gets_its_bounded_control_turn(turns: ModuleType) -> None:
    slow = turns.Attempt("codex did not finish within 120 s (BED_AGENT_TIMEOUT; the shim saw: nothing)", 120.0, (),
                         "", timed_out=True)
    pool = ScriptedPool(turns, {"gateway": slow, "shim-direct": turns.Attempt(None, 1.0, (), "")})
    outcome = pool._run(_cell(turns))
    assert outcome.side == "gateway"
    assert "did not finish within 120 s" in outcome.message()
    assert pool.calls[1][3] == turns.CONTROL_TIMEOUT_S == turns.TURN_TIMEOUT_S  # bounded as the turn is


def test_an_agent_version_the_image_lacks_fails_naming_what_it_has(turns: ModuleType) -> None:
    pool = ScriptedPool(turns, {})
    cell = turns.Cell("codex", "0.1.0", turns.Route("responses", "native", "g", "/responses"), "tool")
    outcome = pool._run(cell)
    assert "codex 0.1.0 is not in this image" in outcome.gateway.problem
    assert "codex@0.169.0" in outcome.gateway.problem
    assert pool.calls == []
