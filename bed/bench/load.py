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
                  latencies: list[float], errors: list[int]) -> None:
    """Only 2xx answers count as requests (and latencies); anything else is an error."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.monotonic() < deadline and budget[0] > 0:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(payload)
            status, _ = await read_response(reader)
            if 200 <= status < 300:
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors[0] += 1
    finally:
        writer.close()


async def _run(url: str, body: bytes, concurrency: int, seconds: float, max_requests: int,
               headers: dict[str, str] | None) -> LoadResult:
    host, port, payload = request_bytes(url, body, headers)
    latencies: list[float] = []
    errors, budget = [0], [max_requests]
    started = time.monotonic()
    await asyncio.gather(*(_worker(host, port, payload, started + seconds, budget, latencies, errors)
                           for _ in range(concurrency)))
    return LoadResult(len(latencies), errors[0], time.monotonic() - started, tuple(latencies))


def load(url: str, body: bytes, *, concurrency: int = 32, seconds: float = 5.0, max_requests: int = 500_000,
         headers: dict[str, str] | None = None) -> LoadResult:
    """POST ``body`` to ``url`` from ``concurrency`` keep-alive connections for ``seconds``."""
    return asyncio.run(_run(url, body, concurrency, seconds, max_requests, headers))
