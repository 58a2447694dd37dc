"""`bed bench`: where the time goes, measured against the floor in the same run.

    bed bench            the warm core gate N times, in-process, phase by phase, against its floor:
                         max(proxy bare boot, deterministic tier run directly) + the ND tier run
                         directly in the runner image
    bed bench reuse      `bed run --reuse` N times on the stack `bed up` keeps: the dev loop, best
                         and median wall against its 3 s goal
    bed bench shim       the shim's throughput and latency next to a bare ASGI hello app on the
                         same server stack (uvicorn + uvloop + httptools), same image
    bed bench gateway    LiteLLM proxy overhead over the shim: latency percentiles, plain and
                         streamed, and requests per second at a few concurrency levels
    bed bench peers      bed next to docker compose (compose/bed.yaml) and plain testcontainers with
                         its default waits: the same images and ND tests, rounds in rotating order,
                         start-to-healthy, tests, teardown and total, medians and ratios peer / bed

Every load targets loopback only and is bounded in time and count. Results are written as JSON
(and Markdown for the gateway, with Mermaid charts, and for the peers) under local/artifacts/bench/.
"""
