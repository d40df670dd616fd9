"""Scalar values of pipeline topology JSON: names, bounded text, and numbers written as strings.

Most numeric and boolean node values are JSON *strings* (``"quality": "90"``,
``"skipSamplesWithoutAnnotation": "false"``) and any string may hold ``${parameter}``
references, so a value is checked only when it holds no reference; otherwise it is
checked when a pipeline supplies the parameters. Enumerated values are accepted in any
case and stored in their canonical spelling.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, PlainValidator, StringConstraints
from pydantic_core import PydanticCustomError

PREFIX = "#Microsoft.VideoAnalyzer."
MAX_TEXT = 4096
MAX_DESCRIPTION = 2048
MAX_TITLE = 256
MAX_CERTIFICATE = 16 * 1024
MAX_NAME = 32
MAX_PARAMETER_NAME = 64
MAX_NODES = 100
MAX_PARAMETERS = 50

ENTITY_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
ENTITY_NAME_RULE = "Use 1 to 32 letters, digits and dashes, not starting or ending with a dash."
PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PARAMETER_NAME_RULE = "Use 1 to 64 letters, digits, dashes and underscores."
REFERENCE = re.compile(r"\$\{([^}]*)\}")
DURATION = re.compile(
    r"^(?P<sign>[+-])?P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
INTEGER = re.compile(r"^[+-]?\d{1,18}$")


def references(text: str) -> list[str]:
    """Names inside ``${...}`` in ``text``, in order of appearance."""
    return REFERENCE.findall(text)


def has_reference(text: str) -> bool:
    return REFERENCE.search(text) is not None


def invalid(message: str) -> PydanticCustomError:
    """A validation error whose message is shown to the caller as written."""
    return PydanticCustomError("invalid_value", message)


def parse_duration(text: str) -> float | None:
    """Seconds in an ISO 8601 duration such as ``PT30S``, ``-PT5S`` or ``P1DT2H``; None if malformed."""
    match = DURATION.fullmatch(text)
    units = (("days", 86400), ("hours", 3600), ("minutes", 60), ("seconds", 1))
    if match is None or text.endswith("T") or not any(match[unit] for unit, _ in units):
        return None
    parts = match.groupdict()
    seconds = sum(float(parts[unit] or 0) * scale for unit, scale in units)
    return -seconds if parts["sign"] == "-" else seconds


def parse_bool(text: str) -> bool | None:
    return {"true": True, "false": False}.get(text.strip().lower())


def is_integer(text: str) -> bool:
    return INTEGER.match(text.strip()) is not None


def is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _entity_name(value: str) -> str:
    if not ENTITY_NAME.fullmatch(value):
        raise invalid(f"'{value[:64]}' is not a valid name. {ENTITY_NAME_RULE}")
    return value


def _parameter_name(value: str) -> str:
    if not PARAMETER_NAME.fullmatch(value):
        raise invalid(f"'{value[:80]}' is not a valid parameter name. {PARAMETER_NAME_RULE}")
    return value


def choice(*values: str) -> Callable[[str], str]:
    """A check that maps a value to its canonical spelling among ``values``, ignoring case."""
    canonical = {value.lower(): value for value in values}

    def check(value: str) -> str:
        if has_reference(value):
            return value
        found = canonical.get(value.lower())
        if found is None:
            raise invalid(f"'{value[:64]}' is not allowed; use one of: {', '.join(values)}.")
        return found

    return check


def number(
    *, integer: bool = False, minimum: float | None = None, maximum: float | None = None
) -> Callable[[str], str]:
    """A check for a number written as a string, optionally bounded (both ends inclusive)."""
    kind = "an integer" if integer else "a number"

    def check(value: str) -> str:
        if has_reference(value):
            return value
        if not (is_integer(value) if integer else is_number(value)):
            raise invalid(f"'{value[:64]}' is not {kind} (numbers are written as strings, e.g. \"90\").")
        if (minimum is not None and float(value) < minimum) or (
            maximum is not None and float(value) > maximum
        ):
            raise invalid(f"{value} is out of range; use {kind}{_bounds(minimum, maximum)}.")
        return value

    return check


def _bounds(minimum: float | None, maximum: float | None) -> str:
    low = "" if minimum is None else f" from {minimum:g}"
    high = "" if maximum is None else f" up to {maximum:g}"
    return low + high


def duration(minimum: float, maximum: float, step: float | None = None) -> Callable[[str], str]:
    """A check for an ISO 8601 duration between ``minimum`` and ``maximum`` seconds, in ``step`` steps."""

    def check(value: str) -> str:
        if has_reference(value):
            return value
        seconds = parse_duration(value)
        if seconds is None:
            raise invalid(f"'{value[:64]}' is not an ISO 8601 duration such as PT30S.")
        if not minimum <= seconds <= maximum or (step is not None and seconds % step):
            every = f" in steps of {step:g} s" if step else ""
            raise invalid(f"{value} is out of range; use {minimum:g} s to {maximum:g} s{every}.")
        return value

    return check


def _boolean_text(value: str) -> str:
    if has_reference(value):
        return value
    parsed = parse_bool(value)
    if parsed is None:
        raise invalid(f'\'{value[:64]}\' is not a boolean; write "true" or "false".')
    return "true" if parsed else "false"


def _flag(value: object) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) <= MAX_TEXT:
        return _boolean_text(value)
    raise invalid("Must be true, false, or a string holding one of them.")


Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
RequiredText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)]
Title = Annotated[str, StringConstraints(max_length=MAX_TITLE)]
Certificate = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CERTIFICATE)]
EntityName = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_entity_name)]
ParameterName = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_parameter_name)]
BoolText = Annotated[Text, AfterValidator(_boolean_text)]
IntText = Annotated[Text, AfterValidator(number(integer=True))]
NumberText = Annotated[Text, AfterValidator(number())]
# A JSON boolean or a string holding one (``outputMotionRegion`` is a real boolean in the SDK).
Flag = Annotated[bool | str, PlainValidator(_flag)]
