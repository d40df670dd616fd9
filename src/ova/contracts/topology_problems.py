"""Turns pydantic's errors for a topology into ``Problems`` with JSON-path targets.

Paths read like the JSON (``properties.sinks[0].inputs[0].nodeName``); pydantic's own
location steps (union tags, validator names) are dropped, and its wording is replaced
by messages written for people who write topologies.
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ova.common.errors import ErrorDetail, Problems

MAX_REPORTED = 50
SCHEMA_ERROR = "InvalidValue"
MESSAGES = {
    "missing": "The property '{field}' is required.",
    "extra_forbidden": "'{field}' is not a property of this object.",
    "string_type": 'Must be a string (numbers and booleans are written as strings, e.g. "90").',
    "list_type": "Must be an array.",
    "dict_type": "Must be a JSON object.",
    "model_type": "Must be a JSON object.",
    "model_attributes_type": "Must be a JSON object.",
    "string_too_long": "Must be at most {max_length} characters long.",
    "string_too_short": "Must not be empty.",
    "too_long": "Must have at most {max_length} items.",
    "too_short": "Must have at least {min_length} item(s).",
}


def json_path(location: tuple[int | str, ...]) -> str:
    """``('properties', 'sinks', 0, 'name')`` -> ``properties.sinks[0].name``."""
    path = ""
    for step in location:
        if isinstance(step, int):
            path += f"[{step}]"
        elif not _is_pydantic_step(step):
            path = f"{path}.{step}" if path else step
    return path


def _is_pydantic_step(step: str) -> bool:
    """Union tags (``#Microsoft.VideoAnalyzer.X``) and validator names are not JSON properties."""
    return step.startswith("#") or step.startswith("function-")


def message_for(error: ErrorDetails) -> str:
    template = MESSAGES.get(error["type"])
    if template is None:
        return error["msg"]
    steps = [step for step in error["loc"] if isinstance(step, str) and not _is_pydantic_step(step)]
    context = {**error.get("ctx", {}), "field": steps[-1] if steps else ""}
    return template.format(**context)


def add_validation_errors(problems: Problems, error: ValidationError) -> None:
    """Add one problem per pydantic error."""
    for detail in error.errors(include_url=False, include_input=False):
        path = json_path(detail["loc"])
        if detail["type"] == "unknown_type":
            path = f"{path}.@type" if path else "@type"
        problems.items.append(
            ErrorDetail(code=SCHEMA_ERROR, message=message_for(detail), target=path or None)
        )


def raise_if_any(problems: Problems, summary: str) -> None:
    """Raise one ``ValidationFailed`` listing the first ``MAX_REPORTED`` problems, if there are any."""
    if len(problems.items) > MAX_REPORTED:
        unlisted = len(problems.items) - MAX_REPORTED
        del problems.items[MAX_REPORTED:]
        problems.items.append(
            ErrorDetail(code=SCHEMA_ERROR, message=f"{unlisted} more problems were not listed.")
        )
    problems.raise_if_any(summary)
