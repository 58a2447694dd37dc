"""The host's HTTP client (httpx) to what bed published on loopback, against real local servers."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from typing import ClassVar

import pytest

from bed import loopback


class _Slow(http.server.BaseHTTPRequestHandler):
    """503 for the first answers, then 200: a server still starting."""

    left: ClassVar[list[int]] = [2]

    def do_GET(self) -> None:
        busy = self.left[0] > 0
        self.left[0] -= 1
        self.send_response(503 if busy else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    _Slow.left = [2]
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1]
    httpd.shutdown()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_answers_waits_through_non_2xx_answers(server: int) -> None:
    assert loopback.answers(f"http://127.0.0.1:{server}/", budget_s=5, pause_s=0.01)
    assert _Slow.left[0] == -1  # two 503s, then the 200


def test_answers_is_bounded_by_its_budget() -> None:
    started = time.monotonic()
    assert not loopback.answers(f"http://127.0.0.1:{_free_port()}/", budget_s=0.3, pause_s=0.05)
    assert 0.3 <= time.monotonic() - started < 20  # bounded, not hung


def test_a_server_that_starts_late_is_waited_for() -> None:
    port = _free_port()
    httpd: list[http.server.ThreadingHTTPServer] = []

    def start() -> None:
        _Slow.left = [0]
        httpd.append(http.server.ThreadingHTTPServer(("127.0.0.1", port), _Slow))
        httpd[0].serve_forever()

    threading.Timer(0.3, start).start()
    try:
        assert loopback.answers(f"http://127.0.0.1:{port}/health", budget_s=5, pause_s=0.02)
    finally:
        while not httpd:
            time.sleep(0.01)
        httpd[0].shutdown()


def test_post_says_whether_it_was_2xx(server: int) -> None:
    assert not loopback.post(f"http://127.0.0.1:{server}/_bed/reset")  # 503
    _Slow.left = [0]
    assert loopback.post(f"http://127.0.0.1:{server}/_bed/reset")
    assert not loopback.post(f"http://127.0.0.1:{_free_port()}/_bed/reset", timeout_s=0.5)


def test_only_loopback_is_called() -> None:
    with pytest.raises(ValueError, match="only loopback"):
        loopback.answers("http://example.com/", budget_s=1)
