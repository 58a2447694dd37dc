"""`bed run`: bring the stack up, run the tiers, judge, write the reports, tear it all down.

``bed run -- ARGS``: ARGS go to pytest in every tier's session (after bed's own arguments), so
``bed run -- -k chat`` runs what ``-k chat`` selects in each tier. A tier in which they select
nothing is a SKIP that says so (a failure when STRICT / READINESS_EXPECT requires the tier); a
run in which they select nothing at all is NOT READY. Shards split what the arguments selected,
and a failed test's re-run keeps them.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from .. import __version__
from ..config.settings import GATES, TIERS, Config
from ..console import Console
from ..errors import EXIT_NOT_READY, EXIT_READY, ConfigError
from ..model.results import RunResult, Status
from ..pipeline.stages.prepare import Inputs
from ..pipeline.workflow import run as run_pipeline
from ..report import ci
from ..report.writers import HTML_NAME, cause_lines
from . import common

HELP = "bring the stack up, run the tiers, write the reports, tear it all down"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gate", choices=sorted(GATES), default="core",
                        help="dev: deterministic only; core: every tier; deploy: core under STRICT")
    parser.add_argument("--tier", help=f"comma list of tiers to run instead of the gate's ({', '.join(TIERS)})")
    parser.add_argument("--shard", metavar="I/N", help="run only the I-th of N balanced parts of the ND tier")
    parser.add_argument("--reuse", action="store_true",
                        help="run on the stack kept by `bed up` (restarting only what changed): the dev loop")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show third-party warnings in the tiers' output (summarised in one line otherwise)")
    parser.add_argument("--suite", metavar="PATH",
                        help="run your own tests instead of bed's, by marker (deterministic, nd, release)")
    add_stack_arguments(parser)
    add_gateway_argument(parser)
    # `bed run -- -k chat -x`: cli.main hands the words after `--` over as args.pytest_args
    parser.set_defaults(passes_args=True)
    parser.usage = "bed run [options] [-- PYTEST_ARGS ...]"
    parser.epilog = ("PYTEST_ARGS (options only, e.g. -- -k chat -x) go to pytest in every tier's session; a tier "
                     "they select nothing in is a SKIP that says so, and a run they select nothing in is NOT READY "
                     "(docs/cli.md).")


def add_gateway_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--litellm", metavar="GATEWAY",
                        help="the gateway under test, as BED_LITELLM takes it: a release (1.108.7), path:DIR "
                             "(a fork checkout) or image:REF")


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="same as STRICT=1")
    parser.add_argument("--router-config", metavar="PATH", help="your LiteLLM config (same as BED_ROUTER_CONFIG)")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    check_pytest_args(args.pytest_args)
    config = common.config(args, environ)
    passed = f", pytest args {' '.join(config.pytest_args)}" if config.pytest_args else ""
    console.step(f"bed {__version__}: run {config.run_id}, gate {args.gate}, tiers {','.join(config.tiers)}, "
                 f"STRICT={int(config.strict)}{passed}")
    result = run_pipeline(Inputs(config, environ, console, lambda: common.engine(environ), args.gate))
    summarise(result, config, console)
    ci.annotate(result, environ, console, config.root)
    return EXIT_READY if result.ready else EXIT_NOT_READY


# pytest's options that take the next word as their value (so a path there is a value, not a target)
VALUE_OPTIONS = frozenset({"-k", "-m", "-p", "-c", "-o", "-W", "-n", "--deselect", "--ignore", "--ignore-glob",
                           "--rootdir", "--confcutdir", "--maxfail", "--tb", "--durations", "--basetemp",
                           "--log-level", "--override-ini", "--pyargs", "--junitxml", "--junit-xml"})


def check_pytest_args(words: tuple[str, ...]) -> None:
    """Options only: a path or node id after `--` would be collected by every tier, beside the
    tier's own folder (the deterministic tier would run ND tests)."""
    for before, word in zip(("", *words), words, strict=False):
        if not word.startswith("-") and before not in VALUE_OPTIONS and ("::" in word or word.endswith(".py")):
            raise ConfigError(f"`bed run -- {' '.join(words)}`: {word} names a file or test; every tier would "
                              "collect it beside its own tests.",
                              hint="select with -k or -m (bed run -- -k test_name); `bed repro` re-runs exact tests.")


def summarise(result: RunResult, config: Config, console: Console) -> None:
    for check in result.checks:
        extra = f" - {check.reason}" if check.reason else ""
        console.plain(f"  {check.status.value.upper():8} {check.name} ({check.tests} tests, "
                      f"{check.failures} failed, {check.skipped} skipped, {check.duration_s:.1f} s){extra}")
    for line in cause_lines(result):
        console.plain(line, head=line.split(":", 1)[0], style="bad")
    for check in result.checks:
        if check.cause and check.cause.log_tail and check.status in (Status.FAILED, Status.ERROR):
            console.plain(f"--- last lines behind {check.name} ---")
            console.plain(check.cause.log_tail)
    console.plain(f"reports: {config.shown(config.ready_md_path)}, {config.shown(config.report_path)}, "
                  f"{config.shown(config.report_path.with_name(HTML_NAME))}, {config.shown(config.junit_dir)}/")
    console.plain(f"VERDICT: {result.verdict_line()} (gate {result.gate}, {result.timings.get('total', 0):.1f} s)",
                  head=f"VERDICT: {result.verdict}", style="good" if result.ready else "bad")
