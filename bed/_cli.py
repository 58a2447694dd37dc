"""The command line: one small function per sub-command, each returning an exit code.

``main()`` wraps them in one error handler: a BedError prints its one line (and details)
and exits with its code; Ctrl-C exits 130, SIGTERM 143; anything else is a bug in bed,
reported with where the traceback was written, exit 70.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from . import __version__, _bench, _ci, _cleanup, _compose, _doctor, _repro, _run, _signals, _tiers
from ._config import ENV_VARS, GATES, TIERS, Config
from ._console import Console
from ._engine import connect
from ._errors import EXIT_BUG, EXIT_NOT_READY, EXIT_READY, BedError, Interrupted
from ._images import ensure_images
from ._redact import Redactor
from ._services import PROXY, SHIM
from ._stack import Stack

Handler = Callable[[argparse.Namespace, Mapping[str, str], Console], int]


def cmd_run(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    config = _config(args, environ)
    console.step(f"bed {__version__}: run {config.run_id}, gate {args.gate}, tiers {','.join(config.tiers)}, "
                 f"STRICT={int(config.strict)}")
    result = _run.run(config, environ, console, gate=args.gate)
    _run.summarise(result, config, console)
    _ci.annotate(result, environ, console)
    return EXIT_READY if result.ready else EXIT_NOT_READY


def cmd_up(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    config = _config(args, environ, keep=True)
    _run.announce(config, console)
    router = _run.prepare_router(config, console)
    client = connect(environ)
    images = ensure_images(client, config, console)
    key = _run.new_master_key()
    console.redact.add(key)
    stack = Stack(client, config, images, console, key)
    try:
        stack.create_network()
        stack.start_services(router.text)
        shell = _run.start_shell(stack, _tiers.Context(config=config, master_key=key, router_yaml=router.text,
                                                       environ=environ))
    except BaseException:
        stack.close()
        raise
    key_file = config.root / ".artifacts" / "master_key"
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    shim, proxy = stack.services["shim"], stack.services["proxy"]
    shim_base = config.bases.host(shim.host_port(SHIM.port))
    console.step(f"stack {config.run_id} is up; `bed down` removes it. Paste these:")
    # The master key itself is never printed: the export reads it from a 0600 file.
    sys.stdout.write(
        f"export BED_PROXY_URL={proxy.url(PROXY.port)}\n"
        f"export OPENAI_BASE_URL={proxy.url(PROXY.port, '/v1')}\n"
        f"export MINI_AGENT_API_BASE={shim_base}\n"
        f"export CODEX_AGENT_API_BASE={shim_base}\n"
        f'export LITELLM_MASTER_KEY="$(cat {key_file})"\n'
        f"# a shell in the runner: docker exec -it {shell.name} bash\n"
    )
    sys.stdout.flush()
    return EXIT_READY


def cmd_down(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    removed = _cleanup.remove(connect(environ), kept=True, orphans=False, run_id=args.run)
    console.step(f"removed {removed['containers']} container(s) and {removed['networks']} network(s)")
    return EXIT_READY


def cmd_gc(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    removed = _cleanup.remove(connect(environ), kept=args.all, orphans=True)
    console.step(f"removed {removed['containers']} container(s) and {removed['networks']} network(s) "
                 "left by runs that no longer exist")
    return EXIT_READY


def cmd_images(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    config = _config(args, environ)
    for ref in ensure_images(connect(environ), config, console).values():
        console.step(f"{ref.tag}  {ref.size_mb:.0f} MB  {'built' if ref.built else 'up to date'}")
    return EXIT_READY


def cmd_compose(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    target = Config.from_env(environ).source / "compose" / "bed.yaml"
    target.write_text(_compose.render())
    console.step(f"wrote {target}")
    return EXIT_READY


def cmd_doctor(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    findings = _doctor.diagnose(environ, Path.cwd(), lambda: connect(environ))
    for finding in findings:
        console.plain(finding.line())
    blocking = [f for f in findings if f.level is _doctor.Level.FAIL]
    console.plain(f"doctor: {len(blocking)} problem(s) block a run" if blocking else "doctor: ready to run")
    return EXIT_NOT_READY if blocking else EXIT_READY


def cmd_bench(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    if args.what == "shim":
        _bench.bench_shim(_config(args, environ), environ, console, args.seconds, args.concurrency)
    elif args.what == "gateway":
        _bench.bench_gateway(_config(args, environ), environ, console, args.seconds, (1, 8, 32))
    else:
        _bench.bench_core(_config(args, environ), environ, console, args.runs)
    return EXIT_READY


def cmd_repro(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    result, config = _repro.repro(Path(args.report), environ, console, keep=args.keep)
    _run.summarise(result, config, console)
    return EXIT_READY if result.ready else EXIT_NOT_READY


def cmd_env(args: argparse.Namespace, environ: Mapping[str, str], console: Console) -> int:
    for name, doc in ENV_VARS.items():
        value = environ.get(name)
        shown = "(unset)" if value is None else repr(console.redact(value))
        console.plain(f"{name:32} {shown:28} {doc}")
    return EXIT_READY


def _config(args: argparse.Namespace, environ: Mapping[str, str], *, keep: bool = False) -> Config:
    tiers = tuple(t.strip() for t in args.tier.split(",") if t.strip()) if getattr(args, "tier", None) else None
    return Config.from_env(environ, gate=getattr(args, "gate", "core"), tiers=tiers,
                           strict=True if getattr(args, "strict", False) else None,
                           router_config=getattr(args, "router_config", None), keep=keep,
                           shard=getattr(args, "shard", None), suite=getattr(args, "suite", None))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="bed", description="A Dockerized readiness test-bed for a LiteLLM gateway.")
    top.add_argument("--version", action="version", version=f"bed {__version__}")
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Handler, text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(handler=handler)
        return p

    run = add("run", cmd_run, "bring the stack up, run the tiers, write the reports, tear it all down")
    run.add_argument("--gate", choices=sorted(GATES), default="core",
                     help="dev: deterministic only; core: every tier; deploy: core under STRICT")
    run.add_argument("--tier", help=f"comma list of tiers to run instead of the gate's ({', '.join(TIERS)})")
    run.add_argument("--shard", metavar="I/N", help="run only the I-th of N balanced parts of the ND tier")
    run.add_argument("--suite", metavar="PATH",
                     help="run your own tests instead of bed's, by marker (deterministic, nd, release)")
    for p in (run, add("up", cmd_up, "bring the stack up and keep it running; print export lines")):
        p.add_argument("--strict", action="store_true", help="same as STRICT=1")
        p.add_argument("--router-config", metavar="PATH", help="your LiteLLM config (same as BED_ROUTER_CONFIG)")
    down = add("down", cmd_down, "remove a stack kept by `bed up`")
    down.add_argument("--run", metavar="ID", help="only this run's stack")
    gc = add("gc", cmd_gc, "remove containers and networks left by killed runs")
    gc.add_argument("--all", action="store_true", help="also remove stacks kept by `bed up`")
    add("images", cmd_images, "build the images whose content changed (no-op when none did)")
    repro = add("repro", cmd_repro, "re-run exactly the failing checks of a report (same images, router config)")
    repro.add_argument("report", metavar="REPORT", help="an mvp_report.json written by bed")
    repro.add_argument("--keep", action="store_true", help="leave the stack up afterwards (bed down removes it)")
    add("doctor", cmd_doctor, "check the engine, images, venv, bases, router config, disk and ports")
    bench = add("bench", cmd_bench, "measure: the warm core gate vs its floor, the shim, or the gateway")
    bench.add_argument("what", nargs="?", choices=("core", "shim", "gateway"), default="core")
    bench.add_argument("--runs", type=int, default=5, help="core: warm runs to time (default 5)")
    bench.add_argument("--seconds", type=float, default=5.0, help="shim/gateway: seconds per measurement")
    bench.add_argument("--concurrency", type=int, default=32, help="shim: connections")
    add("compose", cmd_compose, "write compose/bed.yaml: the same stack for `docker compose`")
    add("env", cmd_env, "list every environment variable bed reads, with its value (secrets redacted)")
    return top


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    console = Console(redact=Redactor.from_env(environ))
    args = parser().parse_args(argv)
    try:
        with _signals.interruptible():
            code: int = args.handler(args, environ, console)
        return code
    except BedError as exc:
        console.plain(exc.line())
        if exc.details:
            console.plain(exc.details)
        return exc.exit_code
    except Interrupted as exc:
        console.plain(f"INTERRUPTED: signal {exc.signum}; everything this run started has been removed.")
        return exc.exit_code
    except KeyboardInterrupt:
        console.plain("INTERRUPTED: Ctrl-C; everything this run started has been removed.")
        return 130
    except Exception:  # a bug in bed: say where the traceback went, not the traceback itself
        log = Path(tempfile.gettempdir()) / f"bed-crash-{datetime.datetime.now():%Y%m%d-%H%M%S}.log"
        log.write_text(console.redact(traceback.format_exc()))
        console.plain(f"BUG: bed failed unexpectedly; the traceback is in {log}. Please report it.")
        return EXIT_BUG
