from __future__ import annotations

import datetime
from pathlib import Path

from bed._flakes import FlakeStore, as_report, issue_text

T0 = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
TEST = "nd/test_a.py::test_x"


def _flake(store: FlakeStore, when: datetime.datetime):  # type: ignore[no-untyped-def]
    return store.record("all_smokes_nd", flaky=[TEST], failed=[], passed=[], now=when, repromote_after=3)


def test_two_flakes_within_seven_days_quarantine(tmp_path: Path) -> None:
    store = FlakeStore(tmp_path / "flakes.json")
    assert _flake(store, T0).quarantined == ()
    assert _flake(store, T0 + 3 * DAY).quarantined == (TEST,)
    assert store.is_quarantined(TEST)
    assert "within 7 days" in issue_text(TEST, store.entries[TEST], 3)


def test_flakes_further_apart_than_seven_days_do_not(tmp_path: Path) -> None:
    store = FlakeStore(tmp_path / "flakes.json")
    _flake(store, T0)
    assert _flake(store, T0 + 8 * DAY).quarantined == ()
    assert not store.is_quarantined(TEST)


def test_repromotion_needs_consecutive_clean_runs(tmp_path: Path) -> None:
    store = FlakeStore(tmp_path / "flakes.json")
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


def test_store_round_trips_and_tolerates_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "flakes.json"
    store = FlakeStore(path)
    _flake(store, T0)
    _flake(store, T0 + DAY)
    store.save()
    again = FlakeStore.load(path)
    assert again.is_quarantined(TEST)
    assert as_report(again, 5)[0]["flakes"] == 2
    path.write_text("{broken")
    assert FlakeStore.load(path).entries == {}
