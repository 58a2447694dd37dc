"""`bed run`: bring the stack up, run the tiers, judge, write the reports, tear it all down."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from .. import __version__
from ..config.settings import GATES, TIERS, Config
from ..console import Console
from ..errors import EXIT_NOT_READY, EXIT_READY
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


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="same as STRICT=1")
    parser.add_argument("--router-config", metavar="PATH", help="your LiteLLM config (same as BED_ROUTER_CONFIG)")


def run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    config = common.config(args, environ)
    console.step(f"bed {__version__}: run {config.run_id}, gate {args.gate}, tiers {','.join(config.tiers)}, "
                 f"STRICT={int(config.strict)}")
    result = run_pipeline(Inputs(config, environ, console, lambda: common.engine(environ), args.gate))
    summarise(result, config, console)
    ci.annotate(result, environ, console, config.root)
    return EXIT_READY if result.ready else EXIT_NOT_READY


def summarise(result: RunResult, config: Config, console: Console) -> None:
    for check in result.checks:
        extra = f" - {check.reason}" if check.reason else ""
        console.plain(f"  {check.status.value.upper():8} {check.name} ({check.tests} tests, "
                      f"{check.failures} failed, {check.skipped} skipped, {check.duration_s:.1f} s){extra}")
    for line in cause_lines(result):
        console.plain(line)
    for check in result.checks:
        if check.cause and check.cause.log_tail and check.status in (Status.FAILED, Status.ERROR):
            console.plain(f"--- last lines behind {check.name} ---")
            console.plain(check.cause.log_tail)
    console.plain(f"reports: {config.shown(config.ready_md_path)}, {config.shown(config.report_path)}, "
                  f"{config.shown(config.report_path.with_name(HTML_NAME))}, {config.shown(config.junit_dir)}/")
    console.plain(f"VERDICT: {result.verdict_line()} (gate {result.gate}, {result.timings.get('total', 0):.1f} s)")
