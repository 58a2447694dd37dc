from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bed.config.bases import NETWORK_BASE, normalise, resolve
from bed.errors import ConfigError


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://127.0.0.1:8788", "http://127.0.0.1:8788/v1"),
        ("http://127.0.0.1:8788/", "http://127.0.0.1:8788/v1"),
        ("http://127.0.0.1:8788/v1", "http://127.0.0.1:8788/v1"),
        ("http://127.0.0.1:8788/v1///", "http://127.0.0.1:8788/v1"),
        ("http://localhost:8788", "http://127.0.0.1:8788/v1"),
        ("127.0.0.1:8788", "http://127.0.0.1:8788/v1"),
        ("  http://127.0.0.1:8788  ", "http://127.0.0.1:8788/v1"),
        ("https://gw.example:443/api", "https://gw.example:443/api/v1"),
        ("http://mini-agent:8788", NETWORK_BASE),
        ("http://[::1]:8788", "http://127.0.0.1:8788/v1"),
        ("http://127.0.0.1", "http://127.0.0.1:80/v1"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw)[0] == expected


def test_normalise_says_what_it_changed() -> None:
    value, warnings = normalise("localhost:8788")
    assert value == "http://127.0.0.1:8788/v1"
    assert any("no scheme" in w for w in warnings)
    assert any("localhost" in w for w in warnings)


@pytest.mark.parametrize("raw", ["", "   ", "ftp://host:1", "http://:8788", "http://127.0.0.1:99999",
                                 "http://127.0.0.1:8788?x=1", "http://h:port"])
def test_normalise_refuses(raw: str) -> None:
    with pytest.raises(ConfigError) as caught:
        normalise(raw)
    assert caught.value.hint


hosts = st.sampled_from(["127.0.0.1", "localhost", "mini-agent", "gw.example"])
ports = st.integers(min_value=1, max_value=65535)
paths = st.sampled_from(["", "/", "/v1", "/v1/", "/api", "/api/v1//"])


@given(scheme=st.sampled_from(["http", "https", ""]), host=hosts, port=ports, path=paths)
def test_normalise_is_idempotent_and_canonical(scheme: str, host: str, port: int, path: str) -> None:
    raw = f"{scheme + '://' if scheme else ''}{host}:{port}{path}"
    once, _ = normalise(raw)
    twice, notes = normalise(once)
    assert once == twice
    assert notes == []
    assert once.endswith("/v1")
    assert not once.endswith("//v1")
    assert "localhost" not in once


def test_default_is_the_network_base_on_a_free_port() -> None:
    bases = resolve({}, strict=False, group="codex-agent-1")
    assert (bases.network, bases.host_port, bases.source) == (NETWORK_BASE, None, "default")


def test_host_form_publishes_that_port() -> None:
    bases = resolve({"MINI_AGENT_API_BASE": "http://127.0.0.1:8788"}, strict=True, group="codex-agent-1")
    assert bases.network == NETWORK_BASE
    assert bases.host_port == 8788
    assert bases.host(8788) == "http://127.0.0.1:8788/v1"


def test_matching_forms_are_not_a_mismatch() -> None:
    env = {"MINI_AGENT_API_BASE": "http://localhost:8788/", "CODEX_AGENT_API_BASE": "127.0.0.1:8788/v1"}
    assert resolve(env, strict=True, group="codex-agent-1").host_port == 8788


def test_mismatch_is_an_error_under_strict_naming_both() -> None:
    env = {"MINI_AGENT_API_BASE": "http://127.0.0.1:8788", "CODEX_AGENT_API_BASE": "http://127.0.0.1:9999"}
    with pytest.raises(ConfigError) as caught:
        resolve(env, strict=True, group="codex-agent-1")
    line = caught.value.line()
    assert "http://127.0.0.1:8788" in line
    assert "http://127.0.0.1:9999" in line
    assert "Hint:" in line


def test_mismatch_without_strict_warns_and_forces() -> None:
    env = {"MINI_AGENT_API_BASE": "http://127.0.0.1:8788", "CODEX_AGENT_API_BASE": "http://127.0.0.1:9999"}
    bases = resolve(env, strict=False, group="codex-agent-1")
    assert bases.host_port == 8788
    assert any("forced" in w for w in bases.warnings)


def test_only_codex_set_is_adopted_with_a_warning() -> None:
    bases = resolve({"CODEX_AGENT_API_BASE": "http://127.0.0.1:8790"}, strict=False, group="codex-agent-1")
    assert bases.host_port == 8790
    assert bases.source == "CODEX_AGENT_API_BASE"
    assert any("unset" in w for w in bases.warnings)


@pytest.mark.parametrize("raw", ["http://codex-agent-1:8788", "codex-agent-1", "http://codex-agent-7/v1"])
def test_model_group_in_host_position_is_caught(raw: str) -> None:
    with pytest.raises(ConfigError, match="model group"):
        resolve({"MINI_AGENT_API_BASE": raw}, strict=False, group="codex-agent-1")


def test_remote_host_is_refused() -> None:
    with pytest.raises(ConfigError, match="points away"):
        resolve({"MINI_AGENT_API_BASE": "http://gw.example:8788"}, strict=False, group="codex-agent-1")


def test_network_form_needs_the_shim_port() -> None:
    with pytest.raises(ConfigError, match="8788"):
        resolve({"MINI_AGENT_API_BASE": "http://mini-agent:9000"}, strict=False, group="codex-agent-1")
