"""Fixtures of the agent tier: the shim's script API, and a trap for any traffic an agent
sends anywhere but the gateway.

The tier runs inside the bed-agents image (the runner plus the Codex CLI and Claude Code
binaries), on the bed network, with the environment of the ND tier (see ../conftest.py).
"""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest


class Shim:
    """The shim's admin API: scripted agent turns and the request journal."""

    def __init__(self, base: str) -> None:
        self.root = base.removesuffix("/v1")

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.root + path, data=data, method=method,  # noqa: S310 - bed network URL
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - bed network URL
            text = response.read().decode()
        return json.loads(text) if text.strip() else None

    def script(self, contains: str, steps: list[dict[str, Any]]) -> None:
        """Answer every request whose body contains ``contains`` with ``steps``: step k when
        the request already carries k tool results (see the shim's /_bed/scripts)."""
        try:
            self._call("POST", "/_bed/scripts", {"contains": contains, "steps": steps})
            return
        except OSError as exc:  # urllib's HTTPError and URLError are OSErrors
            problem = str(exc)
        pytest.fail(f"the shim at {self.root} refused a script ({problem}); the agent tier needs a shim "
                    "that serves POST /_bed/scripts", pytrace=False)

    def journal(self, contains: str) -> list[dict[str, Any]]:
        """The model requests the shim was sent whose body contains ``contains``, in order."""
        entries = self._call("GET", "/_bed/journal")["entries"]
        return [e for e in entries if contains in json.dumps(e.get("body"))]


@pytest.fixture(scope="session")
def shim(shim_base: str) -> Shim:
    admin = Shim(shim_base)
    try:
        admin._call("GET", "/_bed/journal")
        return admin
    except OSError as exc:  # urllib's HTTPError and URLError are OSErrors
        problem = str(exc)
    pytest.fail(f"the shim at {admin.root} has no journal ({problem}); the agent tier needs a shim "
                "with /_bed/journal and /_bed/scripts", pytrace=False)


class EgressTrap:
    """An HTTP(S) proxy on loopback that refuses everything and remembers what was asked.

    Both agents honour HTTPS_PROXY/HTTP_PROXY (NO_PROXY exempts the gateway), so any
    telemetry, update check or plugin sync they attempt ends here instead of the internet.
    """

    def __init__(self) -> None:
        self.seen: list[str] = []
        trap = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            def _refuse(self) -> None:
                trap.seen.append(f"{self.command} {self.path}")
                self.send_response(403)
                self.send_header("content-length", "0")
                self.end_headers()

            do_CONNECT = do_GET = do_POST = do_PUT = do_HEAD = _refuse

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        # shutdown() waits for serve_forever to look at its flag, once per poll interval: the
        # default 0.5 s added half a second to every agent turn's teardown.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def egress_trap() -> Iterator[EgressTrap]:
    trap = EgressTrap()
    try:
        yield trap
    finally:
        trap.close()
