"""Joining a tier's parts into one run: strict about any part that did not finish."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from bed.pipeline import evidence
from bed.pipeline.parts import join_exit, join_junit, join_records

from ..fakes import raw_records

A, B, C = "nd/test_a.py::test_a", "nd/test_b.py::test_b", "nd/test_c.py::test_c"


def shard(selected: int, shard_out: int) -> dict[str, object]:
    return {"collected": 3, "selected": selected, "deselected": {"options": 0, "tier": 0, "select": 0,
                                                                 "shard": shard_out}, "missing": []}


def test_exit_codes_join_to_the_worst_part_and_an_empty_share_does_not_count() -> None:
    assert join_exit([0, 0, 5]) == 0
    assert join_exit([5, 5]) == 5
    assert join_exit([0, 1, 5]) == 1
    assert join_exit([1, 137]) == 137
    assert join_exit([0, None]) is None  # a part stopped at its budget


def test_records_join_into_one_session_that_ran_every_test_once() -> None:
    joined = evidence.parse(join_records([raw_records((A, "passed"), (B, "passed"), selection=shard(2, 1)),
                                          raw_records((C, "failed"), exitstatus=1, selection=shard(1, 2))]))
    assert joined.started
    assert joined.exitstatus == 1
    assert joined.failed == (C,)
    assert set(joined.passed) == {A, B}
    assert joined.selection is not None
    assert (joined.selection.selected, joined.selection.by_shard) == (3, 0)


def test_one_part_that_did_not_finish_makes_the_whole_unfinished() -> None:
    joined = evidence.parse(join_records([raw_records((A, "passed")), raw_records((B, "incomplete"), exitstatus=None)]))
    assert not joined.finished
    assert joined.failed == (B,)
    no_records = evidence.parse(join_records([raw_records((A, "passed")), None]))
    assert not no_records.started
    assert not no_records.finished
    assert join_records([None, None]) is None


def test_junit_documents_join_with_their_counts_summed() -> None:
    def doc(*cases: str, failures: int = 0) -> str:
        body = "".join(f'<testcase classname="nd" name="{c}" time="0.1"/>' for c in cases)
        return (f'<?xml version="1.0"?><testsuites><testsuite name="all_smokes_nd" tests="{len(cases)}" '
                f'failures="{failures}" errors="0" skipped="0" time="1.5">{body}</testsuite></testsuites>')
    joined = join_junit([doc("a", "b"), None, doc("c", failures=1)])
    assert joined is not None
    suite = next(ET.fromstring(joined).iter("testsuite"))  # noqa: S314 - written just above
    assert [c.get("name") for c in suite.iter("testcase")] == ["a", "b", "c"]
    assert (suite.get("tests"), suite.get("failures")) == ("3", "1")
    assert json.dumps(join_junit([None])) == "null"
    # a part whose JUnit is cut short or holds no suite costs nothing of the others' cases
    broken = join_junit(["<testsuites><testsuite", "<testsuites/>", doc("d"), doc("e")])
    assert broken is not None
    assert [c.get("name") for c in ET.fromstring(broken).iter("testcase")] == ["d", "e"]  # noqa: S314
