"""The run's configuration: the environment and CLI flags, read once into a frozen Config.

Nothing else in bed reads ``os.environ``; every variable bed reads is listed in ENV_VARS
(and in the README, which a test keeps in step with this table).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Mapping
from pathlib import Path

from . import _bases, _shards
from ._errors import ConfigError
from ._router import DEFAULT_GROUP

TIERS = ("deterministic", "nd", "release")
GATES = {"dev": ("deterministic",), "core": TIERS, "deploy": TIERS}
EXPECTABLE = (*TIERS, "shim", "proxy")
DEFAULT_BASE_IMAGE = "debian:bookworm-slim"
SOURCE = Path(__file__).resolve().parents[1]

ENV_VARS: dict[str, str] = {
    "MINI_AGENT_API_BASE": "The one base of the mini-agent shim: http://127.0.0.1:PORT (published on the host) "
    "or http://mini-agent:8788 (the bed network). Default: the shim on a free loopback port.",
    "CODEX_AGENT_API_BASE": "Forced to MINI_AGENT_API_BASE; a different value is a warning, "
    "or a CONFIG_ERROR under STRICT=1.",
    "STRICT": "1: config drift is a CONFIG_ERROR and a down dependency fails instead of skipping.",
    "LIVE_PROVIDERS": "1: run the release tier's live-provider smokes (each also needs its key). Default 0.",
    "READINESS_EXPECT": "Comma list of tiers or services (deterministic, nd, release, shim, proxy) "
    "that must run and pass.",
    "READINESS_DISABLE_TIMEOUT": "1: lift the tier budgets (waits for containers stay bounded).",
    "PYTEST_XDIST_AUTO_NUM_WORKERS": "Parallel pytest workers in the runner (capped at the machine's cores).",
    "ALL_SMOKES_ND_TIMEOUT": "Budget in seconds for each ND shard. Default 1200.",
    "PYTEST_ADDOPTS": "Extra pytest options for the ND tier (for example -k 'not shard_b'); passed to the runner.",
    "BED_ROUTER_CONFIG": "Path to your own LiteLLM config to validate and use (same as --router-config).",
    "BED_ROUTER_GROUP": "The model group to ensure. Default codex-agent-1.",
    "BED_BASE_IMAGE": f"Base image for the bed images. Default {DEFAULT_BASE_IMAGE}; "
    "bootstrapped offline when it cannot be pulled.",
    "BED_CA_BUNDLE": "Extra CA bundle for pip inside image builds (corporate proxy). Default: the host's bundle.",
    "BED_WAIT_TIMEOUT": "Budget in seconds for each container's health wait. Default 120.",
    "BED_RUNNER_MEMORY": "Memory limit of each runner container (docker syntax: 512m, 2g). Default 2g.",
    "BED_ARTIFACTS_DIR": "Where reports go. Default local/artifacts/mvp.",
    "BED_FLAKE_STORE": "Flake history kept between runs (cache it in CI). Default local/flakes.json.",
    "BED_REPROMOTE_AFTER": "Consecutive clean runs that take a test out of quarantine. Default 5.",
    "GITHUB_ACTIONS": "true (set by GitHub Actions): CAUSE lines become ::error annotations.",
    "GITHUB_STEP_SUMMARY": "Set by GitHub Actions: PROJECT_READY.md is appended to the job summary.",
}


@dataclasses.dataclass(frozen=True)
class Config:
    root: Path  # the working directory: reports and .artifacts/ go here
    source: Path  # bed's own checkout: images/ and tests/tiers/ are read from here
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
    shard: tuple[int, int] | None = None  # ND shard I of N
    runner_memory: str = "2g"
    suite: Path | None = None  # a project's own tests, run by marker instead of bed's tiers
    flake_store: Path = Path("local/flakes.json")
    repromote_after: int = 5

    @property
    def stub_path(self) -> Path:
        return self.root / ".artifacts" / "router_stub.yaml"

    @property
    def report_path(self) -> Path:
        return self.artifacts_dir / "mvp_report.json"

    @property
    def ready_md_path(self) -> Path:
        return self.root / "PROJECT_READY.md"

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
    ) -> Config:
        root = (root or Path.cwd()).resolve()
        if gate not in GATES:
            raise ConfigError(f"unknown gate {gate!r}.", hint=f"use one of: {', '.join(GATES)}.")
        chosen = tiers or GATES[gate]
        for tier in chosen:
            if tier not in TIERS:
                raise ConfigError(f"unknown tier {tier!r}.", hint=f"use one of: {', '.join(TIERS)}.")
        is_strict = _flag(environ, "STRICT") if strict is None else strict
        if gate == "deploy":
            is_strict = True
        group = environ.get("BED_ROUTER_GROUP", DEFAULT_GROUP).strip()
        if not group or any(c in group for c in " /:\t"):
            raise ConfigError(f"BED_ROUTER_GROUP={group!r} is not a model group name.",
                              hint="use a name like codex-agent-1 (no spaces, slashes or colons).")
        expect = tuple(x.strip() for x in environ.get("READINESS_EXPECT", "").split(",") if x.strip())
        for name in expect:
            if name not in EXPECTABLE:
                raise ConfigError(f"READINESS_EXPECT names {name!r}, which bed does not know.",
                                  hint=f"use a comma list of: {', '.join(EXPECTABLE)}.")
        router_raw = router_config if router_config is not None else environ.get("BED_ROUTER_CONFIG")
        ca_raw = environ.get("BED_CA_BUNDLE")
        ca_bundle = Path(ca_raw).expanduser() if ca_raw else None
        if ca_bundle is not None and not ca_bundle.is_file():
            raise ConfigError(f"BED_CA_BUNDLE={ca_raw} is not a readable file.",
                              hint="point it at a PEM bundle, or unset it to use the host's.")
        return cls(
            root=root,
            source=SOURCE,
            run_id=secrets.token_hex(4),
            tiers=tuple(chosen),
            strict=is_strict,
            live_providers=_flag(environ, "LIVE_PROVIDERS"),
            expect=expect,
            disable_timeout=_flag(environ, "READINESS_DISABLE_TIMEOUT"),
            workers=_workers(environ),
            det_budget_s=600.0,
            nd_budget_s=_seconds(environ, "ALL_SMOKES_ND_TIMEOUT", 1200.0),
            wait_budget_s=_seconds(environ, "BED_WAIT_TIMEOUT", 120.0),
            pytest_addopts=environ.get("PYTEST_ADDOPTS", ""),
            bases=_bases.resolve(environ, strict=is_strict, group=group),
            group=group,
            router_config=(root / router_raw) if router_raw else None,
            base_image=environ.get("BED_BASE_IMAGE", DEFAULT_BASE_IMAGE).strip() or DEFAULT_BASE_IMAGE,
            ca_bundle=ca_bundle,
            artifacts_dir=root / environ.get("BED_ARTIFACTS_DIR", "local/artifacts/mvp"),
            keep=keep,
            shard=_shard(shard),
            runner_memory=_memory(environ, "BED_RUNNER_MEMORY", "2g"),
            suite=_suite(root, suite),
            flake_store=root / environ.get("BED_FLAKE_STORE", "local/flakes.json"),
            repromote_after=_count(environ, "BED_REPROMOTE_AFTER", 5),
        )


def _memory(environ: Mapping[str, str], name: str, default: str) -> str:
    raw = environ.get(name, "").strip().lower() or default
    number, unit = raw[:-1], raw[-1]
    if unit.isdigit():
        number, unit = raw, "b"
    if not number.isdigit() or unit not in "bkmg" or int(number) == 0:
        raise ConfigError(f"{name}={raw!r} is not a memory size.",
                          hint=f"write it like 512m or 2g (default {default}).")
    return raw


def _count(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name}={raw!r} is not a positive whole number.", hint=f"set it to 1 or more ({default}).")
    return int(raw)


def _suite(root: Path, raw: str | None) -> Path | None:
    if raw is None:
        return None
    path = (root / raw).resolve()
    if not path.is_dir() or not any(path.rglob("test_*.py")):
        raise ConfigError(f"--suite {raw}: {path} is not a folder with test_*.py files.",
                          hint="point it at your tests; mark them deterministic, nd or release.")
    return path


def _shard(spec: str | None) -> tuple[int, int] | None:
    if spec is None:
        return None
    try:
        return _shards.parse(spec)
    except ValueError as exc:
        raise ConfigError(f"--shard: {exc}.", hint="write it as I/N, for example --shard 1/2.") from None


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={environ[name]!r} is not a switch.", hint=f"set {name}=1 or {name}=0.")


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ConfigError(f"{name}={raw!r} is not a positive number of seconds.", hint=f"set {name}=1200, say.")
    return value


def _workers(environ: Mapping[str, str]) -> int | None:
    raw = environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS", "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"PYTEST_XDIST_AUTO_NUM_WORKERS={raw!r} is not a positive whole number.",
                          hint="set it to 1 or more, or unset it.")
    return int(raw)
