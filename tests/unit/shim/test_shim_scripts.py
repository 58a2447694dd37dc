"""Scripted agent turns (POST /_bed/scripts): a two-leg tool turn on every surface, and the contract."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bed.shim.app import Shim

from .test_shim_fixtures import MODEL, Raw, anthropic_client, new_shim, openai_client, run, sse_events

SHELL = {"type": "object", "properties": {"cmd": {"type": "string"}}}
SCRIPT = {"contains": "MARK-7", "steps": [{"tool": ["shell", "exec_command"], "arguments": {"cmd": "ls -1"}},
                                          {"text": "the tool said: {tool_output}"}]}
PROMPT = "MARK-7 list the files"


@pytest.fixture
def shim() -> Shim:
    shim = new_shim()
    assert Raw(shim).post("/_bed/scripts", SCRIPT).status_code == 200
    return shim


def test_chat_two_legs(shim: Shim) -> None:
    tools: list[Any] = [{"type": "function", "function": {"name": "exec_command", "parameters": SHELL}}]

    async def turn(messages: list[Any]) -> Any:
        reply = await openai_client(shim).chat.completions.create(model=MODEL, messages=messages, tools=tools)
        return reply.choices[0]

    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    first = run(turn(messages))
    call = first.message.tool_calls[0]
    assert (first.finish_reason, call.function.name) == ("tool_calls", "exec_command")
    assert json.loads(call.function.arguments) == {"cmd": "ls -1"}
    messages += [first.message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "a.txt b.txt"}]
    assert run(turn(messages)).message.content == "the tool said: a.txt b.txt"


def test_responses_two_legs_streamed(shim: Shim) -> None:
    tools: list[Any] = [{"type": "function", "name": "shell", "parameters": SHELL}]

    async def turn(items: list[Any]) -> Any:
        async with openai_client(shim).responses.stream(model=MODEL, input=items, tools=tools) as stream:
            return await stream.get_final_response()

    items: list[Any] = [{"role": "user", "content": PROMPT}]
    call = run(turn(items)).output[0]
    assert (call.type, call.name, json.loads(call.arguments)) == ("function_call", "shell", {"cmd": "ls -1"})
    items += [call.model_dump(exclude_none=True),
              {"type": "function_call_output", "call_id": call.call_id, "output": "a.txt b.txt"}]
    assert run(turn(items)).output_text == "the tool said: a.txt b.txt"


def test_messages_two_legs(shim: Shim) -> None:
    tools: list[Any] = [{"name": "shell", "input_schema": SHELL}]

    async def turn(messages: list[Any]) -> Any:
        return await anthropic_client(shim).messages.create(model=MODEL, max_tokens=64, tools=tools,
                                                            messages=messages)

    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    use = run(turn(messages)).content[0]
    assert (use.type, use.name, use.input) == ("tool_use", "shell", {"cmd": "ls -1"})
    result = {"type": "tool_result", "tool_use_id": use.id, "content": "a.txt b.txt"}
    messages += [{"role": "assistant", "content": [use.model_dump()]}, {"role": "user", "content": [result]}]
    assert run(turn(messages)).content[0].text == "the tool said: a.txt b.txt"


def test_gemini_two_legs(shim: Shim) -> None:
    raw = Raw(shim)
    url = f"/v1beta/models/{MODEL}:generateContent"
    contents: list[Any] = [{"role": "user", "parts": [{"text": PROMPT}]}]
    tools = [{"function_declarations": [{"name": "shell", "parameters": SHELL}]}]
    part = raw.post(url, {"contents": contents, "tools": tools}).json()["candidates"][0]["content"]["parts"][0]
    assert part["functionCall"] == {"name": "shell", "args": {"cmd": "ls -1"}}
    contents += [{"role": "model", "parts": [part]},
                 {"role": "user", "parts": [{"functionResponse": {"name": "shell",
                                                                  "response": {"content": "a.txt b.txt"}}}]}]
    reply = raw.post(url, {"contents": contents, "tools": tools}).json()
    assert reply["candidates"][0]["content"]["parts"][0]["text"] == "the tool said: a.txt b.txt"


def _chat(raw: Raw, content: str, tools: list[str], results: int = 0, model: str = MODEL) -> dict[str, Any]:
    messages: list[Any] = [{"role": "user", "content": content}]
    for i in range(results):
        messages += [{"role": "assistant", "content": None, "tool_calls": [
            {"id": f"c{i}", "type": "function", "function": {"name": "shell", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": f"c{i}", "content": f"output {i}"}]
    offered = [{"type": "function", "function": {"name": t, "parameters": SHELL}} for t in tools]
    body: dict[str, Any] = raw.post("/v1/chat/completions", {"model": model, "messages": messages,
                                                             **({"tools": offered} if offered else {})}).json()
    return body


def test_a_request_without_the_tool_is_not_scripted(shim: Shim) -> None:
    raw = Raw(shim)
    # A title request carries the prompt but no tools: the normal deterministic answer.
    side = _chat(raw, PROMPT, [])["choices"][0]["message"]["content"]
    assert side.startswith("[mini-agent] MARK-7")
    other = _chat(raw, PROMPT, ["read_file"])["choices"][0]["message"]["tool_calls"][0]
    assert other["function"]["name"] == "read_file"
    assert json.loads(other["function"]["arguments"]) != {"cmd": "ls -1"}
    assert not _chat(raw, "no marker here", [])["choices"][0]["message"]["content"].startswith("the tool")


def test_steps_follow_the_tool_results_and_the_last_repeats(shim: Shim) -> None:
    raw = Raw(shim)
    assert _chat(raw, PROMPT, ["shell"], 0)["choices"][0]["finish_reason"] == "tool_calls"
    assert _chat(raw, PROMPT, ["shell"], 1)["choices"][0]["message"]["content"] == "the tool said: output 0"
    assert _chat(raw, PROMPT, ["shell"], 3)["choices"][0]["message"]["content"] == "the tool said: output 2"
    # Stateless: asking leg 1 again gives leg 1 again.
    assert _chat(raw, PROMPT, ["shell"], 0)["choices"][0]["finish_reason"] == "tool_calls"


def test_model_narrows_and_a_new_script_replaces_the_old(shim: Shim) -> None:
    raw = Raw(shim)
    raw.post("/_bed/scripts", {"contains": "ONLY-OTHER", "model": "other", "steps": [{"text": "scripted"}]})
    assert _chat(raw, "ONLY-OTHER", [], model="other")["choices"][0]["message"]["content"] == "scripted"
    assert _chat(raw, "ONLY-OTHER", [])["choices"][0]["message"]["content"] != "scripted"
    raw.post("/_bed/scripts", {"contains": "ONLY-OTHER", "model": "other", "steps": [{"text": "replaced"}]})
    assert _chat(raw, "ONLY-OTHER", [], model="other")["choices"][0]["message"]["content"] == "replaced"
    assert len(raw.request("GET", "/_bed/scripts").json()["scripts"]) == 2


def test_tool_output_is_truncated(shim: Shim) -> None:
    raw = Raw(shim)
    messages: list[Any] = [{"role": "user", "content": PROMPT},
                           {"role": "assistant", "content": None, "tool_calls": [
                               {"id": "c", "type": "function", "function": {"name": "shell", "arguments": "{}"}}]},
                           {"role": "tool", "tool_call_id": "c", "content": "x" * 5000}]
    reply = raw.post("/v1/chat/completions", {"model": MODEL, "messages": messages}).json()
    assert reply["choices"][0]["message"]["content"] == "the tool said: " + "x" * 2000


def test_raw_output_item_on_responses_only(shim: Shim) -> None:
    raw = Raw(shim)
    item = {"type": "local_shell_call", "id": "lsh_1", "call_id": "call_1", "status": "completed",
            "action": {"type": "exec", "command": ["ls"], "env": {}}}
    steps = [{"raw_output_item": item}, {"text": "ran: {tool_output}"}]
    raw.post("/_bed/scripts", {"contains": "RAW-1", "steps": steps})
    reply = raw.post("/v1/responses", {"model": MODEL, "input": "RAW-1 go"}).json()
    assert reply["output"] == [item]
    events = sse_events(raw.post("/v1/responses", {"model": MODEL, "input": "RAW-1 go", "stream": True}).text)
    assert [(n, d.get("item")) for n, d in events if n and n.startswith("response.output_item")] == [
        ("response.output_item.added", item), ("response.output_item.done", item)]
    back = [{"role": "user", "content": "RAW-1 go"}, item,
            {"type": "local_shell_call_output", "call_id": "call_1", "output": "a.txt"}]
    assert raw.post("/v1/responses", {"model": MODEL, "input": back}).json()["output"][0]["content"][0]["text"] \
        == "ran: a.txt"
    # Other surfaces have no such items: the normal answer.
    assert _chat(raw, "RAW-1 go", [])["choices"][0]["message"]["content"].startswith("[mini-agent] RAW-1")


def test_a_chain_of_stored_responses_stays_scripted(shim: Shim) -> None:
    raw = Raw(shim)
    tools = [{"type": "function", "name": "shell", "parameters": SHELL}]
    first = raw.post("/v1/responses", {"model": MODEL, "input": PROMPT, "tools": tools}).json()
    call = first["output"][0]
    # The follow-up names the stored response and no longer carries the marker itself.
    follow = {"model": MODEL, "tools": tools, "previous_response_id": first["id"],
              "input": [{"type": "function_call_output", "call_id": call["call_id"], "output": "a.txt"}]}
    assert raw.post("/v1/responses", follow).json()["output"][0]["content"][0]["text"] == "the tool said: a.txt"


def test_adding_a_script_drops_cached_answers() -> None:
    raw = Raw(new_shim())
    before = _chat(raw, "LATE-1 hello", [])["choices"][0]["message"]["content"]
    raw.post("/_bed/scripts", {"contains": "LATE-1", "steps": [{"text": "now scripted"}]})
    assert _chat(raw, "LATE-1 hello", [])["choices"][0]["message"]["content"] == "now scripted" != before
    raw.request("DELETE", "/_bed/scripts")
    assert _chat(raw, "LATE-1 hello", [])["choices"][0]["message"]["content"] == before


@pytest.mark.parametrize("script", [
    {"steps": [{"text": "x"}]},
    {"contains": "", "steps": [{"text": "x"}]},
    {"contains": "m", "steps": []},
    {"contains": "m", "steps": [{}]},
    {"contains": "m", "steps": [{"tool": []}]},
    {"contains": "m", "steps": [{"tool": "t", "arguments": [1]}]},
    {"contains": "m", "steps": [{"text": 3}]},
    {"contains": "m", "steps": [{"raw_output_item": {"no": "type"}}]},
    {"contains": "m", "steps": [{"raw_output_item": {"type": "x"}, "text": "both"}]},
    {"contains": "m", "steps": [{"tools": "typo"}]},
    {"contains": "m", "model": 3, "steps": [{"text": "x"}]},
])
def test_bad_scripts_are_refused(script: dict[str, Any]) -> None:
    response = Raw(new_shim()).post("/_bed/scripts", script)
    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_reset_clears_everything(shim: Shim) -> None:
    raw = Raw(shim)
    stored = raw.post("/v1/responses", {"model": MODEL, "input": "keep me"}).json()["id"]
    raw.post("/_bed/faults", {"fault": "status=500", "times": 5})
    assert raw.post("/_bed/reset", {}).json() == {"reset": True}
    assert raw.journal() == []
    assert raw.request("GET", "/_bed/scripts").json() == {"scripts": []}
    assert raw.request("GET", f"/v1/responses/{stored}").status_code == 404
    assert _chat(raw, PROMPT, ["shell"])["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"] \
        != '{"cmd": "ls -1"}'  # no fault left, no script left
