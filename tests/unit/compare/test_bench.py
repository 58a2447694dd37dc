"""The compare leg's proxy bench: every surface, plain and streamed, bounded, errors counted."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from bed.compare import bench


class _Gateway(http.server.BaseHTTPRequestHandler):
    """Answers chat and responses (streamed: chunked), refuses messages with a 404."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[str, dict[str, Any], str]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, body, self.headers.get("Authorization", "")))
        if self.path == "/v1/messages":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        if body.get("stream"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in (b"data: {}\n\n", b"data: [DONE]\n\n"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Gateway.seen = []
    yield server.server_address[1]
    server.shutdown()


def test_every_surface_plain_and_streamed_is_measured_and_a_refusing_one_is_errors(gateway: int) -> None:
    result = bench.measure(f"http://127.0.0.1:{gateway}", "sk-test-key", "codex-agent-1", 0.2)
    assert list(result) == ["chat", "responses", "messages"]
    assert all(list(modes) == ["plain", "streamed"] for modes in result.values())
    for surface in ("chat", "responses"):
        for mode in ("plain", "streamed"):
            m = result[surface][mode]
            assert m["requests"] > 0
            assert m["errors"] == 0
            assert 0 < m["p50_ms"] <= m["p99_ms"]
            assert m["requests"] <= bench.MAX_REQUESTS
    assert result["messages"]["plain"]["p50_ms"] is None
    assert result["messages"]["plain"]["requests"] == 0
    assert result["messages"]["plain"]["errors"] > 0
    streamed = [body for path, body, _ in _Gateway.seen if path == "/v1/responses" and body.get("stream")]
    assert streamed
    assert streamed[0] == {"model": "codex-agent-1", "input": "bench", "stream": True}
    assert {auth for _, _, auth in _Gateway.seen} == {"Bearer sk-test-key"}


def test_the_bench_is_bounded_in_count(gateway: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "MAX_REQUESTS", 5)
    result = bench.measure(f"http://127.0.0.1:{gateway}", "k", "g", 5.0)
    assert result["chat"]["plain"]["requests"] == 5
    assert len([1 for path, body, _ in _Gateway.seen if path == "/v1/chat/completions" and not body.get("stream")]) \
        == 5 + bench.WARM
