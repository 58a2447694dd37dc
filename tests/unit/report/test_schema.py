"""bed's own schema checker answers as jsonschema does, for every report shape tried."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from bed.report import schema
from tests.unit.test_bad_input import report

REPORT = schema.load("report.schema.json")
ODD_VALUES = [None, 0, 2, -1, 1.5, True, False, "", "x", "0123abcd", "NOT READY", [], ["x"], [1], {}, {"a": "b"},
              {"a": 1}]


def _places(node: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield where
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield from _places(child, (*where, key))


def _variants() -> Iterator[Any]:
    """The valid report, then every place of it replaced by each odd value, or removed."""
    base = json.loads(report(checks__0__cause={"nodeid": "n", "location": "l", "message": "m", "log_tail": ""},
                             checks__0__outcomes={"n": "failed"}))
    yield base
    for where in list(_places(base))[1:]:
        for value in [*ODD_VALUES, "<removed>"]:
            doc = copy.deepcopy(base)
            node = doc
            for key in where[:-1]:
                node = node[key]
            if value == "<removed>":
                del node[where[-1]]
            else:
                node[where[-1]] = value
            yield doc


def test_it_agrees_with_jsonschema_on_every_variant_of_a_report() -> None:
    checked = disagreements = 0
    for doc in _variants():
        mine = schema.first_error(doc, REPORT)
        theirs = jsonschema.Draft202012Validator(REPORT).is_valid(doc)
        checked += 1
        if (mine is None) != theirs:
            disagreements += 1
            print("disagree:", mine, json.dumps(doc)[:200])
    assert checked > 1000
    assert disagreements == 0


@pytest.mark.parametrize(("change", "says"), [
    ({"checks": None}, "checks: is missing"),
    ({"repro__env": "STRICT=1"}, 'repro.env: "STRICT=1" is not an object'),
    ({"checks__0__cause": {"nodeid": 1}}, "checks[0].cause"),
    ({"run_id": "XYZ"}, 'run_id: "XYZ" does not match ^[0-9a-f]{8}$'),
    ({"checks__0__tests": -1}, "checks[0].tests: -1 is below 0"),
    ({"schema_version": True}, "schema_version: true is not 2"),
])
def test_the_first_bad_field_is_named(change: dict[str, Any], says: str) -> None:
    problem = schema.first_error(json.loads(report(**change)), REPORT)
    assert problem is not None
    assert problem.startswith(says)


def test_a_keyword_it_does_not_implement_is_an_error_not_a_pass() -> None:
    with pytest.raises(schema.SchemaError, match="uniqueItems"):
        schema.first_error([1, 1], {"type": "array", "uniqueItems": True})


@pytest.mark.parametrize("name", ["report.schema.json", "compare.schema.json", "compare_leg.schema.json"])
def test_every_schema_bed_ships_uses_only_what_it_implements(name: str) -> None:
    def keywords(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from (k for v in value.values() for k in keywords(v)) if key in ("properties", "$defs") \
                    else keywords(value)
        elif isinstance(node, list):
            for item in node:
                yield from keywords(item)

    used = set(keywords(schema.load(name)))
    assert used <= set(schema._KEYWORDS) | schema._IGNORED, used - set(schema._KEYWORDS) - schema._IGNORED
