"""Topology parameters: declarations, ``${name}`` references, and the values pipelines supply.

A reference names a declared parameter or one of the system variables. The two
date-time variables change every recording, so they may name files but not videos.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

from ova.common.errors import Problems
from ova.contracts.topology_blocks import ParameterDeclaration
from ova.contracts.topology_graph import TOPOLOGY_ERROR, NodeLists
from ova.contracts.topology_problems import raise_if_any
from ova.contracts.topology_values import MAX_TEXT, is_integer, is_number, parse_bool, references

DATE_TIME_VARIABLES = frozenset({"System.Runtime.DateTime", "System.Runtime.PreciseDateTime"})
SYSTEM_VARIABLES = DATE_TIME_VARIABLES | {"System.TopologyName", "System.PipelineName"}
VALUE_CHECKS = {
    "int": (is_integer, "an integer"),
    "double": (is_number, "a number"),
    "bool": (lambda text: parse_bool(text) is not None, '"true" or "false"'),
}


class ParameterLists(NodeLists, Protocol):
    @property
    def parameters(self) -> Sequence[ParameterDeclaration]: ...


class Parameterized(Protocol):
    """A cloud or edge topology."""

    @property
    def properties(self) -> ParameterLists: ...


def value_problem(declaration: ParameterDeclaration, value: str) -> str | None:
    """Why ``value`` does not fit the declared type, or None when it does."""
    check = VALUE_CHECKS.get(declaration.type.lower())
    if check is None or check[0](value):
        return None
    return f"The value '{value[:64]}' of parameter '{declaration.name}' is not {check[1]}."


def check_parameters(properties: ParameterLists, problems: Problems) -> None:
    """Unique names, defaults that fit their types, and references that resolve."""
    seen: set[str] = set()
    for index, declaration in enumerate(properties.parameters):
        path = f"properties.parameters[{index}]"
        if declaration.name in seen:
            problems.add(
                f"{path}.name", f"The parameter '{declaration.name}' is declared twice.", TOPOLOGY_ERROR
            )
        seen.add(declaration.name)
        problem = None if declaration.default is None else value_problem(declaration, declaration.default)
        if problem:
            problems.add(f"{path}.default", problem, TOPOLOGY_ERROR)
    _check_references(properties, seen, problems)


def _check_references(properties: NodeLists, declared: set[str], problems: Problems) -> None:
    for path, text in _node_strings(properties):
        for name in references(text):
            if name in DATE_TIME_VARIABLES and path.endswith(".videoName"):
                message = f"'${{{name}}}' changes over time and cannot be part of a video name."
                problems.add(path, message, TOPOLOGY_ERROR)
            elif name not in declared and name not in SYSTEM_VARIABLES:
                message = f"'${{{name}}}' names neither a declared parameter nor a system variable."
                problems.add(path, message, TOPOLOGY_ERROR)


def _node_strings(properties: NodeLists) -> Iterator[tuple[str, str]]:
    for section, nodes in (
        ("sources", properties.sources),
        ("processors", properties.processors),
        ("sinks", properties.sinks),
    ):
        for index, node in enumerate(nodes):
            yield from _strings(node.model_dump(exclude_none=True), f"properties.{section}[{index}]")


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def resolve_parameters(
    topology: Parameterized, supplied: Mapping[str, str], *, target: str = "properties.parameters"
) -> dict[str, str]:
    """The value of every declared parameter: the supplied one, else the default.

    Raises ``ValidationFailed`` naming each parameter that is missing, unknown, too long,
    or not of its declared type.
    """
    problems = Problems()
    declarations = {declaration.name: declaration for declaration in topology.properties.parameters}
    for name in supplied:
        if name not in declarations:
            problems.add(target, f"The topology declares no parameter '{name[:64]}'.", "InvalidParameter")
    values: dict[str, str] = {}
    for name, declaration in declarations.items():
        value = supplied.get(name, declaration.default)
        problem = _supplied_problem(declaration, value)
        if problem is not None:
            problems.add(target, problem[1], problem[0])
        elif value is not None:
            values[name] = value
    raise_if_any(problems, "The pipeline parameters are invalid.")
    return values


def _supplied_problem(declaration: ParameterDeclaration, value: object) -> tuple[str, str] | None:
    """``(code, message)`` when ``value`` cannot be the value of ``declaration``."""
    name = declaration.name
    if value is None:
        return "MissingParameter", f"The parameter '{name}' has no default and must be given."
    if not isinstance(value, str):
        return "InvalidParameter", f"The value of parameter '{name}' must be a string."
    if len(value) > MAX_TEXT:
        return "InvalidParameter", f"The value of parameter '{name}' exceeds {MAX_TEXT} characters."
    problem = value_problem(declaration, value)
    return None if problem is None else ("InvalidParameter", problem)


def secret_parameter_names(topology: Parameterized) -> frozenset[str]:
    """Names of ``SecretString`` parameters, whose values must never be returned on reads."""
    return frozenset(
        declaration.name for declaration in topology.properties.parameters if declaration.is_secret
    )
