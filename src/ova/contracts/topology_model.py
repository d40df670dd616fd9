"""Base models of pipeline topology JSON and the ``@type`` registry behind every polymorphic field.

A field that holds one of several node, endpoint or credential shapes is declared as
``Annotated[BaseClass, REGISTRY]``: type checkers see the base class, and pydantic
validates the object with the model registered for its ``@type``. Property names and
``@type`` values are matched without regard to case, as the original service did, and
come back in their canonical spelling.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping, Sequence
from typing import Annotated, ClassVar, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    GetCoreSchemaHandler,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import CoreSchema, PydanticCustomError

from ova.contracts.topology_values import MAX_NODES, EntityName, RequiredText, invalid


class ContractModel(BaseModel):
    """A JSON object of the topology contract: camelCase names, no unknown properties."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _canonical_keys(cls, data: object) -> object:
        """Rename properties written in another case (``SharedMemorySizeMiB``) to their JSON name."""
        if not isinstance(data, Mapping):
            return data
        names = {(info.alias or name).lower(): info.alias or name for name, info in cls.model_fields.items()}
        renamed: dict[object, object] = {}
        for key, value in data.items():
            canonical = names.get(key.lower(), key) if isinstance(key, str) else key
            if canonical in renamed:
                raise invalid(f"The property '{canonical}' is given more than once (names ignore case).")
            renamed[canonical] = value
        return renamed


class TypedModel(ContractModel):
    """An object told apart from its siblings by ``@type`` (``#Microsoft.VideoAnalyzer.<Name>``)."""

    TYPE: ClassVar[str] = ""

    type_: str = Field(alias="@type")

    @model_validator(mode="before")
    @classmethod
    def _known_type(cls, data: object) -> object:
        """Check ``@type`` first, so a wrong one is the only problem reported for the object."""
        if isinstance(data, Mapping):
            given = next((v for k, v in data.items() if isinstance(k, str) and k.lower() == "@type"), None)
            if not isinstance(given, str) or given.lower() != cls.TYPE.lower():
                raise PydanticCustomError("unknown_type", f"Unknown or missing '@type'; use '{cls.TYPE}'.")
        return data

    @field_validator("type_")
    @classmethod
    def _canonical_type(cls, value: str) -> str:
        return cls.TYPE


TypedT = TypeVar("TypedT", bound=TypedModel)


class TypeRegistry(Generic[TypedT]):
    """The models one polymorphic field accepts, keyed by their ``@type``."""

    def __init__(self, role: str, *models: type[TypedT]) -> None:
        self.role = role
        self.models: dict[str, type[TypedT]] = {model.TYPE: model for model in models}
        self._canonical = {name.lower(): name for name in self.models}

    @property
    def names(self) -> list[str]:
        return list(self.models)

    def canonical(self, type_name: object) -> str | None:
        """The registered spelling of ``type_name``, or None when it is not registered."""
        return self._canonical.get(type_name.lower()) if isinstance(type_name, str) else None

    def _tag(self, value: object) -> str | None:
        if isinstance(value, TypedModel):
            return self.canonical(value.TYPE)
        if isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(key, str) and key.lower() == "@type":
                    return self.canonical(item)
        return None

    def __get_pydantic_core_schema__(self, source: object, handler: GetCoreSchemaHandler) -> CoreSchema:
        if len(self.models) == 1:
            return handler.generate_schema(next(iter(self.models.values())))
        members = [Annotated[model, Tag(name)] for name, model in self.models.items()]
        message = f"Unknown or missing '@type' for {self.role}; use one of: {', '.join(self.models)}."
        discriminator = Discriminator(
            self._tag, custom_error_type="unknown_type", custom_error_message=message
        )
        return handler.generate_schema(Annotated[functools.reduce(operator.or_, members), discriminator])


class Node(TypedModel):
    """A source, processor or sink; its name is unique within the topology."""

    name: EntityName


class SourceNode(Node):
    """A node that brings data into the pipeline; it has no inputs."""

    inputs: None = Field(default=None, exclude=True)

    @field_validator("inputs", mode="before")
    @classmethod
    def _no_inputs(cls, value: object) -> None:
        if value not in (None, []):
            raise invalid("A source node takes no inputs.")
        return None


class NodeInput(ContractModel):
    """A reference to an upstream node."""

    node_name: RequiredText


class WiredNode(Node):
    """A processor or sink: a node fed by at least one upstream node."""

    inputs: Sequence[NodeInput] = Field(min_length=1, max_length=MAX_NODES)
