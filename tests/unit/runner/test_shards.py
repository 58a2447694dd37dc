from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bed.runner.bed_shards import parse, partition


def test_parse() -> None:
    assert parse("1/2") == (1, 2)
    for bad in ("0/2", "3/2", "a/b", "2", "1/", "/2"):
        with pytest.raises(ValueError, match="shard"):
            parse(bad)


def test_balances_by_recorded_durations() -> None:
    durations = {"a": 10.0, "b": 6.0, "c": 5.0, "d": 1.0}
    parts = partition(durations, 2, durations)
    loads = [sum(durations[i] for i in p) for p in parts]
    assert sorted(loads) == [11.0, 11.0]


def test_unknown_tests_cost_the_median() -> None:
    parts = partition(["a", "b", "new1", "new2"], 2, {"a": 4.0, "b": 4.0})
    assert [len(p) for p in parts] == [2, 2]


@given(ids=st.sets(st.text(min_size=1, max_size=8), max_size=40), total=st.integers(1, 6),
       seed=st.dictionaries(st.text(min_size=1, max_size=8), st.floats(0, 100), max_size=40))
def test_every_test_in_exactly_one_shard_and_deterministic(ids: set[str], total: int, seed: dict[str, float]) -> None:
    parts = partition(ids, total, seed)
    flat = [i for p in parts for i in p]
    assert sorted(flat) == sorted(ids)
    assert len(parts) == total
    assert partition(sorted(ids, reverse=True), total, seed) == parts
