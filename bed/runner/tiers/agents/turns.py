"""The agent tier's turns: each cell (an agent, at a version, through one route of the gateway, a
plain or a tool turn) run as the real client, headless, checked against the shim's journal.

A turn scripts the shim for a unique marker, runs the client (set up by ``bed_agents``, the
contract `bed up` prints too) in a private HOME and working folder, and checks:
  - tool: the final text carries a secret that only a file in the working folder holds, which
    the scripted tool call (``cat bed-in-N.txt | tee bed-proof-N.txt``) must read; the command
    really ran there (the proof file); the gateway sent the turn as two legs, the first offering
    the client's shell tool and holding no tool result, the second carrying the tool's output;
  - plain: the final text is the scripted one (a secret only the shim knows), in one leg;
  - every leg reached the shim by the route the cell names (the upstream path LiteLLM chose);
  - the client sent nothing anywhere else (an HTTP(S) proxy trap on loopback refuses and records
    everything not meant for the gateway).
When a turn through the gateway fails (or runs out of its time), the same turn runs once more
straight at the shim, bounded: if that passes the gateway broke it, else the agent did (or bed's
shim). The turns of a session run side by side on a bounded pool, heaviest first.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import http.server
import json
import os
import re
import secrets
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import bed_agents

GROUP = os.environ.get("BED_GROUP", "codex-agent-1")
TURN_TIMEOUT_S = float(os.environ.get("BED_AGENT_TIMEOUT", "120"))
CONTROL_TIMEOUT_S = TURN_TIMEOUT_S  # the straight-at-the-shim turn that says which side broke: as bounded
# Turns at once: two cores saturate with about three (a turn waits on the network, too), and the
# heaviest clients take 300-650 MB each inside the runner's memory limit.
PARALLEL = max(1, int(os.environ.get("BED_AGENT_PARALLEL", "3")))
MANIFEST = Path(os.environ.get("BED_AGENTS_MANIFEST", "/opt/bed-agents/manifest.json"))
SHIM_KEY = "sk-mini-agent-not-a-secret"
# CPU of one turn, measured (docs/agents-research.md): the pool starts the heaviest first.
COST = {"opencode": 5, "qwen-code": 4, "gemini-cli": 3, "claude-code": 2, "codex": 1}
# The upstream path each surface reaches when a client talks straight to the shim.
DIRECT = {"responses": "/responses", "messages": "/messages", "gemini": ":streamGenerateContent",
          "chat": "/chat/completions"}
MODEL_PATHS = (*DIRECT.values(), ":generateContent")
# The routes of one openai/ group, when bed names none (a person running the tier by hand).
DEFAULT_ROUTES = [{"surface": "responses", "route": "native", "upstream": "/responses"},
                  {"surface": "messages", "route": "responses-adapter", "upstream": "/responses"},
                  {"surface": "gemini", "route": "chat-bridge", "upstream": "/chat/completions"},
                  {"surface": "chat", "route": "native", "upstream": "/chat/completions"}]
_ERROR = re.compile(r"error|fail|refused|denied|invalid|exception|timed? ?out|unavailable|\b[45]\d\d\b", re.I)


@dataclasses.dataclass(frozen=True)
class Route:
    surface: str
    route: str  # native, chat-bridge, responses-adapter, ... (how LiteLLM sends the surface upstream)
    group: str
    upstream: str  # what the shim's path ends with on this route
    skip: str = ""  # why this route cannot run with this run's router config


@dataclasses.dataclass(frozen=True)
class Cell:
    agent: str
    version: str
    route: Route
    kind: str  # plain or tool

    @property
    def id(self) -> str:
        return f"{self.agent}@{self.version}-{self.route.surface}-{self.route.route}-{self.kind}"

    @property
    def label(self) -> str:
        return f"{self.agent} {self.version} {self.route.surface}/{self.route.route} {self.kind} turn"

    def properties(self) -> list[tuple[str, str]]:
        return [("agent", self.agent), ("version", self.version), ("surface", self.route.surface),
                ("route", self.route.route), ("group", self.route.group), ("kind", self.kind)]


def installed() -> dict[tuple[str, str], str]:
    """(agent, version) -> its executable, from the image's manifest."""
    try:
        manifest = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return {}
    return {(a["agent"], a["version"]): a["command"] for a in manifest.get("agents", [])}


def cells(environ: dict[str, str] | None = None) -> list[Cell]:
    """Every cell of this session: BED_AGENTS (agent@version, ...; default: what the image holds)
    x the routes of BED_AGENT_ROUTES that serve each agent's surface x BED_AGENT_KINDS."""
    env = dict(os.environ if environ is None else environ)
    routes = _routes(env)
    kinds = [k for k in env.get("BED_AGENT_KINDS", "tool").split(",") if k in ("plain", "tool")]
    return [Cell(agent, version, route, kind) for agent, version in _agents(env)
            for route in routes if route.surface == bed_agents.CLIENTS[agent].surface for kind in kinds]


def _agents(env: dict[str, str]) -> list[tuple[str, str]]:
    """(agent, version) of BED_AGENTS (default: what the image holds), for the agents bed has a client for."""
    spec = env.get("BED_AGENTS") or ",".join(f"{a}@{v}" for a, v in installed())
    picks = [item.strip().split("@", 1) for item in spec.split(",") if "@" in item]
    return [(agent, version) for agent, version in picks if agent in bed_agents.CLIENTS]


def _routes(env: dict[str, str]) -> list[Route]:
    """The routes of BED_AGENT_ROUTES (default: DEFAULT_ROUTES); a route naming no group is BED_GROUP's."""
    group = env.get("BED_GROUP", "codex-agent-1")
    return [Route(r["surface"], r["route"], r.get("group", group), r["upstream"], r.get("skip", ""))
            for r in json.loads(env.get("BED_AGENT_ROUTES") or "null") or DEFAULT_ROUTES]


class Shim:
    """The shim's admin API: scripted agent turns and the request journal."""

    def __init__(self, base: str) -> None:
        self.root = base.removesuffix("/v1")

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.root + path, data=data, method=method,  # noqa: S310 - bed network URL
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - bed network URL
            text = response.read().decode()
        return json.loads(text) if text.strip() else None

    def reachable(self) -> str:
        try:
            self._call("GET", "/_bed/journal?contains=bed-nothing")
            return ""
        except OSError as exc:  # urllib's HTTPError and URLError are OSErrors
            return str(exc)

    def script(self, contains: str, steps: list[dict[str, Any]]) -> None:
        """Answer every request whose body contains ``contains`` with ``steps`` (see the shim's /_bed/scripts)."""
        self._call("POST", "/_bed/scripts", {"contains": contains, "steps": steps})

    def journal(self, contains: str) -> list[dict[str, Any]]:
        """The requests the shim was sent whose body holds ``contains``, in order (filtered by the
        shim itself: the journal of a run is megabytes of agent prompts)."""
        query = urllib.parse.urlencode({"contains": contains})
        return list(self._call("GET", f"/_bed/journal?{query}")["entries"])


class EgressTrap:
    """An HTTP(S) proxy on loopback that refuses everything and remembers what was asked.

    Every client honours HTTPS_PROXY/HTTP_PROXY (NO_PROXY exempts the gateway), so any telemetry,
    update check or plugin sync it attempts ends here instead of the internet.
    """

    def __init__(self) -> None:
        self.seen: list[str] = []
        trap = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                trap.seen.append(f"{self.command} {self.path}")
                self.send_response(403)
                self.send_header("content-length", "0")
                self.end_headers()

            do_CONNECT = do_GET = do_POST = do_PUT = do_HEAD = _refuse

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # shutdown() waits for serve_forever to look at its flag once per poll interval.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclasses.dataclass(frozen=True)
class Script:
    """What the client is asked, what the shim answers, and what proves the answer came back."""

    marker: str
    nonce: str
    secret: str  # in no request before the tool ran (tool), or only in the shim's answer (plain)
    kind: str

    @classmethod
    def new(cls, agent: str, kind: str) -> Script:
        nonce = secrets.token_hex(4)
        return cls(f"bed-{agent}-{nonce}", nonce, f"secret-{secrets.token_hex(6)}", kind)

    @property
    def command(self) -> str:
        # No $(...): Gemini CLI and Qwen Code refuse command substitution in their shell tool.
        return f"cat bed-in-{self.nonce}.txt | tee bed-proof-{self.nonce}.txt"

    @property
    def prompt(self) -> str:
        if self.kind == "tool":
            return f"[{self.marker}] Run the shell command `{self.command}` and reply with its output."
        return f"[{self.marker}] Reply with the code word, nothing else."

    def steps(self, client: bed_agents.Client) -> list[dict[str, Any]]:
        if self.kind == "tool":
            return [{"tool": [client.tool], "arguments": client.tool_arguments(self.command)},
                    {"text": f"done {self.marker}: {{tool_output}}"}]
        return [{"text": f"done {self.marker}: {self.secret}"}]

    def prepare(self, work: Path) -> None:
        if self.kind == "tool":
            (work / f"bed-in-{self.nonce}.txt").write_text(self.secret + "\n")


@dataclasses.dataclass(frozen=True)
class Attempt:
    """One run of a turn at one base: what was wrong (None: nothing), and what it left."""

    problem: str | None
    seconds: float
    legs: tuple[dict[str, Any], ...]  # what the shim got for this turn (any path), in order
    last_error: str  # the client's own last error line
    timed_out: bool = False
    cpu_seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class Outcome:
    cell: Cell
    gateway: Attempt
    control: Attempt | None = None  # straight at the shim; only when the gateway turn failed

    @property
    def passed(self) -> bool:
        return self.gateway.problem is None

    @property
    def side(self) -> str:
        if self.passed or self.control is None:
            return ""
        return "gateway" if self.control.problem is None else "agent"

    def message(self) -> str:
        """Which side broke, then what, then the evidence: the request the gateway sent, the
        client's own last error line."""
        gateway, control = self.gateway, self.control
        assert control is not None
        assert gateway.problem is not None
        head = f"the {self.side} broke it: {self.cell.label} through {self.cell.route.group}: {gateway.problem}"
        if control.problem is None:
            how = f"straight at the shim the same turn passed ({control.seconds:.1f} s)"
        else:
            how = f"straight at the shim it failed too: {control.problem}"
        sent = f"the gateway sent: {describe(gateway.legs[-1])}" if gateway.legs else \
            "the gateway sent the shim nothing for this turn"
        said = gateway.last_error or "(no error line)"
        return f"{head}\n{how}\n{sent}\n{self.cell.agent}'s last error line: {said}"


class Pool:
    """The session's turns, side by side on ``PARALLEL`` threads (each turn is a process of its own)."""

    def __init__(self, shim: Shim, proxy_url: str, key: str, folder: Path) -> None:
        self.shim, self.proxy_url, self.key, self.folder = shim, proxy_url, key, folder
        self.commands = installed()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="turn")
        self._futures: dict[str, concurrent.futures.Future[Outcome]] = {}
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[str]] = set()

    def start(self, cells: Iterable[Cell]) -> None:
        for cell in sorted(cells, key=lambda c: -COST.get(c.agent, 0)):
            self._submit(cell)

    def outcome(self, cell: Cell) -> Outcome:
        return self._submit(cell).result()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            for process in self._live:
                _kill(process)

    def _submit(self, cell: Cell) -> concurrent.futures.Future[Outcome]:
        with self._lock:
            if cell.id not in self._futures and not cell.route.skip:
                self._futures[cell.id] = self._executor.submit(self._run, cell)
            return self._futures[cell.id]

    def _run(self, cell: Cell) -> Outcome:
        command = self.commands.get((cell.agent, cell.version))
        if command is None:
            problem = (f"{cell.agent} {cell.version} is not in this image ({MANIFEST} lists "
                       f"{', '.join(f'{a}@{v}' for a, v in self.commands) or 'nothing'}); rebuild it with `bed images`")
            return Outcome(cell, Attempt(problem, 0.0, (), ""), Attempt(problem, 0.0, (), ""))
        gateway = self.attempt(cell, command, self.proxy_url, self.key, cell.route, "gateway", TURN_TIMEOUT_S)
        if gateway.problem is None:
            return Outcome(cell, gateway)
        # Which side broke: the same turn straight at the shim, with no gateway in between.
        direct = dataclasses.replace(cell.route, route="direct", upstream=DIRECT[cell.route.surface])
        control = self.attempt(cell, command, self.shim.root, SHIM_KEY, direct, "shim-direct", CONTROL_TIMEOUT_S)
        return Outcome(cell, gateway, control)

    def attempt(self, cell: Cell, command: str, base: str, key: str, route: Route, via: str,
                timeout_s: float) -> Attempt:
        client = bed_agents.CLIENTS[cell.agent]
        script = Script.new(cell.agent, cell.kind)
        self.shim.script(script.marker, script.steps(client))
        folder = self.folder / f"{cell.id}-{via}"
        home, work = folder / "home", folder / "work"
        work.mkdir(parents=True)
        home.mkdir()
        script.prepare(work)
        setup = client.setup(gateway=base, key=key, group=route.group, home=home, work=work)
        setup.write()
        trap = EgressTrap()
        try:
            env = _isolated_env(home, base, trap.url) | setup.env
            ran = self._execute(client.argv(command, script.prompt, route.group, home), env, work, timeout_s)
        finally:
            trap.close()
        legs = tuple(e for e in self.shim.journal(script.marker) if e.get("method") == "POST")
        print(f"TURN {cell.id} via {via} ({route.group}): {ran.seconds:.2f} s, CPU {ran.cpu_seconds:.2f} s", flush=True)
        found = Found(ran.rc, client.final_text(ran.output, home), legs, work, tuple(trap.seen), ran.timed_out)
        return Attempt(check(client, script, route, found, base, timeout_s), ran.seconds, legs,
                       last_error(ran.output), ran.timed_out, ran.cpu_seconds)

    def _execute(self, argv: list[str], env: dict[str, str], cwd: Path, timeout_s: float) -> Ran:
        """Run the client; at the bound, kill its whole process group (the CLIs spawn children).
        Its CPU time (and its children's) comes from the kernel's accounting of the one process."""
        started = time.monotonic()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True)
        with self._lock:
            self._live.add(process)
        chunks: list[str] = []
        reader = threading.Thread(target=lambda: chunks.append(process.stdout.read() if process.stdout else ""),
                                  daemon=True)
        reader.start()
        timed_out = threading.Event()
        killer = threading.Timer(timeout_s, lambda: (timed_out.set(), _kill(process)))
        killer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            killer.cancel()
            with self._lock:
                self._live.discard(process)
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
        reader.join(10)
        return Ran(process.returncode, "".join(chunks), time.monotonic() - started,
                   usage.ru_utime + usage.ru_stime, timed_out.is_set())


@dataclasses.dataclass(frozen=True)
class Ran:
    rc: int
    output: str
    seconds: float
    cpu_seconds: float  # the client and the children it waited for
    timed_out: bool


def _kill(process: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


@dataclasses.dataclass(frozen=True)
class Found:
    """What one run of a client left behind."""

    rc: int
    final: str
    legs: tuple[dict[str, Any], ...]
    work: Path
    trapped: tuple[str, ...]
    timed_out: bool


def check(client: bed_agents.Client, script: Script, route: Route, found: Found, base: str,
          timeout_s: float) -> str | None:
    """The first of the turn's checks that fails, in one sentence; None when all hold."""
    model = [e for e in found.legs if _path(e).endswith(MODEL_PATHS)]
    main = [e for e in model if client.tool in offered_tools(e.get("body"))]  # not titles or summaries
    seen = " -> ".join(_path(e) for e in model) or "nothing"
    return (_ending(client, script, found, seen, timeout_s)
            or _route_legs(route, main)
            or (_tool_legs(client, script, main, found) if script.kind == "tool" else _plain_legs(main))
            or _egress(client, found, base))


def _ending(client: bed_agents.Client, script: Script, found: Found, seen: str, timeout_s: float) -> str | None:
    """How the client ended (in time, exit 0) and whether its final text is the scripted one."""
    if found.timed_out:
        return f"{client.name} did not finish within {timeout_s:.0f} s (BED_AGENT_TIMEOUT; the shim saw: {seen})"
    if found.rc != 0:
        killed = " (killed: out of memory?)" if found.rc == -9 else ""
        return f"{client.name} exited {found.rc}{killed} (the shim saw: {seen})"
    if script.secret not in found.final:
        return f"{client.name}'s final text lacks {script.secret!r}: {found.final[-200:]!r} (the shim saw: {seen})"
    if not found.final.lstrip().startswith(f"done {script.marker}"):
        return f"the final text is not the scripted one: {found.final[:200]!r}"
    return None


def _route_legs(route: Route, legs: list[dict[str, Any]]) -> str | None:
    """Every leg reached the shim at the path the route names."""
    wrong = [_path(e) for e in legs if not _path(e).endswith(route.upstream)]
    if wrong:
        return f"the {route.route} route should reach the shim at …{route.upstream}, but it saw {', '.join(wrong)}"
    return None


def _egress(client: bed_agents.Client, found: Found, base: str) -> str | None:
    """The client sent nothing anywhere but its base (the trap saw nothing)."""
    if found.trapped:
        return f"{client.name} tried to reach more than {base}: {list(found.trapped)}"
    return None


def _tool_legs(client: bed_agents.Client, script: Script, legs: list[dict[str, Any]], found: Found) -> str | None:
    proof = found.work / f"bed-proof-{script.nonce}.txt"
    if not proof.is_file():
        return f"{client.name} did not write {proof.name} (the command did not run in its working folder)"
    if proof.read_text().strip() != script.secret:
        return f"{proof.name} holds {proof.read_text()[:100]!r}, not {script.secret!r}"
    if len(legs) != 2:
        return f"expected the turn as 2 requests offering {client.tool}, got {len(legs)}: " \
               f"{' -> '.join(_path(e) for e in legs) or 'none'}"
    first, second = (e.get("body") for e in legs)
    if tool_results(first):
        return f"leg 1 ({_path(legs[0])}) already carries tool results: {tool_results(first)}"
    if script.secret in json.dumps(first):
        return "leg 1 already holds the secret the command reads"
    if not any(script.secret in r for r in tool_results(second)):
        return f"leg 2 ({_path(legs[1])}) does not carry the tool's output {script.secret!r}: {tool_results(second)}"
    return None


def _plain_legs(legs: list[dict[str, Any]]) -> str | None:
    if len(legs) != 1:
        return f"expected the plain turn as 1 request, got {len(legs)}: {' -> '.join(_path(e) for e in legs)}"
    if tool_results(legs[0].get("body")):
        return f"the plain turn's request carries tool results: {tool_results(legs[0].get('body'))}"
    return None


def _path(entry: dict[str, Any]) -> str:
    return str(entry.get("path", "")).split("?")[0]


def _isolated_env(home: Path, base: str, trap: str) -> dict[str, str]:
    """A clean environment: a private HOME, and every proxy-aware request that is not for the
    client's one base sent into the trap."""
    host = urllib.parse.urlsplit(base).hostname or ""
    names = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")
    return {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "HOME": str(home),
            "LANG": "C.UTF-8", "TERM": "dumb", "NO_COLOR": "1", "NO_PROXY": host, "no_proxy": host,
            **dict.fromkeys(names, trap)}


def describe(entry: dict[str, Any]) -> str:
    """One line for a request the shim got: method, path, and the body's shape."""
    body = entry.get("body")
    parts = [f"{entry.get('method', '?')} {entry.get('path', '?')}"]
    if isinstance(body, dict):
        for key in ("messages", "input", "contents"):
            if isinstance(body.get(key), list):
                parts.append(f"{len(body[key])} {key}")
        if body.get("model"):
            parts.append(f"model {body['model']}")
        parts.append(f"{len(offered_tools(body))} tools")
        parts.append(f"{len(tool_results(body))} tool results")
        if body.get("stream"):
            parts.append("stream")
    return ", ".join(parts)


def last_error(output: str) -> str:
    """The client's own last error line: a JSON event's error message, or the last line that
    reads like an error, else its last line."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    for line in reversed(lines):
        said = _event_error(line) if line.startswith("{") else (line if _ERROR.search(line) else "")
        if said:
            return said[:240]
    return f"(none; its last line: {lines[-1][:160]})" if lines else "(it printed nothing)"


def _event_error(line: str) -> str:
    try:
        event = json.loads(line)
    except ValueError:
        return line if _ERROR.search(line) else ""
    if not isinstance(event, dict):
        return ""
    error = event.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error.get("data") or error)
    if error or event.get("is_error") or event.get("type") == "error" or event.get("status") == "error":
        return str(error or event.get("result") or event.get("message") or event)
    return ""


def offered_tools(body: Any) -> list[str]:
    """Tool names a request offers, in any of the four wire formats (Gemini: functionDeclarations)."""
    names: list[Any] = []
    for tool in body.get("tools") or [] if isinstance(body, dict) else []:
        if not isinstance(tool, dict):
            continue
        declarations = tool.get("functionDeclarations") or tool.get("function_declarations")
        if isinstance(declarations, list):
            names += [d.get("name") for d in declarations if isinstance(d, dict)]
            continue
        function = tool.get("function")
        names.append(function.get("name") if isinstance(function, dict) else tool.get("name") or tool.get("type"))
    return [str(n) for n in names if n]


def tool_results(body: Any) -> list[str]:
    """The text of each tool result a request carries: chat ``role: tool`` messages, Responses
    ``*_output`` items, Messages ``tool_result`` blocks, Gemini ``functionResponse`` parts."""
    if not isinstance(body, dict):
        return []
    found = [*_message_results(body.get("messages")), *_output_items(body.get("input")),
             *_function_responses(body.get("contents"))]
    return [_text(f) for f in found]


def _message_results(messages: Any) -> list[Any]:
    """Chat ``role: tool`` messages' content, and Messages ``tool_result`` blocks' content."""
    found: list[Any] = []
    for message in messages or []:
        if not isinstance(message, dict):
            continue
        if message.get("role") == "tool":
            found.append(message.get("content"))
        elif isinstance(message.get("content"), list):
            found += [block.get("content") for block in message["content"]
                      if isinstance(block, dict) and block.get("type") == "tool_result"]
    return found


def _output_items(items: Any) -> list[Any]:
    """Responses ``*_output`` items' output."""
    if not isinstance(items, list):
        return []
    return [item.get("output") for item in items
            if isinstance(item, dict) and str(item.get("type", "")).endswith("_output")]


def _function_responses(contents: Any) -> list[Any]:
    """Gemini ``functionResponse`` (or ``function_response``) parts' response."""
    found: list[Any] = []
    for content in contents or []:
        for part in content.get("parts") or [] if isinstance(content, dict) else []:
            response = part.get("functionResponse") or part.get("function_response") if isinstance(part, dict) else None
            if isinstance(response, dict):
                found.append(response.get("response"))
    return found


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(_text(part.get("text", "")) if isinstance(part, dict) else _text(part) for part in content)
    return "" if content is None else json.dumps(content)
