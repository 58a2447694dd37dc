"""The run's configuration: flags, the environment, ``[tool.bed]`` / ``bed.toml`` and defaults,
read once into a frozen Config.

Precedence: a flag beats the environment, which beats the project file, which beats the
default. Every setting is one row of SETTINGS (its file key, its variable, its flag, its
default and its parser), so ``bed env`` can show each value with the source it came from,
and nothing else in bed reads ``os.environ``.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import secrets
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..policy import release
from ..runner import bed_shards
from . import addopts, clients, paths, values
from . import bases as _bases
from .agent import Agent
from .gateway import PINNED, PINNED_GATEWAY, Gateway
from .router import DEFAULT_GROUP

TIERS = ("deterministic", "nd", "agents", "release")
GATES = {"dev": ("deterministic",), "core": TIERS, "deploy": TIERS}
EXPECTABLE = (*TIERS, "shim", "proxy", *release.PROVIDERS)
DEFAULT_BASE_IMAGE = "debian:bookworm-slim"
MAX_PROJECT_FILE = 256 * 1024
MAX_CA_BUNDLE = 16 * 1024 * 1024  # the host's bundle is about 200 KB
MAX_REQUIREMENTS = 256 * 1024
MAX_SHARDS = 1000


@dataclasses.dataclass(frozen=True)
class Setting:
    key: str  # its name in [tool.bed] / bed.toml
    env: str | None  # its environment variable
    default: Any
    doc: str
    flag: str | None = None


SETTINGS = (
    Setting("strict", "STRICT", False, "1: config drift is a CONFIG_ERROR and a down dependency fails instead of "
            "skipping.", "--strict"),
    Setting("live_providers", "LIVE_PROVIDERS", False,
            "1: run the release tier's live-provider smokes (each also needs its key). Default 0."),
    Setting("expect", "READINESS_EXPECT", (), "Comma list of tiers, services or live providers (deterministic, nd, "
            "agents, release, shim, proxy, openai, anthropic, gemini, ...) that must run and pass."),
    Setting("disable_timeout", "READINESS_DISABLE_TIMEOUT", False,
            "1: lift the tier budgets (waits for containers stay bounded)."),
    Setting("workers", "PYTEST_XDIST_AUTO_NUM_WORKERS", None,
            "Parallel pytest workers in the runner (capped at the engine's cores)."),
    Setting("nd_timeout", "ALL_SMOKES_ND_TIMEOUT", 1200.0, "Budget in seconds for each ND shard. Default 1200."),
    Setting("pytest_addopts", "PYTEST_ADDOPTS", "",
            "Extra pytest options for the ND tier (for example -k 'not shard_b'); passed to the runner."),
    Setting("router_config", "BED_ROUTER_CONFIG", None,
            "Path to your own LiteLLM config to validate and use.", "--router-config"),
    Setting("group", "BED_ROUTER_GROUP", DEFAULT_GROUP, "The model group to ensure. Default codex-agent-1."),
    Setting("base_image", "BED_BASE_IMAGE", DEFAULT_BASE_IMAGE,
            f"Base image for the bed images. Default {DEFAULT_BASE_IMAGE}; bootstrapped offline when it cannot "
            "be pulled."),
    Setting("ca_bundle", "BED_CA_BUNDLE", None,
            "Extra CA bundle for pip inside image builds (corporate proxy). Default: the host's bundle."),
    Setting("wait_timeout", "BED_WAIT_TIMEOUT", 120.0,
            "Budget in seconds for each container's health wait. Default 120."),
    Setting("runner_memory", "BED_RUNNER_MEMORY", "2g",
            "Memory limit of each runner container (docker syntax: 512m, 2g; at least 6m). Default 2g."),
    Setting("artifacts_dir", "BED_ARTIFACTS_DIR", "local/artifacts/mvp",
            "Where reports go. Default local/artifacts/mvp."),
    Setting("flake_store", "BED_FLAKE_STORE", "local/flakes.json",
            "Flake history kept between runs (cache it in CI). Default local/flakes.json."),
    Setting("repromote_after", "BED_REPROMOTE_AFTER", 5,
            "Consecutive clean runs that take a test out of quarantine. Default 5."),
    Setting("suite", "BED_SUITE", None, "Your own tests to run instead of bed's, by marker.", "--suite"),
    Setting("suite_exclude", "BED_SUITE_EXCLUDE", (), "Glob patterns of the project's files that are not the "
            "suite and stay out of the runner (data/*,*.parquet); VCS folders, virtualenvs and caches always do."),
    Setting("agent", "BED_AGENT", None, "Your agent instead of the bed shim: an image (in [tool.bed]: "
            "{ image = ..., port = 8788, health = \"/health\" }). Smokes that need the shim's faults skip loudly."),
    Setting("requirements", "BED_REQUIREMENTS", None, "Your suite's extra packages: a requirements file (or, in "
            "[tool.bed], a list), installed into a derived runner image. Default: requirements.txt beside the suite."),
    Setting("release_models", "BED_RELEASE_MODELS", None, "The release tier's default models when your router "
            "config names no live deployment: openai=...,anthropic=...,gemini=... (a table in [tool.bed])."),
    Setting("agents", "BED_AGENTS", None, "The agent clients' versions the agents tier drives, several of one agent "
            "allowed: claude-code@2.1.300,claude-code@2.1.328,gemini-cli@0.61.0 (in [tool.bed]: { claude-code = "
            "[\"2.1.300\", \"2.1.328\"] }). Agents not named run at the version "
            "images/clients/package-lock.json pins; [] leaves one out."),
    Setting("agent_turns", "BED_AGENT_TURNS", ("tool",), "The kinds of turn each agent cell runs: tool (a "
            "tool-calling turn; the default) and plain (a text answer), comma list."),
    Setting("litellm", "BED_LITELLM", None, f"The gateway under test: a release ({PINNED}), a fork checkout "
            "(path:../litellm; in [tool.bed]: { path = \"../litellm\" }) or an image (image:repo/gw:tag). "
            f"Default {PINNED}.", "--litellm"),
)
SETTING = {s.key: s for s in SETTINGS}
# Sub-tables of [tool.bed] (sections of bed.toml) that one command reads itself, not settings:
# project_file() lets them through, and that command checks their keys.
TABLES: dict[str, str] = {
    "compare": "bed compare: the gateways to compare (litellm = [...]), gate, jobs",
}

# Read directly (not settings): the one base, and what CI systems set.
OTHER_VARS: dict[str, str] = {
    "MINI_AGENT_API_BASE": "The one base of the mini-agent shim: http://127.0.0.1:PORT (published on the host) "
    "or http://mini-agent:8788 (the bed network). Default: the shim on a free loopback port.",
    "CODEX_AGENT_API_BASE": "Forced to MINI_AGENT_API_BASE; a different value is a warning, "
    "or a CONFIG_ERROR under STRICT=1.",
    "DOCKER_HOST": "The engine to use (unix socket, tcp://, ssh://). Default: the local socket.",
    "GITHUB_ACTIONS": "true (set by GitHub Actions): CAUSE lines become ::error annotations.",
    "GITHUB_STEP_SUMMARY": "Set by GitHub Actions: PROJECT_READY.md is appended to the job summary.",
    "NO_COLOR": "Any non-empty value: no colour in bed's output (--color beats it).",
    "FORCE_COLOR": "Any value but 0: colour even when the output is not a terminal (NO_COLOR and --color beat it).",
}
ENV_VARS: dict[str, str] = {**{s.env: s.doc for s in SETTINGS if s.env}, **OTHER_VARS}
# What a report's repro record may carry, and all `bed repro` takes from one: the settings that shape
# the run. A report is data, never this machine's configuration: the engine (DOCKER_HOST), where
# reports, the flake book and the CA bundle are, and secrets stay the user's own; the router config
# and the suite come from the report's own fields (router_yaml, suite).
REPRO_ENV = ("STRICT", "LIVE_PROVIDERS", "READINESS_EXPECT", "READINESS_DISABLE_TIMEOUT",
             "PYTEST_XDIST_AUTO_NUM_WORKERS", "ALL_SMOKES_ND_TIMEOUT", "PYTEST_ADDOPTS", "BED_ROUTER_GROUP",
             "BED_BASE_IMAGE", "BED_WAIT_TIMEOUT", "BED_RUNNER_MEMORY", "BED_AGENT", "BED_REQUIREMENTS",
             "BED_RELEASE_MODELS", "BED_LITELLM", "MINI_AGENT_API_BASE", "CODEX_AGENT_API_BASE", "BED_AGENTS",
             "BED_AGENT_TURNS", "BED_SUITE_EXCLUDE")


@dataclasses.dataclass(frozen=True)
class Value:
    raw: Any
    source: str  # "flag", "env", "pyproject.toml", "bed.toml" or "default"
    where: str  # how a message names it: --suite, BED_SUITE, [tool.bed] suite


@dataclasses.dataclass(frozen=True)
class Sources:
    """Where each setting's raw value comes from, highest precedence first."""

    flags: Mapping[str, Any]
    environ: Mapping[str, str]
    file: Mapping[str, Any]
    file_name: str  # "pyproject.toml", "bed.toml" or ""

    def value(self, key: str) -> Value:
        setting = SETTING[key]
        if key in self.flags and self.flags[key] is not None:
            return Value(self.flags[key], "flag", setting.flag or key)
        if setting.env and setting.env in self.environ:
            return Value(self.environ[setting.env], "env", setting.env)
        if key in self.file:
            where = f"[tool.bed] {key}" if self.file_name == "pyproject.toml" else f"bed.toml: {key}"
            return Value(self.file[key], self.file_name, where)
        return Value(setting.default, "default", setting.env or key)


@dataclasses.dataclass(frozen=True)
class Config:
    root: Path  # the working directory: reports and .artifacts/ go here
    run_id: str
    tiers: tuple[str, ...]
    strict: bool
    live_providers: bool
    expect: tuple[str, ...]
    disable_timeout: bool
    workers: int | None
    det_budget_s: float
    nd_budget_s: float
    wait_budget_s: float
    pytest_addopts: str
    bases: _bases.Bases
    group: str
    router_config: Path | None
    base_image: str
    ca_bundle: Path | None
    artifacts_dir: Path
    keep: bool = False
    verbose: bool = False  # -v: third-party warnings shown, not summarised
    reuse: bool = False  # --reuse: run on the stack kept by `bed up`
    shard: tuple[int, int] | None = None  # ND shard I of N
    pytest_args: tuple[str, ...] = ()  # `bed run -- ARGS`: pytest's arguments for every tier's session
    runner_memory: str = "2g"
    suite: Path | None = None  # a project's own tests, run by marker instead of bed's tiers
    suite_exclude: tuple[str, ...] = ()  # glob patterns of the project's files left out of the runner
    flake_store: Path = Path("local/flakes.json")
    repromote_after: int = 5
    gateway: Gateway = PINNED_GATEWAY
    agent: Agent | None = None  # your agent instead of the shim
    agent_versions: clients.AgentVersions = dataclasses.field(default_factory=clients.default)  # the agents tier's
    agent_turns: tuple[str, ...] = ("tool",)  # the kinds of turn of each agent cell: tool, plain
    requirements: tuple[str, ...] = ()  # your suite's extra packages (requirement lines)
    release_models: Mapping[str, str] = dataclasses.field(default_factory=lambda: release.models(None))
    # A compare leg: PROJECT_READY.md and .artifacts/ go here instead of the project root, so legs
    # that run side by side never write the same file; and its images are not tagged `:current`
    # (compose's names stay the project's gateway's).
    outputs_dir: Path | None = None
    sources: Mapping[str, Value] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @property
    def source(self) -> Path:
        """bed's own package folder: image contexts and the runner's files are read from here."""
        return Path(__file__).resolve().parents[1]

    @property
    def stub_path(self) -> Path:
        return state_folder(self.outputs_dir or self.root) / "router_stub.yaml"

    @property
    def master_key_path(self) -> Path:
        """A kept stack's master key (0600): `bed up` writes it, `bed down` removes it."""
        return master_key_path(self.root)

    @property
    def report_path(self) -> Path:
        return self.artifacts_dir / "mvp_report.json"

    @property
    def ready_md_path(self) -> Path:
        return (self.outputs_dir or self.root) / "PROJECT_READY.md"

    @property
    def durations_path(self) -> Path:
        """Recorded test durations, kept between runs, that balance the ND shards."""
        return self.artifacts_dir / "durations.json"

    @property
    def junit_dir(self) -> Path:
        return self.artifacts_dir / "junit"

    def junit_path(self, check: str) -> Path:
        return self.junit_dir / f"{check}.xml"

    def shown(self, path: Path) -> str:
        """A path as a user reads it: relative to the working directory when inside it."""
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str],
        *,
        root: Path | None = None,
        gate: str = "core",
        tiers: tuple[str, ...] | None = None,
        strict: bool | None = None,
        router_config: str | None = None,
        keep: bool = False,
        shard: str | None = None,
        suite: str | None = None,
        verbose: bool = False,
        reuse: bool = False,
        litellm: str | None = None,
    ) -> Config:
        root = (root or Path.cwd()).resolve()
        file_name, file = project_file(root)
        flags = {"strict": strict, "router_config": router_config, "suite": suite, "litellm": litellm}
        config = build(Sources(flags, environ, file, file_name), root=root, gate=gate, tiers=tiers, keep=keep,
                       shard=shard)
        return dataclasses.replace(config, verbose=verbose, reuse=reuse)


def state_folder(root: Path) -> Path:
    """bed's own working files of a project (the router config it generated, a kept stack's record
    and key): ``.artifacts/`` in the project's folder."""
    return root / ".artifacts"


def master_key_path(root: Path) -> Path:
    return state_folder(root) / "master_key"


def build(sources: Sources, *, root: Path, gate: str, tiers: tuple[str, ...] | None, keep: bool,
          shard: str | None) -> Config:
    """Every setting parsed from its source; the first bad one is a CONFIG_ERROR."""
    if gate not in GATES:
        raise ConfigError(f"unknown gate {gate!r}.", hint=f"use one of: {', '.join(GATES)}.")
    chosen = _tiers(tiers, gate)
    get = _Getter(sources)
    is_strict = gate == "deploy" or get("strict", values.switch)
    group = get("group", lambda w, r: values.name(w, r, example=DEFAULT_GROUP))
    router_raw = get("router_config", lambda w, r: None if r is None else values.path_value(w, r))
    ca_raw = get("ca_bundle", lambda w, r: None if r in (None, "") else values.path_value(w, r))
    ca_bundle = root / Path(ca_raw).expanduser() if ca_raw else None
    agent = get("agent", lambda w, r: Agent.parse(r, w))
    suite = _suite(root, get("suite", lambda w, r: None if r is None else values.path_value(w, r)))
    if ca_bundle is not None:  # read once here, so a FIFO, a device or a huge file is refused before anything starts
        paths.read_bounded(ca_bundle, MAX_CA_BUNDLE, f"CA bundle ({get.seen['ca_bundle'].where})",
                           hint="point it at a PEM bundle, or unset it to use the host's.")
    return Config(
        root=root,
        run_id=secrets.token_hex(4),
        tiers=chosen,
        strict=is_strict,
        live_providers=get("live_providers", values.switch),
        expect=get("expect", lambda w, r: values.words(w, r, allowed=EXPECTABLE)),
        disable_timeout=get("disable_timeout", values.switch),
        workers=get("workers", lambda w, r: None if r in (None, "") else values.count(w, r, default=2)),
        det_budget_s=600.0,
        nd_budget_s=get("nd_timeout", lambda w, r: values.seconds(w, r, default=1200)),
        wait_budget_s=get("wait_timeout", lambda w, r: values.seconds(w, r, default=120)),
        pytest_addopts=get("pytest_addopts", lambda w, r: addopts.check(values.text(w, r), suite=suite is not None)),
        bases=_bases.resolve(sources.environ, strict=is_strict, group=group, port=agent.port if agent else None),
        group=group,
        router_config=(root / router_raw) if router_raw else None,
        base_image=get("base_image", values.text).strip() or DEFAULT_BASE_IMAGE,
        ca_bundle=ca_bundle,
        artifacts_dir=root / get("artifacts_dir", values.path_value),
        keep=keep,
        shard=_shard(shard),
        runner_memory=get("runner_memory", lambda w, r: values.memory(w, r, default="2g")),
        suite=suite,
        suite_exclude=get("suite_exclude", values.patterns),
        flake_store=root / get("flake_store", values.path_value),
        repromote_after=get("repromote_after", lambda w, r: values.count(w, r, default=5)),
        gateway=get("litellm", lambda w, r: Gateway.parse(r, root=root, where=w)) or PINNED_GATEWAY,
        agent=agent,
        agent_versions=get("agents", clients.parse) or clients.default(),
        agent_turns=get("agent_turns", lambda w, r: values.words(w, r, allowed=clients.TURNS)) or ("tool",),
        release_models=release.models(get("release_models", _release_models)),
        requirements=_requirements(root, suite, get("requirements", lambda w, r: (w, r))),
        sources=get.seen,
    )


class _Getter:
    """Parses each setting from the source that wins, remembering where it came from."""

    def __init__(self, sources: Sources) -> None:
        self.sources = sources
        self.seen: dict[str, Value] = {}

    def __call__(self, key: str, parse: Callable[[str, Any], Any]) -> Any:
        value = self.sources.value(key)
        self.seen[key] = value
        if value.source == "default":
            return value.raw
        return parse(value.where, value.raw)


def _tiers(tiers: tuple[str, ...] | None, gate: str) -> tuple[str, ...]:
    if tiers is None:
        return GATES[gate]
    if not tiers:
        raise ConfigError("--tier names no tier.", hint=f"give a comma list of: {', '.join(TIERS)}.")
    for tier in tiers:
        if tier not in TIERS:
            raise ConfigError(f"unknown tier {tier!r}.", hint=f"use one of: {', '.join(TIERS)}.")
    return tuple(dict.fromkeys(tiers))


def project_file(root: Path) -> tuple[str, dict[str, Any]]:
    """``[tool.bed]`` of ./pyproject.toml, else ./bed.toml, else nothing; unknown keys refused."""
    pyproject, standalone = root / "pyproject.toml", root / "bed.toml"
    if pyproject.exists():  # a FIFO or a folder by that name is refused by the reader, not skipped
        table = _toml(pyproject).get("tool", {}).get("bed")
        if table is not None:
            return "pyproject.toml", _checked(table, "[tool.bed]", pyproject)
    if standalone.exists():
        return "bed.toml", _checked(_toml(standalone), "bed.toml", standalone)
    return "", {}


def _toml(path: Path) -> dict[str, Any]:
    text = paths.read_text(path, MAX_PROJECT_FILE, "project file",
                           hint="make it a readable TOML file, or move it aside.")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML ({exc}).", hint="fix the line it names.") from None


def _checked(table: object, where: str, path: Path) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where} is not a table.", hint="write it as a [tool.bed] section.")
    for key, value in table.items():
        if key in TABLES:
            if not isinstance(value, dict):
                inner = f"[tool.bed.{key}]" if where == "[tool.bed]" else f"[{key}]"
                raise ConfigError(f"{path}: {where} {key} is not a table.", hint=f"write it as a {inner} section.")
            continue
        if key not in SETTING:
            known = [*SETTING, *TABLES]
            near = difflib.get_close_matches(key, known, n=1)
            maybe = f"did you mean {near[0]!r}? " if near else ""
            raise ConfigError(f"{path}: {where} has an unknown key {key!r}.",
                              hint=f"{maybe}the keys are: {', '.join(known)}.")
    return dict(table)


def _release_models(where: str, raw: Any) -> Mapping[str, str] | str:
    items = raw.items() if isinstance(raw, Mapping) else (
        item.split("=", 1) for item in values.text(where, raw).split(",") if item.strip())
    checked = {}
    for pair in items:
        provider, model = (str(pair[0]).strip(), str(pair[1]).strip()) if len(pair) == 2 else ("", "")
        if provider not in release.DEFAULTS or not model or any(c.isspace() for c in model):
            raise ConfigError(f"{where}: {'='.join(map(str, pair))!r} is not provider=model.",
                              hint="write it like openai=gpt-4.1-mini; the providers are "
                                   f"{', '.join(release.DEFAULTS)}.")
        checked[provider] = model
    return checked


def _requirements(root: Path, suite: Path | None, given: tuple[str, Any] | None) -> tuple[str, ...]:
    """Requirement lines: a list in [tool.bed], a file named by the setting, or requirements.txt beside the suite.
    Both forms follow one rule (``_requirement``)."""
    if given is None:
        beside = suite / "requirements.txt" if suite is not None else None
        return _requirement_file(beside, str(beside)) if beside is not None and beside.exists() else ()
    where, raw = given
    if isinstance(raw, list):
        if not all(isinstance(x, str) and x.strip() and "\n" not in x for x in raw):
            raise ConfigError(f"{where} must list requirement strings.", hint='write requirements = ["httpx>=0.28"].')
        return tuple(_requirement(x.strip(), where) for x in raw)
    return _requirement_file(root / values.path_value(where, raw), where)


def _requirement_file(path: Path, where: str) -> tuple[str, ...]:
    what = "requirements file" if where == str(path) else f"requirements file ({where})"
    text = paths.read_text(path, MAX_REQUIREMENTS, what,
                           hint="point it at a pip requirements file (name==version lines).")
    joined = re.sub(r"\\\r?\n", " ", text)  # pip's line continuation
    lines = (re.sub(r"(^|\s)#.*", "", ln).strip() for ln in joined.splitlines())  # pip's comments
    return tuple(_requirement(line, where if where == str(path) else f"{where} ({path})") for line in lines if line)


_LOCAL_OPTIONS = ("-e", "--editable", "-r", "--requirement", "-c", "--constraint")
_HASH = re.compile(r"--hash=[a-z0-9]+:[0-9a-fA-F]+")


def _requirement(line: str, where: str) -> str:
    """One requirement line, from the list or the file alike: a package from the index the runner image
    uses (``name==version``, extras, markers, ``--hash``; a URL), never a pip option nor a local path.
    An option changes where pip fetches from or what it trusts (``--index-url``, ``--trusted-host``), and
    a path (``-e /etc``, ``./pkg``, ``file:``) names this machine's files, which the image build cannot see."""
    head, *options = line.split()
    if head.split("=")[0] in _LOCAL_OPTIONS:
        raise ConfigError(f"{where}: {line!r} refers to local files, which the runner image cannot see.",
                          hint="list packages from an index (name==version); vendor local code into the suite.")
    if head.startswith("-"):
        raise ConfigError(f"{where}: {line!r} is a pip option, not a requirement.",
                          hint="list packages as name==version lines; the runner image's pip uses bed's index "
                               "and CA bundle, and vendor local code into the suite.")
    local = head.startswith((".", "/", "~", "file:")) or re.search(r"@\s*file:", line) \
        or ("/" in head and "://" not in line)
    if local:
        raise ConfigError(f"{where}: {line!r} refers to local files, which the runner image cannot see.",
                          hint="list packages from an index (name==version); vendor local code into the suite.")
    bad = next((o for o in options if o.startswith("-") and not _HASH.fullmatch(o)), None)
    if bad is not None:
        raise ConfigError(f"{where}: {line!r} carries the pip option {bad!r}; only --hash=ALGO:HEX may follow a "
                          "requirement.", hint="list packages as name==version lines, with --hash if you pin hashes.")
    return line


def project_table(root: Path, name: str) -> tuple[str, dict[str, Any]]:
    """A command's own sub-table (``[tool.bed.compare]``, or ``[compare]`` in bed.toml): how a
    message names it, and its content ({} when absent). Its keys are the command's to check."""
    assert name in TABLES, name
    file_name, file = project_file(root)
    where = f"bed.toml [{name}]" if file_name == "bed.toml" else f"[tool.bed.{name}]"
    return where, dict(file.get(name, {}))


def _suite(root: Path, raw: str | None) -> Path | None:
    if raw is None:
        return None
    path = (root / raw).resolve()
    if not path.is_dir():
        raise ConfigError(f"suite {raw}: {path} is not a folder.",
                          hint="point --suite at the folder that holds your tests.")
    return path


def _shard(spec: str | None) -> tuple[int, int] | None:
    if spec is None:
        return None
    if not re.fullmatch(r"\s*[0-9]+\s*/\s*[0-9]+\s*", spec):  # ASCII digits: str.isdigit takes superscripts
        raise ConfigError(f"--shard {spec!r} is not I/N.", hint="write it as I/N, for example --shard 1/2.")
    try:
        index, total = bed_shards.parse(spec)
    except ValueError as exc:
        raise ConfigError(f"--shard: {exc}.", hint="write it as I/N, for example --shard 1/2.") from None
    if total > MAX_SHARDS:  # each shard is a runner and a share of the suite: beyond this it is a typo
        raise ConfigError(f"--shard {spec}: {total} shards is more than bed splits a tier into (at most {MAX_SHARDS}).",
                          hint="split the ND tier into as many shards as your CI has jobs, like --shard 1/4.")
    return index, total
