"""Turns pydantic validation errors into the project's ``ValidationFailed`` with JSON-path targets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ova.common.errors import Problems

ModelT = TypeVar("ModelT", bound=BaseModel)

_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known property",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "int_parsing": "must be an integer",
    "bool_type": "must be a boolean",
    "list_type": "must be an array",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "string_too_long": "is too long",
    "string_too_short": "is too short",
    "too_long": "has too many items",
    "too_short": "has too few items",
    "literal_error": "has a value that is not allowed",
    "enum": "has a value that is not allowed",
}


def json_path(prefix: str, location: tuple[int | str, ...]) -> str:
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def parse_model(model: type[ModelT], data: object, prefix: str = "") -> ModelT:
    """Validate ``data`` into ``model`` or raise one ``ValidationFailed`` naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = Problems()
        for error in exc.errors(include_url=False, include_input=False):
            location = tuple(part for part in error["loc"] if not _is_union_tag(part))
            target = json_path(prefix, location) or "body"
            text = _MESSAGES.get(error["type"])
            message = f"'{target}' {text}." if text else f"'{target}': {error['msg']}."
            problems.add(target, message)
        problems.raise_if_any()
        raise  # pragma: no cover - raise_if_any always raises here


def _is_union_tag(part: int | str) -> bool:
    return isinstance(part, str) and (part.startswith("function-") or part.startswith("#Microsoft."))


def reject_non_object(data: object, target: str) -> Mapping[str, object]:
    if not isinstance(data, Mapping):
        problems = Problems()
        problems.add(target, f"'{target}' must be a JSON object.")
        problems.raise_if_any()
    assert isinstance(data, Mapping)
    return data
