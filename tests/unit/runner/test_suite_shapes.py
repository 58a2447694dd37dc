"""Whole suites of many shapes through what a run does with them, without Docker: the project is
copied as bed copies it into the runner (``bed.tiers.suite``), collected once by plain pytest (the
census), run once per tier with bed's plugin (real pytest, real records), and judged by the judge
stage itself. Every failing shape must end NOT READY; the controls must stay READY.

The integration tests run a selection of these through the real stack (tests/integration/test_failing_suites.py).
"""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import bed.runner
from bed.config.settings import Config
from bed.engine.protocol import State
from bed.model.quarantine import Book
from bed.model.results import Status
from bed.pipeline.stages import judge
from bed.pipeline.stages.tiers import Outcome, TierOutcomes
from bed.tiers import catalog, suite
from bed.tiers.run import TierRun

PLUGIN_DIR = Path(bed.runner.__file__).parent
DET, ND = "import pytest\npytestmark = pytest.mark.deterministic\n", "import pytest\npytestmark = pytest.mark.nd\n"
OK = "\ndef test_ok():\n    pass\n"
BAD = "\ndef test_bad():\n    assert 1 == 2, 'the failure bed must not miss'\n"


def session(where: Path, tier: str, *args: str, env: dict[str, str] | None = None) -> TierRun:
    records = where.parent / f"records-{tier}.jsonl"
    records.unlink(missing_ok=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("BED_", "PYTEST_"))}
    environ |= {"PYTHONPATH": str(PLUGIN_DIR), "BED_RECORDS": str(records), "BED_TIER": tier,
                "BED_SESSION": f"{tier}-1", **(env or {})}
    if tier != "census":
        environ["BED_TIER_MARKER"] = tier
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", ".", "-p", "bed_records", "-p", "no:cacheprovider",
                           "--tb=short", "--color=no", *args], cwd=where, env=environ, capture_output=True,
                          timeout=120, check=False)
    tail = "\n".join((done.stdout + done.stderr).decode("utf-8", "replace").splitlines()[-20:])
    raw = records.read_bytes() if records.exists() else None
    check = "census" if tier == "census" else catalog.TIERS[tier].check
    return TierRun(tier, check, done.returncode, State("exited", done.returncode), time.monotonic() - started,
                   tail, raw)


def gate(tmp_path: Path, files: dict[str, str], tiers: tuple[str, ...] = ("deterministic", "nd"),
         env: dict[str, str] | None = None, strict: bool = False,
         links: dict[str, str] | None = None) -> judge.Verdict:
    """The project written, copied as bed copies it, collected, run per tier and judged."""
    project, runner = tmp_path / "project", tmp_path / "runner" / "project"
    write_project(project, files, links)
    copied = suite.collect(project, project)
    for rel, data in copied.files:
        (runner / rel).parent.mkdir(parents=True, exist_ok=True)
        (runner / rel).write_bytes(data)
    runner.mkdir(parents=True, exist_ok=True)
    census = session(runner, "census", "--collect-only", "-qq", env=env)
    outcomes = {tier: Outcome(session(runner, tier, "-v", "-rfEs", env=env)) for tier in tiers}
    config = Config.from_env({"STRICT": "1"} if strict else {}, root=project, tiers=tiers, suite=str(project))
    return judge.judge(config, Book(), TierOutcomes(outcomes, census), datetime.datetime.now(datetime.UTC))


def write_project(project: Path, files: dict[str, str], links: dict[str, str] | None = None) -> None:
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    for name, target in (links or {}).items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).symlink_to(target)
    project.mkdir(parents=True, exist_ok=True)


def why(verdict: judge.Verdict) -> str:
    """Every failed check's reason and cause, as one text to search."""
    failed = [c for c in verdict.checks if c.status in (Status.FAILED, Status.ERROR)]
    return " || ".join(f"{c.name}: {c.reason} :: " + (f"{c.cause.nodeid} {c.cause.message}" if c.cause else "")
                       for c in failed)


SKIP_PACKAGE = "import pytest\npytest.skip('no db', allow_module_level=True)\n"
RAISE_AT_FINISH = "def pytest_sessionfinish(session):\n    raise RuntimeError('{}')\n"
FORK = DET + textwrap.dedent("""
import os
MAIN = os.getpid()

def test_fork():
    if os.fork() == 0:
        return  # the child goes on running the session
    os.wait()

def test_after():
    assert os.getpid() != MAIN, "fails in the real session, passes in the forked child"
""")

# name: (files, what a failed check must say, extra gate() arguments)
FAILING: dict[str, tuple[dict[str, str], str, dict[str, object]]] = {
    # the five the issue names
    "unknown-tier-markers": ({"test_a.py": "import pytest\n@pytest.mark.determinstic\ndef test_a():\n    assert 0\n"},
                             "nothing was tested", {}),
    "conftest-hides-the-only-file": ({"conftest.py": "collect_ignore = ['test_bad.py']\n", "test_bad.py": DET + BAD},
                                     "nothing was tested", {}),
    "bed-named-subfolder": ({"local/test_l.py": DET + BAD, "test_ok.py": DET + OK}, "local/test_l.py::test_bad", {}),
    "build-folder-collected-by-the-users-ini": ({"pytest.ini": "[pytest]\nnorecursedirs = .git\n",
                                                 "build/test_b.py": DET + BAD, "test_ok.py": DET + OK},
                                                "build/test_b.py::test_bad", {}),
    "symlinked-module": ({"shared/impl.py": DET + BAD, "tests/test_ok.py": DET + OK}, "tests/test_link.py::test_bad",
                         {"links": {"tests/test_link.py": "../shared/impl.py"}}),
    "symlinked-folder": ({"real/test_r.py": ND + BAD, "tests/test_ok.py": ND + OK}, "tests/more/test_r.py::test_bad",
                         {"links": {"tests/more": "../real"}}),
    "deterministic-module-skipped-at-import": ({"test_skip.py": DET + "pytest.importorskip('no_such_xyz')\n" + OK,
                                                "test_ok.py": DET + OK}, "may not skip", {}),
    "fork-that-keeps-running-pytest": ({"test_fork.py": FORK}, "processes wrote session", {}),
    # shapes of our own
    "package-skipped-in-its-conftest": ({"sub/conftest.py": SKIP_PACKAGE, "sub/test_s.py": DET + BAD,
                                         "test_ok.py": DET + OK}, "may not skip", {}),
    "module-skipped-before-it-names-a-tier": ({"test_s.py": "import pytest\npytest.importorskip('nope_xyz')\n" + BAD,
                                               "test_ok.py": DET + OK}, "may not skip", {}),
    "conftest-drops-the-failing-test-silently": ({"conftest.py": """
        def pytest_collection_modifyitems(items):
            items[:] = [i for i in items if 'bad' not in i.name]
        """, "test_a.py": DET + OK + BAD}, "test_a.py::test_bad", {}),
    "conftest-never-runs-the-failing-test": ({"conftest.py": """
        def pytest_runtest_protocol(item, nextitem):
            return True if 'bad' in item.name else None
        """, "test_a.py": DET + OK + BAD}, "selected in the deterministic tier, yet it never ran", {}),
    "pytest-exit-0-midway": ({"test_a.py": DET + "\ndef test_a():\n    pytest.exit('bye', returncode=0)\n" + BAD},
                             "test_bad", {}),
    "a-test-removes-the-records-file": ({"test_a.py": DET + textwrap.dedent("""
        import os
        def test_a():
            os.remove(os.environ['BED_RECORDS'])
        """) + OK}, "missing", {}),
    "sessionfinish-raises-after-a-failure": ({"conftest.py": RAISE_AT_FINISH.format("x"),
                                              "test_a.py": DET + OK + BAD}, "test_a.py::test_bad", {}),
    "sessionfinish-raises-all-passed": ({"conftest.py": RAISE_AT_FINISH.format("boom"), "test_a.py": DET + OK},
                                        "pytest_sessionfinish hook raised RuntimeError: boom", {}),
    "a-hook-reports-a-failed-test-passed-too": ({"conftest.py": """
        import pytest
        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(item, call):
            outcome = yield
            report = outcome.get_result()
            if report.when == 'call' and report.failed:
                import copy
                forged = copy.copy(report)
                forged.outcome = 'passed'
                item.ihook.pytest_runtest_logreport(report=forged)
        """, "test_a.py": DET + BAD}, "two call outcomes", {}),
    "random-parametrize-ids": ({"test_r.py": DET + textwrap.dedent("""
        import uuid
        @pytest.mark.parametrize('x', [uuid.uuid4().hex])
        def test_r(x):
            pass
        """)}, "unaccounted for", {}),
    "collection-depends-on-the-tier": ({"conftest.py": """
        import os
        collect_ignore = ['test_bad.py'] if os.environ.get('BED_TIER') == 'deterministic' else []
        """, "test_bad.py": DET + BAD, "test_ok.py": DET + OK}, "the census collected it", {}),
    "nd-suite-in-the-dev-gate": ({"test_n.py": ND + OK}, "nothing was tested", {"tiers": ("deterministic",)}),
    "every-test-skips-itself": ({"test_s.py": ND + "\n@pytest.mark.skip(reason='later')\ndef test_s():\n    pass\n"},
                                "nothing was tested", {"tiers": ("nd",)}),
    "no-test-at-all": ({"conftest.py": "", "helpers.py": "X = 1\n"}, "nothing was tested", {}),
    "only-unmarked-tests": ({"test_u.py": OK}, "nothing was tested", {}),
    "unmarked-test-under-strict": ({"test_u.py": "def test_u():\n    pass\n", "test_ok.py": DET + OK},
                                   "no tier runs", {"strict": True}),
    "ini-deselects-everything": ({"pytest.ini": "[pytest]\naddopts = -m 'not slow'\nmarkers = slow\n",
                                  "test_a.py": "import pytest\npytestmark = [pytest.mark.deterministic, "
                                               "pytest.mark.slow]\n" + BAD}, "nothing was tested", {}),
    "conftest-unregisters-bed-s-plugin": ({"conftest.py": """
        def pytest_configure(config):
            config.pluginmanager.unregister(name='bed_records')
        """, "test_a.py": DET + BAD}, "", {}),
    "keyboard-interrupt-in-a-test": ({"test_k.py": DET + "\ndef test_k():\n    raise KeyboardInterrupt\n" + OK}, "",
                                     {}),
    "os-exit-0-in-a-test": ({"test_e.py": DET + "\nimport os\ndef test_e():\n    os._exit(0)\n" + OK},
                            "never finished", {}),
    "a-test-forges-a-finish-record": ({"test_f.py": DET + textwrap.dedent("""
        import json, os
        def test_f():
            with open(os.environ['BED_RECORDS'], 'a') as f:
                f.write(json.dumps({'kind': 'finish', 'sid': 'deterministic-1', 'pid': 1, 'seq': 1,
                                    'worker': None, 'exitstatus': 0}) + '\\n')
        """) + BAD}, "contradict themselves", {}),
    "collection-error-in-one-module": ({"test_ok.py": DET + OK, "test_broken.py": DET + "import nope_not_here\n"},
                                       "error", {}),
}

CONTROLS: dict[str, tuple[dict[str, str], dict[str, object]]] = {
    "a-clean-suite": ({"test_d.py": DET + OK, "test_n.py": ND + OK}, {}),
    "a-fork-whose-child-exits-at-once": ({"test_f.py": DET + textwrap.dedent("""
        import os
        def test_f():
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
        """)}, {}),
    "an-nd-module-skipped-at-import-beside-passing-tests": ({"test_s.py": ND + "pytest.importorskip('nope_xyz')\n" + OK,
                                                            "test_n.py": ND + OK, "test_d.py": DET + OK}, {}),
    "a-conftest-that-ignores-a-helper": ({"conftest.py": "collect_ignore = ['helpers.py']\n",
                                          "helpers.py": "raise RuntimeError('not a test module')\n",
                                          "test_d.py": DET + OK}, {}),
    "a-test-that-empties-tmp": ({"test_t.py": DET + textwrap.dedent("""
        import shutil, tempfile, os
        def test_t(tmp_path):
            for entry in os.listdir(tempfile.gettempdir()):
                if entry.startswith('bed-shape-'):
                    shutil.rmtree(os.path.join(tempfile.gettempdir(), entry), ignore_errors=True)
        """)}, {}),
    "a-folder-whose-name-is-not-utf-8": ({"caf\udce9/test_d.py": DET + OK, "caf\udce9/conftest.py": ""}, {}),
    "a-test-with-an-unknown-marker-beside-its-tier": ({"test_d.py": DET + "\n@pytest.mark.slowish\ndef test_d():\n"
                                                       "    pass\n"}, {"strict": True, "tiers": ("deterministic",)}),
}


@pytest.mark.parametrize("shape", list(FAILING))
def test_a_failing_shape_is_not_ready(tmp_path: Path, shape: str) -> None:
    files, says, extra = FAILING[shape]
    verdict = gate(tmp_path, files, **extra)  # type: ignore[arg-type]
    assert not verdict.ready, [(c.name, c.status, c.reason) for c in verdict.checks]
    assert says in why(verdict), why(verdict)


@pytest.mark.parametrize("shape", list(CONTROLS))
def test_a_sound_shape_stays_ready(tmp_path: Path, shape: str) -> None:
    files, extra = CONTROLS[shape]
    verdict = gate(tmp_path, files, **extra)  # type: ignore[arg-type]
    assert verdict.ready, why(verdict)
    census = verdict.checks[-1]
    assert census.name == "census"
    assert census.reason.endswith("accounted for")


def test_the_account_names_what_became_of_each_test(tmp_path: Path) -> None:
    verdict = gate(tmp_path, {"test_d.py": DET + OK, "test_n.py": ND + OK + BAD, "test_r.py":
                              "import pytest\npytestmark = pytest.mark.release\n" + OK, "test_u.py": OK})
    assert verdict.account is not None
    fates = {f.nodeid: f.kind for f in verdict.account.fates}
    assert fates == {"test_d.py::test_ok": "passed", "test_n.py::test_ok": "passed", "test_n.py::test_bad": "failed",
                     "test_r.py::test_ok": "not_in_run", "test_u.py::test_ok": "unmarked"}
    assert verdict.account.to_dict()["accounted"] == 5
    shutil.rmtree(tmp_path / "runner")
