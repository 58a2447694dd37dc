"""The load generator counts only 2xx as requests and stays in sync on chunked answers."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from bed.bench.load import load, read_response


def _reader(data: bytes) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    return reader


def test_content_length_and_chunked_bodies_are_read_whole() -> None:
    async def go() -> list[tuple[int, bytes]]:
        reader = _reader(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
                         b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"4\r\ndata\r\n6;ext=1\r\n: ping\r\n0\r\n\r\n"
                         b"HTTP/1.1 503 Busy\r\ncontent-length: 0\r\n\r\n")
        return [await read_response(reader) for _ in range(3)]

    assert asyncio.run(go()) == [(200, b"hello"), (200, b"data: ping"), (503, b"")]


@pytest.fixture
def server() -> Iterator[int]:
    """Alternates a chunked 200 and a 500 on one keep-alive connection."""
    loop = asyncio.new_event_loop()
    count = [0]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = int(next(ln.split(b":")[1] for ln in lines if ln.lower().startswith(b"content-length")))
                await reader.readexactly(length)
                count[0] += 1
                if count[0] % 2:
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
                else:
                    writer.write(b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\noops")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield port
    loop.call_soon_threadsafe(loop.stop)


def test_errors_are_not_counted_as_requests(server: int) -> None:
    result = load(f"http://127.0.0.1:{server}/", b"{}", concurrency=1, seconds=5, max_requests=10)
    assert (result.requests, result.errors) == (5, 5)
    assert len(result.latencies_ms) == 5


def test_only_loopback_is_a_target() -> None:
    with pytest.raises(ValueError, match="loopback"):
        load("http://example.com/", b"{}", seconds=0.1)


def _listener(behaviour: str) -> tuple[socket.socket, int]:
    """A loopback port that answers nothing (hang) or closes every connection at once (drop)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)

    def serve() -> None:
        held = []
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            if behaviour == "drop":
                conn.close()
            else:
                held.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    return sock, sock.getsockname()[1]


def test_a_refused_port_is_errors_within_the_time_not_a_crash() -> None:
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    started = time.monotonic()
    result = load(f"http://127.0.0.1:{port}/", b"{}", concurrency=2, seconds=0.3, max_requests=100)
    assert time.monotonic() - started < 2
    assert result.requests == 0
    assert result.errors >= 2


@pytest.mark.parametrize("behaviour", ["drop", "hang"])
def test_a_dropped_or_unanswered_request_is_an_error_and_the_bench_ends(behaviour: str) -> None:
    sock, port = _listener(behaviour)
    try:
        started = time.monotonic()
        result = load(f"http://127.0.0.1:{port}/", b"{}", concurrency=1, seconds=0.3, max_requests=5, timeout_s=0.5)
        assert time.monotonic() - started < 5
        assert (result.requests, result.latencies_ms) == (0, ())
        assert result.errors >= 1
    finally:
        sock.close()
