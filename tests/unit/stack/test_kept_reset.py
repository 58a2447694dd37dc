"""The kept shim's reset between runs: through its published port on a local engine, else (or
when that port does not answer) by a `docker exec` in the probe; a reset that fails stops the run."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import cast

import pytest

from bed.config.settings import Config
from bed.engine.fake import FakeEngine
from bed.engine.protocol import ContainerSpec, ExecResult
from bed.errors import StackError
from bed.stack.bringup import Services
from bed.stack.kept import reset
from bed.stack.owner import Service
from bed.stack.services import SHIM

CONFIG = cast(Config, SimpleNamespace(agent=None))


@pytest.fixture
def shim_port() -> Iterator[tuple[int, list[str]]]:
    """A loopback server standing for the shim's published port; it lists what it was sent."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def _stack(engine: FakeEngine, host_port: int | None) -> tuple[Services, list[list[str]]]:
    publish = {SHIM.port: host_port} if host_port is not None else {}
    ids = {key: engine.run(ContainerSpec(name=f"bed-k-{key}", image="img", labels={},
                                         publish=publish if key == "shim" else {}))
           for key in ("probe", "shim", "proxy")}
    execs: list[list[str]] = []
    real = engine.exec

    def spy(ref: str, argv: list[str]) -> ExecResult:
        execs.append(argv)
        return real(ref, argv)

    engine.exec = spy  # type: ignore[method-assign]
    services = Services(*(Service(f"bed-k-{key}", key, ids[key], engine) for key in ("probe", "shim", "proxy")))
    return services, execs


def test_a_local_engine_resets_the_shim_through_its_published_port(shim_port: tuple[int, list[str]]) -> None:
    port, seen = shim_port
    services, execs = _stack(FakeEngine(images=("img",)), port)
    reset(services.probe.engine, services, CONFIG, local=True)
    assert seen == ["/_bed/reset"]
    assert execs == []  # no `docker exec` on the way


@pytest.mark.parametrize("local", [False, True], ids=["remote-engine", "port-not-answering"])
def test_otherwise_the_probe_resets_it_from_inside_the_network(local: bool) -> None:
    services, execs = _stack(FakeEngine(images=("img",)), None if not local else 1)  # port 1: nobody answers
    reset(services.probe.engine, services, CONFIG, local=local)
    assert len(execs) == 1
    assert any(f"{SHIM.network_url()}/_bed/reset" in arg for arg in execs[0])


def test_a_reset_that_fails_stops_the_run() -> None:
    engine = FakeEngine(images=("img",))
    services, _ = _stack(engine, None)
    engine.exec = lambda ref, argv: ExecResult(1, "connection refused")  # type: ignore[method-assign]
    with pytest.raises(StackError, match="the kept shim would not reset: connection refused"):
        reset(engine, services, CONFIG, local=False)
