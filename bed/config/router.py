"""The LiteLLM router config: the user's, validated, or a generated ``router_stub.yaml``.

Whatever the source, the proxy ends up with a model group (``codex-agent-1`` by default)
whose deployment is ``openai/<group>`` at the run's one network base. A missing group is
what made LiteLLM treat the name as a host; here it is either generated (and said so
loudly) or, under STRICT, a CONFIG_ERROR. The groups bed's own smokes drive besides it (the
chat bridge, the fallback, the codex-agent provider: all at the shim) are added to a user's
config that lacks them, loudly, so the ND tier judges the user's deployments rather than
failing on bed's missing groups.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError
from . import paths
from .bases import normalise

DEFAULT_GROUP = "codex-agent-1"
MAX_BYTES = 1024 * 1024  # a router config is a few KB; a bigger file is a mistake, refused at once
MAX_NESTING = 64  # flow brackets; LiteLLM configs nest a handful of levels, YAML's parser recurses per level
SHIM_API_KEY = "sk-mini-agent-not-a-secret"  # the shim checks no key; LiteLLM wants one set


PROVIDER = "codex-agent"  # the seed's provider: codex-agent/<model> to the one base, loaded by the proxy
PROVIDER_HANDLER = "bed_codex_agent.handler"  # bed/stack/providers/bed_codex_agent.py, next to router.yaml
MAX_MODULE_BYTES = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class RouterPlan:
    text: str  # the YAML the proxy gets
    source: str  # "generated" or the user's path
    notes: tuple[str, ...]  # what bed changed or generated, to be said loudly
    modules: tuple[tuple[str, bytes], ...] = ()  # provider and callback modules the config names, from its folder
    config: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)  # the parsed YAML

    @property
    def model_list(self) -> list[dict[str, Any]]:
        return list(self.config.get("model_list") or [])

    def extended(self, entries: list[dict[str, Any]], note: str, *, loud: bool = True) -> RouterPlan:
        """The same config with more deployments (bed's default live ones, the twin-pointed copies),
        said in its header; ``loud``: and among the notes the run prints and reports."""
        config = {**self.config, "model_list": [*self.model_list, *entries]}
        return dataclasses.replace(self, text=_render(config, note), notes=(*self.notes, note) if loud else self.notes,
                                   config=config)


def deployment(group: str, network_base: str) -> dict[str, Any]:
    return {
        "model_name": group,
        "litellm_params": {"model": f"openai/{group}", "api_base": network_base, "api_key": SHIM_API_KEY},
    }


def fallback_group(group: str) -> str:
    return f"{group}-fallback"


def bridge_group(group: str) -> str:
    """The group LiteLLM serves through its chat-completions bridge (see ``bridge``)."""
    return f"{group}-chat"


def bridge(group: str, network_base: str) -> dict[str, Any]:
    """A ``custom_openai/`` deployment: LiteLLM 1.108.7 bridges /v1/responses and /v1/messages to
    the upstream's /chat/completions for it, where ``openai/`` passes /v1/responses through (and
    adapts /v1/messages onto it). Both ways are where releases have regressed, so both are tested."""
    return {
        "model_name": bridge_group(group),
        "litellm_params": {"model": f"custom_openai/{bridge_group(group)}", "api_base": network_base,
                           "api_key": SHIM_API_KEY},
    }


def gemini_group(group: str) -> str:
    """The group of a ``gemini/`` deployment: LiteLLM passes the Gemini API (Gemini CLI) through natively."""
    return f"{group}-gemini"


def anthropic_group(group: str) -> str:
    """The group of an ``anthropic/`` deployment: LiteLLM passes Anthropic Messages (Claude Code) through."""
    return f"{group}-anthropic"


def native(group: str, provider: str, network_base: str) -> dict[str, Any]:
    """A deployment of ``provider`` at the shim: the agents tier's native route for that provider's API."""
    return {"model_name": group, "litellm_params": {"model": f"{provider}/{group}", "api_base": network_base,
                                                    "api_key": SHIM_API_KEY}}


def provider_group(group: str) -> str:
    """The group served by the codex-agent provider the proxy loads (``provider_deployment``)."""
    return f"{group}-provider"


def provider_deployment(group: str, network_base: str) -> dict[str, Any]:
    return {
        "model_name": provider_group(group),
        "litellm_params": {"model": f"{PROVIDER}/{group}", "api_base": network_base, "api_key": SHIM_API_KEY},
    }


def groups(group: str) -> tuple[str, ...]:
    """Every group of the generated config: what the shim lists as its models."""
    return (group, fallback_group(group), bridge_group(group), provider_group(group), gemini_group(group),
            anthropic_group(group))


def plan(user_path: Path | None, group: str, network_base: str, *, strict: bool) -> RouterPlan:
    if user_path is None:
        # The group (native pass-through), its chat-completions bridge, a fallback group on the
        # same shim, and retries: what the ND and agent tiers drive, with shim faults. The gemini/
        # and anthropic/ groups: the native routes of Gemini CLI and Claude Code.
        config = {
            "model_list": [deployment(group, network_base), bridge(group, network_base),
                           deployment(fallback_group(group), network_base),
                           provider_deployment(group, network_base),
                           native(gemini_group(group), "gemini", network_base),
                           native(anthropic_group(group), "anthropic", network_base)],
            "router_settings": {"num_retries": 2, "retry_after": 0,
                                "fallbacks": [{group: [fallback_group(group)]}]},
            "litellm_settings": _settings(),
        }
        reason = f"no router config was given; group {group!r} maps to {network_base}"
        return RouterPlan(_render(config, reason), "generated", (), config=config)
    config = _load(user_path)
    notes: list[str] = []
    entries = _model_list(config, user_path, group)
    mine = [e for e in entries if e.get("model_name") == group]
    if not mine:
        if strict:
            raise ConfigError(
                f"{user_path}: model_list has no entry with model_name {group!r}.",
                hint=f"add a model_list entry for {group!r} with api_base {network_base}, or unset STRICT.",
            )
        entries.append(deployment(group, network_base))
        notes.append(f"{user_path} lacks group {group!r}; generated it, mapped to {network_base}")
    for index, entry in enumerate(entries):
        if entry.get("model_name") == group:
            notes += _complete(entry, index, user_path, network_base, strict=strict)
    notes += _add_bed_groups(config, entries, group, network_base)
    reason = "; ".join(notes) if notes else f"validated copy of {user_path}"
    return RouterPlan(_render(config, reason), str(user_path), tuple(notes), named_modules(config, user_path.parent),
                      config)


def _complete(entry: dict[str, Any], index: int, path: Path, network_base: str, *, strict: bool) -> list[str]:
    """Make the group's entry a whole deployment at the run's base, saying what changed.

    Completed entries get everything LiteLLM needs (a model, the base, a key); an entry is
    never left half-done. Under STRICT nothing is completed or corrected: it is an error.
    """
    where = f"{path}: model_list[{index}]"
    params = entry.setdefault("litellm_params", {})
    notes = []
    if not params.get("model"):
        if strict:
            raise ConfigError(f"{where} ({entry['model_name']}) has no litellm_params.model.",
                              hint=f"add model: openai/{entry['model_name']} (STRICT=1 completes nothing).")
        params["model"] = f"openai/{entry['model_name']}"
        params.setdefault("api_key", SHIM_API_KEY)
        notes.append(f"{where} had no litellm_params.model; set to {params['model']}")
    given = params.get("api_base")
    if given is None or _same_base(str(given), network_base):
        params["api_base"] = network_base
        params.setdefault("api_key", SHIM_API_KEY)  # the shim checks none; LiteLLM's openai client wants one
        return notes
    if strict:
        raise ConfigError(f"{where}.litellm_params.api_base is {given}, but the run's base is {network_base}.",
                          hint="make them agree (set MINI_AGENT_API_BASE, or fix the file).")
    params["api_base"] = network_base
    return [*notes, f"{where}.litellm_params.api_base was {given}; forced to {network_base}"]


def _add_bed_groups(config: dict[str, Any], entries: list[dict[str, Any]], group: str,
                    network_base: str) -> list[str]:
    """bed's own smokes drive three groups besides ``group``, all at the shim: its chat bridge, its
    fallback (with the fallback rule) and the codex-agent provider (with its provider map entry). A
    user's config rarely has them; they are added, never replacing a group of the user's."""
    have = {e.get("model_name") for e in entries}
    wanted = [bridge(group, network_base), deployment(fallback_group(group), network_base),
              provider_deployment(group, network_base)]
    added = [d for d in wanted if d["model_name"] not in have]
    entries.extend(added)
    handlers = _list_in(config, "litellm_settings", "custom_provider_map")
    if not any(isinstance(h, dict) and h.get("provider") == PROVIDER for h in handlers):
        handlers.append({"provider": PROVIDER, "custom_handler": PROVIDER_HANDLER})
    rules = _list_in(config, "router_settings", "fallbacks")
    if not any(isinstance(r, dict) and group in r for r in rules):
        rules.append({group: [fallback_group(group)]})
    if not added:
        return []
    return [f"added bed's own group(s) {', '.join(d['model_name'] for d in added)} at {network_base} "
            "(bed's ND smokes drive them; your deployments are untouched)"]


def _list_in(config: dict[str, Any], section: str, key: str) -> list[Any]:
    """The list at ``config[section][key]``; where either is absent or not of its kind, an empty one put there."""
    if not isinstance(config.get(section), dict):
        config[section] = {}
    found = config[section].get(key)
    if isinstance(found, list):
        return found
    made: list[Any] = []
    config[section][key] = made
    return made


def _settings() -> dict[str, Any]:
    return {"drop_params": True, "telemetry": False,
            "custom_provider_map": [{"provider": PROVIDER, "custom_handler": PROVIDER_HANDLER}]}


def named_modules(config: dict[str, Any], folder: Path) -> tuple[tuple[str, bytes], ...]:
    """The Python files next to the user's config that it names as a provider or a callback
    (``module.attribute``): LiteLLM's proxy loads them from its config's folder, so they go there too."""
    names = _module_names(config.get("litellm_settings") or {})
    found: dict[str, bytes] = {}
    for name in names:
        module = folder / (name.split(".")[0] + ".py")
        if "." in name and os.path.lexists(module):  # absent: LiteLLM may import it from an installed package
            found[module.name] = paths.read_bounded(module, MAX_MODULE_BYTES, "provider module", hint=(
                f"the router config names {name}; make {module.name} beside it a Python file (or remove it)."))
    return tuple(sorted(found.items()))


def _module_names(settings: object) -> list[str]:
    """``module.attribute`` names the settings give as a provider handler or a callback."""
    if not isinstance(settings, dict):
        return []
    names = [e["custom_handler"] for e in settings.get("custom_provider_map") or []
             if isinstance(e, dict) and isinstance(e.get("custom_handler"), str)]
    for key in ("callbacks", "success_callback", "failure_callback"):
        value = settings.get(key)
        names += [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]
    return names


def _render(config: dict[str, Any], reason: str) -> str:
    header = (
        "# Generated by bed for this run; edits are overwritten.\n"
        f"# Why: {reason}.\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False)


def _load(path: Path) -> dict[str, Any]:
    raw = _read(path)
    if b"\x00" in raw:
        raise ConfigError(f"{path}: router config is a binary file, not YAML.",
                          hint="point --router-config / BED_ROUTER_CONFIG at your LiteLLM config.yaml.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: router config is not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x}).",
                          hint="save the file as UTF-8.") from None
    if _nesting(text) > MAX_NESTING:
        raise ConfigError(f"{path}: router config is nested too deeply to be a LiteLLM config.",
                          hint="a LiteLLM config is a few levels deep: model_list, router_settings, ...")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: router config is not valid YAML ({problem}).",
                          hint="fix the YAML at that line (a tab, or a missing ':' or quote?).") from None
    except RecursionError:
        raise ConfigError(f"{path}: router config is nested too deeply to be a LiteLLM config.",
                          hint="a LiteLLM config is a few levels deep: model_list, router_settings, ...") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: router config must be a YAML mapping with a model_list.",
                          hint="start the file with 'model_list:'.")
    return data


def _nesting(text: str) -> int:
    """The deepest run of open flow brackets, counted cheaply before the recursive parser sees them."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return deepest


def _read(path: Path) -> bytes:
    return paths.read_bounded(path, MAX_BYTES, "router config",
                              hint="check the path given with --router-config / BED_ROUTER_CONFIG (a YAML file).",
                              too_big="point it at your LiteLLM config.yaml (a few KB), not a data file.")


def _model_list(config: dict[str, Any], path: Path, group: str) -> list[dict[str, Any]]:
    """The entries, each checked for what LiteLLM needs to boot: a name and params with a model.

    The group's own entry may lack params or a model (bed completes it); any other entry must
    be whole, or the proxy would crash at boot.
    """
    entries = config.get("model_list")
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: model_list is missing or not a list.",
                          hint="add 'model_list:' with one '- model_name: ...' entry per deployment.")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("model_name"), str):
            raise ConfigError(f"{path}: model_list[{index}] has no model_name.",
                              hint="each entry needs 'model_name:' and 'litellm_params:'.")
        params = entry.get("litellm_params", {})
        if params is None and entry["model_name"] == group:
            entry.pop("litellm_params")
            continue
        if not isinstance(params, dict):
            raise ConfigError(f"{path}: model_list[{index}].litellm_params is not a mapping.",
                              hint="write litellm_params as 'key: value' lines.")
        model = params.get("model")
        if entry["model_name"] != group and (not isinstance(model, str) or not model.strip()):
            raise ConfigError(f"{path}: model_list[{index}] ({entry['model_name']}) has no litellm_params.model;"
                              " the proxy would crash at boot.",
                              hint="give it a model like openai/<name>, or remove the entry.")
    return entries


def _same_base(given: str, network_base: str) -> bool:
    try:
        return normalise(given)[0] == network_base
    except ConfigError:
        return False
