"""Checking a document against the JSON schemas bed ships, without a runtime dependency.

`bed repro` and `bed compare --merge` read reports that may come from anywhere (a CI artifact, a
hand edit). Each is checked against ``report.schema.json`` before bed uses a field of it, and the
first bad field is named (``repro.env``: not an object). jsonschema would do it, but it is a dev
dependency only (with referencing, rpds and attrs behind it); bed's schemas use a small part of
JSON Schema 2020-12, and this module implements exactly that part. A keyword outside it is an
error, so a schema edit can never be silently unchecked; tests/unit/report/test_schema.py holds
this checker to jsonschema's answers.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parent
_IGNORED = frozenset({"$schema", "$id", "title", "description", "$defs"})
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


class SchemaError(Exception):
    """The schema uses a keyword this checker does not implement (a bug in bed, not in the input)."""


@functools.cache
def load(name: str) -> Mapping[str, Any]:
    """One of bed's schemas by file name (``report.schema.json``)."""
    data: Mapping[str, Any] = json.loads((FOLDER / name).read_text(encoding="utf-8"))
    return data


def first_error(document: Any, schema: Mapping[str, Any]) -> str | None:
    """The first place ``document`` breaks ``schema``, as ``where: what``; None when it conforms."""
    return _check(document, schema, schema, "")


def _check(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    unknown = set(node) - _IGNORED - set(_KEYWORDS)
    if unknown:
        raise SchemaError(f"bed's schema checker does not implement {sorted(unknown)}")
    for keyword, rule in _KEYWORDS.items():
        if keyword in node:
            problem = rule(value, node, root, where)
            if problem:
                return problem
    return None


def _at(where: str) -> str:
    return where or "the document"


def _type(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    wanted = node["type"] if isinstance(node["type"], list) else [node["type"]]
    if any(_TYPES[t](value) for t in wanted):
        return None
    return f"{_at(where)}: {_shown(value)} is not {' or '.join(_article(t) for t in wanted)}"


def _enum(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    if any(_same(value, option) for option in node["enum"]):
        return None
    return f"{_at(where)}: {_shown(value)} is not one of {', '.join(json.dumps(o) for o in node['enum'])}"


def _const(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    return None if _same(value, node["const"]) else f"{_at(where)}: {_shown(value)} is not {json.dumps(node['const'])}"


def _pattern(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    if not isinstance(value, str) or re.search(node["pattern"], value):
        return None
    return f"{_at(where)}: {_shown(value)} does not match {node['pattern']}"


def _minimum(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    if not _TYPES["number"](value) or value >= node["minimum"]:
        return None
    return f"{_at(where)}: {value} is below {node['minimum']}"


def _min_items(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    if not isinstance(value, list) or len(value) >= node["minItems"]:
        return None
    return f"{_at(where)}: has {len(value)} item(s), fewer than {node['minItems']}"


def _required(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    if not isinstance(value, dict):
        return None
    missing = next((k for k in node["required"] if k not in value), None)
    return None if missing is None else f"{_join(where, missing)}: is missing"


def _properties(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    if not isinstance(value, dict):
        return None
    for key, sub in node["properties"].items():
        if key in value and (problem := _check(value[key], sub, root, _join(where, key))):
            return problem
    return None


def _additional(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    if not isinstance(value, dict):
        return None
    rule = node["additionalProperties"]
    for key in (k for k in value if k not in node.get("properties", {})):
        if rule is False:
            return f"{_join(where, key)}: is not a field of this document"
        if isinstance(rule, dict) and (problem := _check(value[key], rule, root, _join(where, key))):
            return problem
    return None


def _items(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    if not isinstance(value, list):
        return None
    for index, item in enumerate(value):
        if problem := _check(item, node["items"], root, f"{where}[{index}]"):
            return problem
    return None


def _ref(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    ref = node["$ref"]
    if not ref.startswith("#/"):
        raise SchemaError(f"bed's schema checker follows local references only, not {ref}")
    target: Any = root
    for part in ref[2:].split("/"):
        target = target[part]
    return _check(value, target, root, where)


def _one_of(value: Any, node: Mapping[str, Any], root: Mapping[str, Any], where: str) -> str | None:
    problems = [_check(value, option, root, where) for option in node["oneOf"]]
    matched = problems.count(None)
    if matched == 1:
        return None
    if matched == 0:
        return min((p for p in problems if p), key=len)  # the nearest miss says the most
    return f"{_at(where)}: matches {matched} of its alternatives, not exactly one"


_KEYWORDS: dict[str, Callable[[Any, Mapping[str, Any], Mapping[str, Any], str], str | None]] = {
    "$ref": _ref, "type": _type, "const": _const, "enum": _enum, "pattern": _pattern, "minimum": _minimum,
    "minItems": _min_items, "required": _required, "properties": _properties,
    "additionalProperties": _additional, "items": _items, "oneOf": _one_of,
}


def _same(value: Any, option: Any) -> bool:
    """JSON equality: true is not 1, 1.0 is 1."""
    if isinstance(value, bool) or isinstance(option, bool):
        return type(value) is type(option) and value == option
    if isinstance(value, int | float) != isinstance(option, int | float):
        return False
    return bool(value == option)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _article(name: str) -> str:
    return {"object": "an object", "array": "an array", "integer": "an integer"}.get(name, f"a {name}")


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 40 else text[:37] + "..."
