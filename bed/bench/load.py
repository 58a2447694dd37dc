"""A small, fast HTTP/1.1 load generator for the benchmarks (loopback targets only).

Pre-built request bytes over keep-alive connections with asyncio streams: several times
the request rate of a general-purpose client, so the server, not the client, is measured.
Bounded in both request count and time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
import urllib.parse


@dataclasses.dataclass(frozen=True)
class LoadResult:
    requests: int  # answered 2xx
    errors: int
    seconds: float
    latencies_ms: tuple[float, ...]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def summary(self) -> dict[str, float]:
        return {"rps": round(self.rps, 1), "p50_ms": round(self.percentile(50), 3),
                "p95_ms": round(self.percentile(95), 3), "p99_ms": round(self.percentile(99), 3),
                "mean_ms": round(statistics.fmean(self.latencies_ms), 3) if self.latencies_ms else 0.0,
                "requests": self.requests, "errors": self.errors}


def request_bytes(url: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[str, int, bytes]:
    parts = urllib.parse.urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"benchmarks only target loopback, not {host}")
    lines = [f"POST {parts.path or '/'} HTTP/1.1", f"Host: {host}:{port}", "Content-Type: application/json",
             f"Content-Length: {len(body)}", *(f"{k}: {v}" for k, v in (headers or {}).items()), "", ""]
    return host, port, "\r\n".join(lines).encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """One HTTP/1.1 response: its status and body, with a Content-Length or chunked."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.split(b"\r\n")
    parts = status_line.split()
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    length, chunked = 0, False
    for line in header_lines:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip(), 16)
        if size == 0:
            await reader.readuntil(b"\r\n")  # the blank line after the last chunk (no trailers sent)
            return status, bytes(body)
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def _worker(host: str, port: int, payload: bytes, deadline: float, budget: list[int],
                  latencies: list[float], errors: list[int], timeout_s: float) -> None:
    """Only 2xx answers count as requests (and latencies); anything else is an error. So is a
    request that gets no answer within ``timeout_s`` or loses its connection: the worker then
    connects again, so a gateway that drops a connection or hangs on one surface is measured
    as failing, never as a hung benchmark."""
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    try:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            try:
                if connection is None:
                    connection = await asyncio.wait_for(asyncio.open_connection(host, port), timeout_s)
                reader, writer = connection
                started = time.perf_counter()
                writer.write(payload)
                status, _ = await asyncio.wait_for(read_response(reader), timeout_s)
            except (OSError, EOFError, TimeoutError, ValueError, asyncio.LimitOverrunError):
                errors[0] += 1  # IncompleteReadError is an EOFError: the connection ended mid-answer
                _close(connection)
                connection = None
                await asyncio.sleep(0.05)  # refused or dropped: do not spin
                continue
            if 200 <= status < 300:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors[0] += 1
    finally:
        _close(connection)


def _close(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
    if connection is not None:
        connection[1].close()


async def _run(url: str, body: bytes, concurrency: int, seconds: float, max_requests: int,
               headers: dict[str, str] | None, timeout_s: float) -> LoadResult:
    host, port, payload = request_bytes(url, body, headers)
    latencies: list[float] = []
    errors, budget = [0], [max_requests]
    started = time.monotonic()
    await asyncio.gather(*(_worker(host, port, payload, started + seconds, budget, latencies, errors, timeout_s)
                           for _ in range(concurrency)))
    return LoadResult(len(latencies), errors[0], time.monotonic() - started, tuple(latencies))


def load(url: str, body: bytes, *, concurrency: int = 32, seconds: float = 5.0, max_requests: int = 500_000,
         headers: dict[str, str] | None = None, timeout_s: float = 30.0) -> LoadResult:
    """POST ``body`` to ``url`` from ``concurrency`` keep-alive connections for ``seconds`` (each
    request waits at most ``timeout_s`` for its answer)."""
    return asyncio.run(_run(url, body, concurrency, seconds, max_requests, headers, timeout_s))
