"""The small part of OData ``$filter`` that ARM list calls use: ``field eq 'value'`` joined by ``and``.

Fields are ``name``, ``kind`` and ``properties/<name>`` (one level); values are single-quoted
strings (``''`` escapes a quote). Anything else is a clear 400, never a silent match-all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ova.common.errors import ValidationFailed

MAX_LENGTH = 512
CLAUSE = re.compile(r"\s*(name|kind|properties/[A-Za-z][A-Za-z0-9]{0,63})\s+eq\s+'((?:[^']|'')*)'\s*", re.I)
Predicate = Callable[[Mapping[str, Any]], bool]


def parse(expression: str | None) -> Predicate | None:
    """A predicate over rendered resources, or ``None`` when there is no filter."""
    if expression is None or not expression.strip():
        return None
    if len(expression) > MAX_LENGTH:
        raise ValidationFailed("$filter is too long.", target="$filter")
    clauses: list[tuple[str, str]] = []
    for part in re.split(r"\s+and\s+", expression.strip(), flags=re.I):
        match = CLAUSE.fullmatch(part)
        if match is None:
            raise ValidationFailed(
                "$filter supports field eq 'value' clauses joined by and (name, kind, properties/<name>).",
                target="$filter",
            )
        clauses.append((match.group(1), match.group(2).replace("''", "'")))
    return lambda resource: all(field_value(resource, field) == value for field, value in clauses)


def field_value(resource: Mapping[str, Any], field: str) -> str | None:
    if field.lower() == "name":
        return str(resource.get("name"))
    if field.lower() == "kind":
        return str(resource.get("kind"))
    value = resource.get("properties", {}).get(field.split("/", 1)[1])
    return None if value is None else str(value)
