from __future__ import annotations

import datetime

from bed.policy.quarantine import Book, as_report, issue_text

T0 = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
TEST = "nd/test_a.py::test_x"


def _flake(store: Book, when: datetime.datetime):  # type: ignore[no-untyped-def]
    return store.record("all_smokes_nd", flaky=[TEST], failed=[], passed=[], now=when, repromote_after=3)


def test_two_flakes_within_seven_days_quarantine() -> None:
    store = Book()
    assert _flake(store, T0).quarantined == ()
    assert _flake(store, T0 + 3 * DAY).quarantined == (TEST,)
    assert store.is_quarantined(TEST)
    assert "within 7 days" in issue_text(TEST, store.entries[TEST], 3)


def test_flakes_further_apart_than_seven_days_do_not() -> None:
    store = Book()
    _flake(store, T0)
    assert _flake(store, T0 + 8 * DAY).quarantined == ()
    assert not store.is_quarantined(TEST)


def test_repromotion_needs_consecutive_clean_runs() -> None:
    store = Book()
    _flake(store, T0)
    _flake(store, T0 + DAY)
    ok = {"flaky": [], "failed": [], "passed": [TEST], "repromote_after": 3}
    store.record("all_smokes_nd", now=T0 + 2 * DAY, **ok)  # type: ignore[arg-type]
    store.record("all_smokes_nd", now=T0 + 2 * DAY, **ok)  # type: ignore[arg-type]
    store.record("all_smokes_nd", flaky=[], failed=[TEST], passed=[], now=T0 + 2 * DAY, repromote_after=3)
    assert store.entries[TEST].clean_runs == 0  # a failure resets the count
    for _ in range(2):
        assert store.record("all_smokes_nd", now=T0 + 3 * DAY, **ok).repromoted == ()  # type: ignore[arg-type]
    assert store.record("all_smokes_nd", now=T0 + 3 * DAY, **ok).repromoted == (TEST,)  # type: ignore[arg-type]
    assert not store.is_quarantined(TEST)


def test_a_flake_resets_the_clean_count_and_old_flakes_age_out() -> None:
    book = Book()
    _flake(book, T0)
    _flake(book, T0 + DAY)
    book.record("all_smokes_nd", flaky=[], failed=[], passed=[TEST], now=T0 + 2 * DAY, repromote_after=3)
    assert book.entries[TEST].clean_runs == 1
    _flake(book, T0 + 20 * DAY)
    assert book.entries[TEST].clean_runs == 0
    assert book.entries[TEST].flakes == [(T0 + 20 * DAY).isoformat()]  # the two old ones aged out of the window


def test_a_failure_of_an_unknown_test_records_nothing() -> None:
    book = Book()
    book.record("all_smokes_nd", flaky=[], failed=[TEST], passed=[TEST + "2"], now=T0, repromote_after=3)
    assert book.entries == {}


def test_report_lists_only_quarantined_tests() -> None:
    book = Book()
    _flake(book, T0)
    assert as_report(book, 5) == []
    _flake(book, T0 + DAY)
    assert as_report(book, 5) == [{"nodeid": TEST, "check": "all_smokes_nd", "flakes": 2,
                                   "since": (T0 + DAY).isoformat(), "clean_runs": 0, "repromote_after": 5}]
