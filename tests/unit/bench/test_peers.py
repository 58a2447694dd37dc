"""The peers bench's arithmetic: pytest's counts, which rounds count, medians, ratios, the table."""

from __future__ import annotations

import pytest

from bed.bench.peers import Counts, Round, markdown, order, parse_counts, summarise, table

GREEN = Counts(passed=30)


def _round(peer: str, index: int, up: float, tests: float, teardown: float, total: float,
           counts: Counts | None = GREEN, error: str = "") -> Round:
    return Round(peer, index, up, tests, teardown, total, counts, error)


@pytest.mark.parametrize(("output", "expected"), [
    ("..........\n30 passed in 15.26s\n", Counts(passed=30)),
    ("===== 28 passed, 2 skipped in 4.10s (0:00:04) =====\n", Counts(passed=28, skipped=2)),
    ("F.\n= 1 failed, 1 passed, 1 error in 2.00s =\n", Counts(passed=1, failed=1, errors=1)),
    ("2 errors in 0.50s\n", Counts(errors=2)),
    ("no tests ran in 0.01s\n", Counts()),
    ("3 passed in 1.0s\nlater output\n1 failed, 2 passed in 1.5s\n", Counts(passed=2, failed=1)),  # the last one
])
def test_counts_come_from_pytests_last_summary_line(output: str, expected: Counts) -> None:
    assert parse_counts(output) == expected


@pytest.mark.parametrize("output", ["", "ImportError: no module named litellm\n", "30 passed\n"])
def test_no_summary_line_is_no_counts(output: str) -> None:
    assert parse_counts(output) is None


@pytest.mark.parametrize(("counts", "error", "ok"), [
    (GREEN, "", True),
    (Counts(passed=30, skipped=1), "", True),  # shown in the table, but the tests did run and pass
    (Counts(passed=29, failed=1), "", False),
    (Counts(passed=29, errors=1), "", False),
    (Counts(), "", False),  # nothing ran
    (None, "", False),
    (GREEN, "compose up exited 1", False),
])
def test_a_round_counts_only_when_its_tests_ran_and_passed(counts: Counts | None, error: str, ok: bool) -> None:
    assert _round("compose", 1, 1, 1, 1, 3, counts, error).ok is ok


def test_other_is_what_the_phases_do_not_cover_never_negative() -> None:
    assert _round("bed", 1, 5, 4, 1, 11).phases()["other"] == pytest.approx(1)
    assert _round("bed", 1, 5, 4, 1, 9).phases()["other"] == 0.0


def test_medians_are_over_passed_rounds_and_ratios_are_peer_over_bed() -> None:
    rounds = [
        _round("bed", 1, 5.0, 4.0, 0.5, 10.0), _round("bed", 2, 6.0, 5.0, 0.5, 12.0),
        _round("bed", 3, 7.0, 6.0, 0.5, 14.0),
        _round("compose", 1, 10.0, 8.0, 1.0, 19.0), _round("compose", 2, 12.0, 10.0, 1.0, 23.0),
        _round("compose", 3, 99.0, 99.0, 9.0, 207.0, Counts(passed=29, failed=1)),  # does not count
        _round("testcontainers", 1, 0, 0, 0.4, 0.4, None, "TimeoutError: HTTP endpoint not ready"),
    ]
    summary = summarise(rounds)
    bed, compose, tc = summary["bed"], summary["compose"], summary["testcontainers"]
    assert bed["median_s"] == {"up": 6.0, "tests": 5.0, "teardown": 0.5, "total": 12.0, "other": 0.5}
    assert compose["median_s"] == {"up": 11.0, "tests": 9.0, "teardown": 1.0, "total": 21.0, "other": 0.0}
    assert (compose["rounds"], compose["ok"]) == (3, 2)
    assert compose["total_range_s"] == [19.0, 23.0]  # the failed round's 207 s is not in it
    assert compose["ratio"] == {"up": 1.83, "tests": 1.8, "teardown": 2.0, "total": 1.75}
    assert bed["ratio"] == {"up": 1.0, "tests": 1.0, "teardown": 1.0, "total": 1.0}
    assert compose["errors"] == ["round 3: tests failed: 29 passed, 1 failed"]
    assert compose["tests"] == ["30 passed"]
    assert (tc["ok"], tc["median_s"], tc["ratio"], tc["total_range_s"]) == (0, {}, {}, [])
    assert tc["errors"] == ["round 1: TimeoutError: HTTP endpoint not ready"]


def test_without_a_passing_bed_round_there_are_no_ratios() -> None:
    summary = summarise([_round("bed", 1, 5, 4, 1, 10, Counts(passed=1, failed=1)), _round("compose", 1, 9, 8, 1, 18)])
    assert summary["compose"]["median_s"]["total"] == 18.0
    assert summary["compose"]["ratio"] == {}


def test_a_phase_bed_took_no_time_for_has_no_ratio() -> None:
    summary = summarise([_round("bed", 1, 5, 4, 0, 9), _round("compose", 1, 10, 8, 1, 19)])
    assert summary["compose"]["ratio"] == {"up": 2.0, "tests": 2.0, "total": 2.11}


def test_only_the_peers_asked_for_are_summarised_and_without_bed_none_has_ratios() -> None:
    rounds = [_round("bed", 1, 5, 4, 1, 10), _round("compose", 1, 10, 8, 1, 19), _round("compose", 2, 12, 8, 1, 21),
              _round("compose", 3, 12, 8, 1, 21, Counts(passed=29, skipped=1)),
              _round("testcontainers", 1, 9, 8, 1, 18)]
    summary = summarise(rounds, peers=("testcontainers", "compose"))
    assert list(summary) == ["testcontainers", "compose"]
    assert summary["compose"] == {"rounds": 3, "ok": 3, "tests": ["29 passed, 1 skipped", "30 passed"], "errors": [],
                                  "ratio": {}, "median_s": {"up": 12.0, "tests": 8.0, "teardown": 1.0, "total": 21.0,
                                                            "other": 0.0}, "total_range_s": [19.0, 21.0]}


def test_the_table_shows_medians_then_ratios() -> None:
    summary = summarise([_round("bed", 1, 5.0, 4.0, 0.5, 10.0), _round("compose", 1, 10.0, 8.0, 1.0, 19.0),
                         _round("testcontainers", 1, 0, 0, 0, 0, None, "boom")])
    lines = table(summary)
    assert lines[0].split() == ["peer", "ok", "up", "tests", "teardown", "total", "other", "tests"]
    assert lines[1].split() == ["bed", "1/1", "5.00", "4.00", "0.50", "10.00", "0.50", "30", "passed"]
    assert lines[2].split() == ["compose", "1/1", "10.00", "8.00", "1.00", "19.00", "0.00", "30", "passed"]
    assert lines[3].split() == ["testcontainers", "0/1", "-", "-", "-", "-", "-", "-"]
    assert lines[6].split() == ["compose", "2.00x", "2.00x", "2.00x", "1.90x"]
    assert lines[7].split() == ["testcontainers", "-", "-", "-", "-"]
    text = markdown(summary, {"runs": 1, "engine": "20.10", "compose": "docker compose 2.40.3",
                              "testcontainers": "4.15.0", "command": "bed bench peers --runs 1"})
    assert "| compose | 1/1 | 10.00 | 8.00 | 1.00 | 19.00 | 0.00 | 19.00-19.00 | 30 passed | 1.90x |" in text
    assert "| compose | 2.00x | 2.00x | 2.00x | 1.90x |" in text
    assert "- testcontainers round 1: boom" in text


def test_the_order_rotates_so_each_peer_goes_first_once_per_cycle() -> None:
    assert [order(i)[0] for i in (1, 2, 3, 4)] == ["bed", "compose", "testcontainers", "bed"]
    assert all(sorted(order(i)) == ["bed", "compose", "testcontainers"] for i in range(1, 7))


def test_the_testcontainers_peer_configures_testcontainers_only_for_its_round() -> None:
    from testcontainers.core.config import ConnectionMode, testcontainers_config

    from bed.bench.testcontainers_peer import _configured

    before = (testcontainers_config.ryuk_disabled, testcontainers_config.tc_host_override,
              testcontainers_config.connection_mode_override)
    with _configured():
        assert testcontainers_config.ryuk_disabled is True  # Ryuk cannot be pulled without a registry
        assert testcontainers_config.tc_host_override == "127.0.0.1"
        assert testcontainers_config.connection_mode_override is ConnectionMode.docker_host
    assert (testcontainers_config.ryuk_disabled, testcontainers_config.tc_host_override,
            testcontainers_config.connection_mode_override) == before
