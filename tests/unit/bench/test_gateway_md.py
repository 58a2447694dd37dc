"""`bed bench gateway`'s Markdown: the table, then its charts as Mermaid blocks (no plotting library)."""

from __future__ import annotations

from bed.bench.gateway import _markdown


def row(path: str, mode: str, level: int, p50: float, p99: float, rps: float, requests: int = 100) -> dict[str, object]:
    return {"path": path, "mode": mode, "concurrency": level, "rps": rps, "p50_ms": p50, "p95_ms": p99, "p99_ms": p99,
            "mean_ms": p50, "requests": requests, "errors": 0}


def test_the_table_comes_with_p50_p99_and_throughput_charts() -> None:
    md = _markdown([row("direct", "plain", 1, 0.5, 1.0, 1800.0), row("proxy", "plain", 1, 6.0, 9.5, 160.0),
                    row("proxy", "streamed", 1, 7.0, 12.0, 0.0, requests=0)])
    assert md.startswith("| path | mode | concurrency | req/s |")
    assert "| proxy | plain | 1 | 160.0 | 6.0 | 9.5 | 9.5 | 100 | 0 |" in md
    assert md.count("```mermaid\n") == md.count("\nxychart-beta horizontal\n") == 3
    # what never answered is not drawn
    assert '    title "p50 latency (ms)"\n    x-axis ["direct plain c=1", "proxy plain c=1"]\n' in md
    assert "    bar [0.5, 6]\n" in md
    assert '    title "throughput (req/s)"' in md
