"""bed's pytest plugin under real pytest, on failing suites of many shapes, judged by bed's policy.

Each shape is a small suite written to a temp folder and run by the real pytest (with xdist
where the shape says so) with ``-p bed_records``, exactly as the runner runs it. The records
are parsed and judged; every shape must end NOT READY with a cause naming the right test.
No Docker here: the integration tests run the same shapes through `bed run --suite`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import bed.runner
from bed.model.evidence import Evidence, parse
from bed.model.results import CheckResult, Status
from bed.policy import flakes, verdict

PLUGIN_DIR = Path(bed.runner.__file__).parent


def run_suite(root: Path, files: dict[str, str], *args: str, env: dict[str, str] | None = None) -> tuple[int, Evidence]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    records = root / ".records.jsonl"
    records.unlink(missing_ok=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BED_", "PYTEST_"))}
    environ.update({"BED_RECORDS": str(records), "PYTHONPATH": str(PLUGIN_DIR), **(env or {})})
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "bed_records", "-p", "no:cacheprovider", "-q",
                           *args], cwd=root, env=environ, capture_output=True, text=True, timeout=120, check=False)
    raw = records.read_bytes() if records.exists() else None
    return done.returncode, parse(raw)


def judge(code: int, evidence: Evidence, *, suite: bool = True, shard: bool = False, tier: str = "nd",
          required: bool = False) -> CheckResult:
    rules = verdict.Rules(check="all_smokes_nd", tier=tier, required=required, hermetic=tier == "deterministic",
                          shard=shard, suite=suite)
    return verdict.judge(verdict.Case(rules, verdict.Ending(exit_code=code, log_tail="tail"), evidence))


FAILING = "def test_ok():\n    pass\n\ndef test_bad():\n    value = 1\n    assert value == 2, 'nested failure'\n"

SHAPES = {
    # id: (files, extra pytest args, extra env, the node id the cause names, its file:line or None)
    "nested-folder": ({"test_api/test_users.py": FAILING}, (), {}, "test_api/test_users.py::test_bad",
                      "test_api/test_users.py:6"),
    "dotted-folder": ({"api.v2/test_v.py": FAILING}, (), {}, "api.v2/test_v.py::test_bad", "api.v2/test_v.py:6"),
    "package-folder": ({"test_pkg/__init__.py": "", "test_pkg/test_in.py": FAILING}, (), {},
                       "test_pkg/test_in.py::test_bad", "test_pkg/test_in.py:6"),
    "class": ({"tests/test_k.py": "class TestK:\n    def test_m(self):\n        assert False\n"}, (), {},
              "tests/test_k.py::TestK::test_m", "tests/test_k.py:3"),
    "odd-parametrize-ids": ({"test_p.py": """
        import pytest
        @pytest.mark.parametrize("v", ["a::b", "c/d e", "f[g]", "\\u00e9"])
        def test_p(v):
            assert v != "c/d e"
        """}, (), {}, "test_p.py::test_p[c/d e]", "test_p.py:5"),
    "fixture-error": ({"test_f.py": """
        import pytest
        @pytest.fixture
        def broken():
            raise RuntimeError("fixture broke")
        def test_uses(broken):
            pass
        """}, (), {}, "test_f.py::test_uses", None),
    "teardown-error": ({"test_t.py": """
        import pytest
        @pytest.fixture
        def leaky():
            yield
            raise RuntimeError("teardown broke")
        def test_passes_then_teardown_fails(leaky):
            pass
        """}, (), {}, "test_t.py::test_passes_then_teardown_fails", None),
    "syntax-error": ({"test_ok.py": "def test_ok():\n    pass\n", "sub/test_syntax.py": "def oops(\n"}, (), {},
                     "sub/test_syntax.py", "sub/test_syntax.py:1"),
    "import-error": ({"test_imp.py": "import not_a_module_anywhere\n\ndef test_x():\n    pass\n"}, (), {},
                     "test_imp.py", "test_imp.py:1"),
    "os-exit-after-fake-junit": ({"test_exit.py": """
        import os
        def test_ok():
            pass
        def test_cheat():
            open("junit.xml", "w").write('<testsuite tests="2" failures="0"/>')
            os._exit(0)
        """}, (), {}, "test_exit.py::test_cheat", None),
    "sigkill": ({"test_kill.py": """
        import os, signal
        def test_killed():
            os.kill(os.getpid(), signal.SIGKILL)
        """}, (), {}, "test_kill.py::test_killed", None),
    "xdist": ({"test_x1.py": FAILING, "test_x2.py": "def test_fine():\n    pass\n"}, ("-n", "2"), {},
              "test_x1.py::test_bad", "test_x1.py:6"),
    "own-pytest-ini": ({"pytest.ini": "[pytest]\npython_files = check_*.py\npython_functions = check_*\n",
                        "pkg/check_things.py": "def check_it():\n    assert 1 == 0\n"}, (), {},
                       "pkg/check_things.py::check_it", "pkg/check_things.py:2"),
    "strict-xpass": ({"test_xp.py": """
        import pytest
        @pytest.mark.xfail(strict=True, reason="known bug")
        def test_fixed_by_accident():
            pass
        """}, (), {}, "test_xp.py::test_fixed_by_accident", None),
    "conftest-error": ({"conftest.py": "raise ImportError('conftest broke')\n", "test_a.py": FAILING}, (), {},
                       "all_smokes_nd", None),
    "k-typo-selects-nothing": ({"test_a.py": "def test_ok():\n    pass\n"}, ("-k", "tset_ok"), {},
                               "all_smokes_nd", None),
}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_failing_shape_is_not_ready_with_the_right_cause(tmp_path: Path, shape: str) -> None:
    files, args, env, nodeid, location = SHAPES[shape]
    code, evidence = run_suite(tmp_path, files, *args, env=env)
    check = judge(code, evidence, suite=False)
    assert check.status in (Status.FAILED, Status.ERROR), (check, evidence)
    assert not verdict.ready([check])
    assert check.cause is not None
    assert check.cause.nodeid == nodeid, check.cause
    if location is not None:
        assert check.cause.location == location, check.cause
    assert "ast.py" not in check.cause.location


def test_records_are_pytest_s_own_ids_and_outcomes(tmp_path: Path) -> None:
    code, evidence = run_suite(tmp_path, {"a.b/test_x.py": FAILING})
    assert code == 1
    assert evidence.finished
    assert evidence.exitstatus == 1
    assert {n: t.outcome for n, t in evidence.tests.items()} == {
        "a.b/test_x.py::test_ok": "passed", "a.b/test_x.py::test_bad": "failed"}
    assert evidence.tests["a.b/test_x.py::test_bad"].message == "AssertionError: nested failure | assert 1 == 2"
    assert evidence.python.startswith("3.")


def test_a_passing_suite_is_ready(tmp_path: Path) -> None:
    code, evidence = run_suite(tmp_path, {"test_a.py": "def test_ok():\n    pass\n"}, "-n", "2")
    check = judge(code, evidence)
    assert (check.status, check.tests) == (Status.PASSED, 1)


def test_a_rerun_of_exact_ids_tells_a_flake_from_a_failure(tmp_path: Path) -> None:
    files = {"sub.dir/test_f.py": """
        import pathlib
        def test_flaky():
            marker = pathlib.Path("ran-once")
            first = not marker.exists()
            marker.touch()
            assert not first, "fails the first time only"
        def test_broken():
            assert False
        def test_fine():
            pass
        """}
    code, first = run_suite(tmp_path, files)
    asked = flakes.worth_rerunning(first)
    assert asked == ("sub.dir/test_f.py::test_flaky", "sub.dir/test_f.py::test_broken")
    (tmp_path / "select.json").write_text(json.dumps(list(asked)))
    _, again = run_suite(tmp_path, {}, env={"BED_SELECT": str(tmp_path / "select.json")})
    assert set(again.tests) == set(asked)  # exactly those, by pytest's own ids
    flaky = flakes.flaky(asked, again)
    assert flaky == {"sub.dir/test_f.py::test_flaky"}
    check = verdict.judge(verdict.Case(verdict.Rules("all_smokes_nd", "nd", required=False),
                                       verdict.Ending(exit_code=code), first, flaky=flaky))
    assert check.status is Status.FAILED
    assert check.cause is not None
    assert check.cause.nodeid == "sub.dir/test_f.py::test_broken"


def test_a_rerun_that_cannot_find_a_test_makes_nothing_a_flake(tmp_path: Path) -> None:
    run_suite(tmp_path, {"test_a.py": "def test_ok():\n    pass\n"})
    (tmp_path / "select.json").write_text(json.dumps(["test_a.py::test_ok", "test_a.py::test_gone"]))
    _, again = run_suite(tmp_path, {}, env={"BED_SELECT": str(tmp_path / "select.json")})
    assert again.selection is not None
    assert again.selection.missing == ("test_a.py::test_gone",)
    assert flakes.flaky(["test_a.py::test_ok", "test_a.py::test_gone"], again) == frozenset()


def test_a_suite_runs_only_its_tier_and_names_unmarked_tests(tmp_path: Path) -> None:
    files = {"test_s.py": """
        import pytest
        @pytest.mark.nd
        def test_nd():
            pass
        @pytest.mark.deterministic
        def test_det():
            pass
        def test_forgotten():
            pass
        """, "pytest.ini": "[pytest]\naddopts = --strict-markers\n"}
    code, evidence = run_suite(tmp_path, files, env={"BED_TIER_MARKER": "nd"})
    assert code == 0  # bed's markers are registered, even under --strict-markers
    assert list(evidence.tests) == ["test_s.py::test_nd"]
    assert evidence.selection is not None
    assert evidence.selection.unmarked == ("test_s.py::test_forgotten",)
    _, release = run_suite(tmp_path, {}, env={"BED_TIER_MARKER": "release"})
    check = judge(5, release, tier="release")
    assert (check.status, check.reason) == (Status.SKIPPED, "no test of the suite is marked release")
    assert judge(5, release, tier="release", required=True).status is Status.FAILED


def test_an_empty_shard_is_a_skip_but_a_selection_of_nothing_fails(tmp_path: Path) -> None:
    files = {"test_one.py": "def test_only():\n    pass\n"}
    code, evidence = run_suite(tmp_path, files, env={"BED_SHARD": "2/2"})
    assert code == 5
    assert judge(code, evidence, suite=False, shard=True).status is Status.SKIPPED
    code, evidence = run_suite(tmp_path, files, "-k", "nothing_matches", env={"BED_SHARD": "1/2"})
    assert judge(code, evidence, suite=False, shard=True).status is Status.FAILED


def test_a_tests_user_properties_are_recorded_with_its_outcome(tmp_path: Path) -> None:
    """The agent tier's matrix comes from these: each cell says what it is, passed, failed or skipped."""
    code, evidence = run_suite(tmp_path, {"test_cells.py": """
        import pytest

        @pytest.mark.parametrize("kind", ["plain", "tool", "skip"])
        def test_cell(kind, request):
            request.node.user_properties += [("agent", "codex"), ("kind", kind)]
            if kind == "skip":
                pytest.skip("no group for it")
            request.node.user_properties.append(("turn_seconds", 1.5))
            assert kind == "plain", "the tool turn broke"

        def test_plain():
            pass
    """})
    assert code == 1
    tests = evidence.tests
    assert tests["test_cells.py::test_cell[plain]"].properties == {"agent": "codex", "kind": "plain",
                                                                  "turn_seconds": 1.5}
    assert tests["test_cells.py::test_cell[tool]"].outcome == "failed"
    assert tests["test_cells.py::test_cell[tool]"].properties["turn_seconds"] == 1.5
    assert tests["test_cells.py::test_cell[skip]"].properties == {"agent": "codex", "kind": "skip"}
    assert tests["test_cells.py::test_plain"].properties == {}
