"""`bed compare`: the same gate against several LiteLLM gateways, and every difference between them.

    gateways.py  the gateways the user named: parsed, checked, named and given a folder each
    legs.py      one leg: the gate against one gateway (its own stack and reports), its proxy
                 benched while the stack is up, its facts written to leg.json
    bench.py     the short, bounded latency bench of a leg's proxy, per surface
    merge.py     legs (from this machine or from CI jobs) -> one comparison document

The rules that call a difference a regression are pure and live in bed/policy/regressions.py;
compare.md (with its Mermaid chart) and compare.json are written by bed/report/compare.py.
"""
