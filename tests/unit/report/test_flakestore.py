"""The flake history between runs: round-trips, and a bad store is refused, never reset."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from bed.errors import ConfigError
from bed.model.quarantine import Book
from bed.policy import quarantine
from bed.redact import Redactor
from bed.report import flakestore

T0 = datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
TEST = "nd/test_a.py::test_x"


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "local" / "flakes.json"
    book = Book()
    for day in (0, 1):
        quarantine.record(book, "all_smokes_nd", flaky=[TEST], failed=[], passed=[],
                          now=T0 + datetime.timedelta(days=day), repromote_after=5)
    flakestore.save(book, path, Redactor())
    again = flakestore.load(path)
    assert again.is_quarantined(TEST)
    assert again.entries == book.entries


def test_no_store_yet_is_an_empty_book(tmp_path: Path) -> None:
    assert flakestore.load(tmp_path / "none.json").entries == {}


@pytest.mark.parametrize(("content", "says"), [
    (b"{broken", "is not JSON"),
    (b"[]", "has no 'tests' table"),
    (b'{"tests": {"a": {"check": "x", "flakes": [1]}}}', "wrong shape"),
    (b'{"tests": {"a": {"check": "x", "flakes": ["not a time"]}}}', "wrong shape"),
    (b'{"tests": {"a": {"check": "x", "surprise": 1}}}', "wrong shape"),
    (b'{"tests": {"a": "x"}}', "wrong shape"),
], ids=["not-json", "no-table", "flake-not-a-string", "flake-not-a-time", "unknown-field", "entry-not-a-table"])
def test_a_bad_store_is_refused_with_the_fix(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "flakes.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        flakestore.load(path)
    assert says in caught.value.line()
    assert f"mv {path} {path}.bak" in caught.value.line()
    assert path.read_bytes() == content
