"""The verdict under fire: failing suites of many shapes through `bed run --suite` and `bed repro`.

Each shape from the unit table (tests/unit/runner/test_records.py) is written as a project of
its own, every test marked for a tier, and run through the real stack: the real runner image,
the real plugin, pytest's real ids. Every one must end NOT READY (exit 1) with a CAUSE naming
the right test; then `bed repro` of its report must say the same.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from bed.images.build import ImageRef
from tests.unit.runner import test_suite_shapes as shapes
from tests.unit.runner.test_records import SHAPES

from .conftest import bed_cli

MARK = "import pytest\npytestmark = pytest.mark.{tier}\n"  # two lines: locations shift by 2


def _write(root: Path, files: dict[str, str], tier: str, extra_ini: str = "") -> None:
    import textwrap

    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        body = textwrap.dedent(text)
        if name.endswith(".py") and Path(name).name != "conftest.py" and not name.endswith("__init__.py"):
            body = MARK.format(tier=tier) + body
        path.write_text(body)
    ini = root / "pytest.ini"
    if extra_ini:
        text = ini.read_text() if ini.exists() else "[pytest]\n"
        ini.write_text(text + extra_ini)


def _shifted(location: str | None) -> str | None:
    if location is None:
        return None
    file, _, line = location.rpartition(":")
    return f"{file}:{int(line) + 2}"


CASES = {name: shape for name, shape in SHAPES.items() if name != "k-typo-selects-nothing"}


@pytest.mark.parametrize("shape", list(CASES))
def test_a_failing_shape_is_not_ready_and_repro_says_the_same(images: dict[str, ImageRef], tmp_path: Path,
                                                              shape: str) -> None:
    files, args, _env, nodeid, location = CASES[shape]
    project = tmp_path / "project"
    _write(project, files, "deterministic", extra_ini="addopts = -n 2\n" if "-n" in args else "")
    first = bed_cli(["run", "--suite", ".", "--tier", "deterministic"], project, timeout=300)
    out = first.stdout + first.stderr
    assert first.returncode == 1, out[-3000:]
    assert "VERDICT: NOT READY" in out
    cause = re.search(r"^CAUSE all_smokes_core: (.*?)(?: \(([^)]*)\))?: .* -> repro: ", out, re.MULTILINE)
    assert cause is not None, out[-3000:]
    assert cause.group(1) == nodeid.replace("all_smokes_nd", "all_smokes_core"), out[-3000:]
    if location is not None:
        assert cause.group(2) == _shifted(location)
    report = json.loads((project / "local/artifacts/mvp/mvp_report.json").read_text())
    assert report["verdict"] == "NOT READY"

    again = bed_cli(["repro", "local/artifacts/mvp/mvp_report.json"], project, timeout=300)
    again_out = again.stdout + again.stderr
    assert again.returncode == 1, again_out[-3000:]
    assert f"CAUSE all_smokes_core: {cause.group(1)}" in again_out


def test_a_k_typo_in_pytest_addopts_is_not_ready(images: dict[str, ImageRef], tmp_path: Path) -> None:
    project = tmp_path / "project"
    _write(project, {"test_a.py": "def test_ok():\n    pass\n"}, "nd")
    done = bed_cli(["run", "--suite", str(project), "--tier", "nd"], tmp_path, {"PYTEST_ADDOPTS": "-k tset_ok"},
                   timeout=300)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "selects none of the 1 collected tests" in done.stdout


def test_unmarked_tests_of_a_suite_are_named_in_a_banner(images: dict[str, ImageRef], tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_m.py").write_text("import pytest\n\n@pytest.mark.deterministic\ndef test_marked():\n    pass\n\n"
                                       "def test_forgotten():\n    pass\n")
    done = bed_cli(["run", "--suite", str(project), "--tier", "deterministic"], tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "UNMARKED: 1 test(s) of your suite carry no tier marker and never run" in done.stdout
    assert "test_m.py::test_forgotten" in done.stdout
    assert "PytestUnknownMarkWarning" not in done.stdout  # bed's markers are registered for the suite


# Shapes of the unit table (tests/unit/runner/test_suite_shapes.py) through the real stack: the suite
# copied into a real runner, collected by the census there, run by tier, judged; fresh and on a kept stack.
REAL = ["unknown-tier-markers", "conftest-hides-the-only-file", "bed-named-subfolder", "symlinked-module",
        "deterministic-module-skipped-at-import", "package-skipped-in-its-conftest", "fork-that-keeps-running-pytest",
        "conftest-drops-the-failing-test-silently", "a-test-removes-the-records-file",
        "sessionfinish-raises-after-a-failure", "random-parametrize-ids", "collection-depends-on-the-tier"]
SOUND = ["a-test-that-empties-tmp", "a-folder-whose-name-is-not-utf-8", "a-clean-suite"]


def _shape_run(root: Path, name: str, *extra: str) -> subprocess.CompletedProcess[str]:
    files, _, options = shapes.FAILING[name] if name in shapes.FAILING else (*shapes.CONTROLS[name][:1], "",
                                                                             shapes.CONTROLS[name][1])
    tiers = ",".join(options.get("tiers", ("deterministic", "nd")))  # type: ignore[arg-type]
    shapes.write_project(root / "shapes" / name, files, options.get("links"))  # type: ignore[arg-type]
    return bed_cli(["run", *extra, "--suite", f"shapes/{name}", "--tier", tiers], root, timeout=300)


@pytest.mark.parametrize("name", REAL + SOUND)
def test_a_shape_through_the_real_stack(images: dict[str, ImageRef], tmp_path: Path, name: str,
                                        no_leftovers: None) -> None:
    done = _shape_run(tmp_path, name)
    out = done.stdout + done.stderr
    if name in SOUND:
        assert done.returncode == 0, out[-3000:]
        assert "accounted for" in out
        return
    assert done.returncode == 1, out[-3000:]
    assert "VERDICT: NOT READY" in out
    assert shapes.FAILING[name][1] in out, out[-3000:]
    report = json.loads((tmp_path / "local/artifacts/mvp/mvp_report.json").read_text())
    assert report["verdict"] == "NOT READY"
    assert re.search(r"census: \*\*\d+ collected, \d+ accounted for\*\*", (tmp_path / "PROJECT_READY.md").read_text())


def test_every_shape_on_a_kept_stack(images: dict[str, ImageRef], tmp_path: Path, no_leftovers: None) -> None:
    up = bed_cli(["up"], tmp_path, timeout=300)
    assert up.returncode == 0, (up.stdout + up.stderr)[-3000:]
    try:
        for name in REAL + SOUND:
            done = _shape_run(tmp_path, name, "--reuse")
            out = done.stdout + done.stderr
            assert done.returncode == (0 if name in SOUND else 1), (name, out[-3000:])
            if name in REAL:
                assert shapes.FAILING[name][1] in out, (name, out[-3000:])
    finally:
        down = bed_cli(["down"], tmp_path, timeout=300)
        assert down.returncode == 0, down.stdout[-2000:]
