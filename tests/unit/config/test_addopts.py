"""PYTEST_ADDOPTS is checked on the host as the runner's pytest would parse it, before anything starts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import bed
from bed.config import addopts
from bed.config.pytest_options import OPTIONS, PLUGINS, PYTEST
from bed.errors import ConfigError

# The runner is built FROM the proxy image: its pytest plugins come from both locks (anyio from litellm's).
CONTEXT = Path(bed.__file__).parent / "images" / "context"
LOCKS = [CONTEXT / name / "requirements.lock" for name in ("runner", "litellm")]


@pytest.mark.parametrize("raw", [
    "", "-k 'not shard_b'", "-k shard_b", "-x -v --tb=short", "-vvx -rA", "-n 2 --dist loadfile", "--maxfail=3",
    "-m 'nd and not slow' -q", "-o cache_dir=/tmp/c", "--lf --ff", "nd/test_x.py::test_a --deselect nd/test_y.py",
    "-kshard_b", "-- -weird-file-name.py", "--anyio-mode=auto", "-W error::DeprecationWarning",
])
def test_what_the_runners_pytest_accepts_passes(raw: str) -> None:
    assert addopts.check(raw, suite=False) == raw


@pytest.mark.parametrize(("raw", "says"), [
    ("-k 'not slow", "cannot be split into arguments as pytest splits it (No closing quotation)"),
    ('-m "nd', "No closing quotation"),
    ("--no-such-thing", "names --no-such-thing, an option the runner's pytest"),
    ("--maxfial=2", "did you mean --maxfail?"),
    ("--max", "names --max"),  # pytest takes no abbreviation of --maxfail
    ("-v -k", "-k: expected one argument"),
    ("--timeout=5", "names --timeout"),  # pytest-timeout is not in bed's runner
])
def test_what_it_refuses_is_one_line_before_anything_starts(raw: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        addopts.check(raw, suite=False)
    assert says in caught.value.line()
    assert " Hint: " in caught.value.line()


@pytest.mark.parametrize("raw", ["--timeout=5", "-p pytest_timeout --timeout=5", "-pmyplugin --my-option"])
def test_options_a_suite_or_a_plugin_may_add_are_left_to_the_runners_pytest(raw: str) -> None:
    suite = not raw.startswith("-p")
    assert addopts.check(raw, suite=suite) == raw


def test_a_suite_still_gets_its_quotes_checked() -> None:
    with pytest.raises(ConfigError, match="No closing quotation"):
        addopts.check("-k 'x", suite=True)


def test_the_table_is_of_the_pytest_and_plugins_the_runner_image_pins() -> None:
    """Regenerate bed/config/pytest_options.py (scripts/pytest-options.py) when the lock moves."""
    pins = {k.lower(): v for lock in LOCKS for k, v in re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", lock.read_text(), re.M)}
    assert pins["pytest"] == PYTEST
    for plugin in PLUGINS:
        name, version = plugin.split("==")
        assert pins.get(name) == version, plugin
    assert {"-k", "-m", "-n", "--maxfail", "--tb", "-p"} <= set(OPTIONS)
