"""Joining a tier's parts into one run: strict about any part that did not finish."""

from __future__ import annotations

from bed.model import evidence
from bed.tiers.parts import join_exit, join_records

from ..fakes import raw_records

A, B, C = "nd/test_a.py::test_a", "nd/test_b.py::test_b", "nd/test_c.py::test_c"


def shard(selected: list[str], shard_out: list[str]) -> dict[str, object]:
    return {"collected": 3, "selected": len(selected), "selected_ids": selected,
            "deselected": {"options": 0, "tier": 0, "select": 0, "shard": len(shard_out)},
            "deselected_ids": {"shard": shard_out}, "missing": []}


def part(sid: str, *tests: tuple[str, str], **kwargs: object) -> bytes:
    return raw_records(*tests, census=[A, B, C], sid=sid, pid=hash(sid) % 1000, **kwargs)  # type: ignore[arg-type]


def test_exit_codes_join_to_the_worst_part_and_an_empty_share_does_not_count() -> None:
    assert join_exit([0, 0, 5]) == 0
    assert join_exit([5, 5]) == 5
    assert join_exit([0, 1, 5]) == 1
    assert join_exit([1, 137]) == 137
    assert join_exit([0, None]) is None  # a part stopped at its budget


def test_records_join_into_one_session_that_ran_every_test_once() -> None:
    joined = evidence.parse(join_records([part("p1", (A, "passed"), (B, "passed"), selection=shard([A, B], [C])),
                                          part("p2", (C, "failed"), exitstatus=1, selection=shard([C], [A, B]))]), 2)
    assert joined.started
    assert joined.exitstatus == 1
    assert joined.failed == (C,)
    assert set(joined.passed) == {A, B}
    assert not joined.conflicts
    assert joined.selection is not None
    assert (joined.selection.selected, joined.selection.by_shard) == (3, 0)
    assert set(joined.selection.selected_ids) == {A, B, C}
    assert joined.selection.deselected == {}  # each part's share is selected in another


def test_one_part_that_did_not_finish_makes_the_whole_unfinished() -> None:
    joined = evidence.parse(join_records([part("p1", (A, "passed")), part("p2", (B, "incomplete"), exitstatus=None)]),
                            2)
    assert not joined.finished
    assert joined.failed == (B,)
    no_records = evidence.parse(join_records([part("p1", (A, "passed")), None]), 2)
    assert not no_records.started
    assert not no_records.finished
    assert join_records([None, None]) is None


def test_parts_that_contradict_each_other_are_conflicts() -> None:
    twice = evidence.parse(join_records([part("p1", (A, "passed")), part("p2", (A, "failed"), exitstatus=1)]), 2)
    assert twice.conflicts == (f"{A} ran in two parts of the tier",)
    more = evidence.parse(join_records([part("p1", (A, "passed")), part("p2", (B, "passed")),
                                        part("p3", (C, "passed"))]), 2)
    assert "records of 3 sessions where 2 ran" in more.conflicts
    differ = evidence.parse(join_records([part("p1", (A, "passed")),
                                          raw_records((B, "passed"), census=[B], sid="p2", pid=7)]), 2)
    assert "the parts of the tier collected different tests" in differ.conflicts
