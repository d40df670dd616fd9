"""The edge module's direct methods, with Video Analyzer's names, payloads and answers.

``DirectMethods.handle(method_name, payload)`` answers ``(status, payload)`` for:

=========================  ===========================================================
``pipelineTopologySet``    ``{@apiVersion, name, properties}``: 201 created / 200 updated,
                           the entity with ``systemData{createdAt, lastModifiedAt}``
``pipelineTopologyGet``    ``{name}``: 200 the entity; 404 NotFound
``pipelineTopologyList``   ``{}``: 200 ``{"value": [...]}`` (every entity, by name)
``pipelineTopologyDelete`` ``{name}``: 200; 204 when it did not exist; 409 PipelineTopologyInUse
``livePipelineSet``        ``{name, properties{topologyName, description?, parameters[]}}``: 201 / 200
``livePipelineGet/List``   as for topologies; ``properties.state`` is the pipeline's state
``livePipelineDelete``     200; 204 when it did not exist; 409 OperationNotAllowedInState unless inactive
``livePipelineActivate``   200 once active (idempotent)
``livePipelineDeactivate`` 200 once inactive, after the media cache drained (or the flush timeout)
=========================  ===========================================================

Every payload must carry ``"@apiVersion": "1.1"`` (else 400 InvalidVersion, detail
ApiVersionNotSupported) and be at most 128 KiB (IoT Hub's own limit for a method payload).
Errors use the OData envelope ``{"error": {"code", "message", "details": [{"code", "message"}]}}``,
built from ``edge.errors`` in one place (``error_answer``); ``secretString`` values are never
part of an answer.

Choices where Video Analyzer left no record:

- a method name it never had answers 404 NotFound (detail MethodNotFound); the remote device
  adapter and ONVIF methods, which this module does not offer, answer 501 NotImplemented
  (detail MethodNotSupported);
- a topology in use may be updated only while all its pipelines are inactive (409
  OperationNotAllowedInState), and only if every pipeline's parameters still resolve: new
  parameters need defaults and removed ones must not be set by a pipeline (409
  PipelineTopologyInUse, one detail per problem);
- ``livePipelineSet`` naming a topology that does not exist answers 400 InvalidResource;
  changing a pipeline's topology or parameters (its camera URL) while it is not inactive
  answers 409 OperationNotAllowedInState (its description may change at any time);
- with the twin's ``AllowUnsecuredEndpoints`` false, a topology holding an
  ``UnsecuredEndpoint`` is refused on ``pipelineTopologySet`` and on ``livePipelineActivate``
  (400 InvalidResource);
- while the 36-hour rule holds (``edge.connectivity``), ``pipelineTopologySet``,
  ``livePipelineSet`` and ``livePipelineActivate`` answer 402 ConnectivityRequired.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ova.common.errors import ErrorDetail, OvaError, Problems, ValidationFailed
from ova.contracts.topology import EdgeTopology, resolve_parameters, validate_edge_topology
from ova.contracts.topology_problems import add_validation_errors
from ova.contracts.topology_values import MAX_DESCRIPTION, MAX_PARAMETERS, MAX_TEXT, PREFIX
from ova.edge.connectivity import ConnectivityWatchdog
from ova.edge.entities import EntityStore, PipelineRecord, TopologyRecord, check_name
from ova.edge.errors import (
    EntityNotFound,
    MethodNotSupported,
    MethodRequestInvalid,
    NotAllowedInState,
    PipelineValidation,
    TopologyInUse,
    UnknownMethod,
)
from ova.edge.pipelines import LivePipelines, PipelineState

log = logging.getLogger(__name__)

API_VERSION = "1.1"
MAX_PAYLOAD_BYTES = 128 * 1024
UNSECURED_ENDPOINT = f"{PREFIX}UnsecuredEndpoint"
UNSUPPORTED_METHODS = frozenset(
    {
        "remoteDeviceAdapterSet",
        "remoteDeviceAdapterGet",
        "remoteDeviceAdapterList",
        "remoteDeviceAdapterDelete",
        "onvifDeviceDiscover",
        "onvifDeviceGet",
    }
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Answer = tuple[int, dict[str, Any] | None]
Request = dict[str, Any]


@dataclass
class MethodOptions:
    """The dynamic twin properties the methods obey (changed in place when the twin changes)."""

    allow_unsecured_endpoints: bool = True


class _ParameterValue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    value: str = Field(max_length=MAX_TEXT)


class _LivePipelineProperties(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    topology_name: str = Field(alias="topologyName", max_length=64)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    parameters: list[_ParameterValue] = Field(default_factory=list, max_length=MAX_PARAMETERS)
    state: str | None = Field(default=None, max_length=32)  # read-only: ignored


class _LivePipelineSetBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    api_version: str | None = Field(default=None, alias="@apiVersion")
    name: str = Field(max_length=64)
    properties: _LivePipelineProperties
    system_data: dict[str, Any] | None = Field(default=None, alias="systemData")  # read-only: ignored


class DirectMethods:
    """Dispatches direct methods to the entity store and the live-pipeline state machine."""

    def __init__(
        self,
        store: EntityStore,
        pipelines: LivePipelines,
        *,
        watchdog: ConnectivityWatchdog | None = None,
        options: MethodOptions | None = None,
    ) -> None:
        self._store = store
        self._pipelines = pipelines
        self._watchdog = watchdog
        self.options = options or MethodOptions()
        self._entities = asyncio.Lock()  # Set and Delete, one at a time
        self._handlers: dict[str, Callable[[Request], Awaitable[Answer]]] = {
            "pipelineTopologySet": self._topology_set,
            "pipelineTopologyGet": self._topology_get,
            "pipelineTopologyList": self._topology_list,
            "pipelineTopologyDelete": self._topology_delete,
            "livePipelineSet": self._pipeline_set,
            "livePipelineGet": self._pipeline_get,
            "livePipelineList": self._pipeline_list,
            "livePipelineDelete": self._pipeline_delete,
            "livePipelineActivate": self._pipeline_activate,
            "livePipelineDeactivate": self._pipeline_deactivate,
        }

    async def handle(self, method_name: str, payload: object) -> Answer:
        """The answer to one direct method: ``(status, JSON payload or None)``; never raises."""
        try:
            handler = self._handler(method_name)
            request = parse_request(payload)
            if self._watchdog is not None:
                self._watchdog.require_cloud(method_name)
            return await handler(request)
        except Exception as error:
            return error_answer(error, method_name)

    def _handler(self, method_name: str) -> Callable[[Request], Awaitable[Answer]]:
        handler = self._handlers.get(method_name)
        if handler is not None:
            return handler
        if method_name in UNSUPPORTED_METHODS:
            raise MethodNotSupported(f"The direct method '{method_name}' is not supported by this module.")
        raise UnknownMethod(f"There is no direct method '{method_name[:128]}'.")

    # --- pipeline topologies ------------------------------------------------------------------

    async def _topology_set(self, request: Request) -> Answer:
        try:
            model = validate_edge_topology(request)
        except ValidationFailed as error:
            raise PipelineValidation(error.message, target=error.target, details=error.details) from None
        self._check_endpoints(model.model_dump(exclude_none=True))
        async with self._entities:
            self._check_topology_update(model)
            record, created = await asyncio.to_thread(self._store.put_topology, model)
        return (201 if created else 200), record.entity()

    async def _topology_get(self, request: Request) -> Answer:
        return 200, self._topology(check_name(request.get("name"))).entity()

    async def _topology_list(self, request: Request) -> Answer:
        return 200, {
            "value": [self._store.topologies[name].entity() for name in sorted(self._store.topologies)]
        }

    async def _topology_delete(self, request: Request) -> Answer:
        name = check_name(request.get("name"))
        async with self._entities:
            if name not in self._store.topologies:
                return 204, None
            users = self._store.pipelines_of(name)
            if users:
                names = ", ".join(sorted(record.name for record in users)[:10])
                raise TopologyInUse(f"The pipeline topology '{name}' is used by live pipelines: {names}.")
            await asyncio.to_thread(self._store.delete_topology, name)
        return 200, None

    def _check_topology_update(self, model: EdgeTopology) -> None:
        users = self._store.pipelines_of(model.name)
        running = [record.name for record in users if not self._is_inactive(record.name)]
        if running:
            raise NotAllowedInState(
                f"The pipeline topology '{model.name}' has live pipelines that are not inactive:"
                f" {', '.join(sorted(running)[:10])}. Deactivate them before updating it."
            )
        problems: list[ErrorDetail] = []
        for record in users:
            try:
                resolve_parameters(model, record.values)
            except ValidationFailed as error:
                problems.extend(_about(record.name, error.details))
        if problems:
            raise TopologyInUse(
                f"The pipeline topology '{model.name}' no longer fits its live pipelines: new parameters"
                " need defaults and a pipeline may not set a parameter that was removed.",
                details=problems,
            )

    def _check_endpoints(self, document: Mapping[str, Any]) -> None:
        if self.options.allow_unsecured_endpoints or not any(_unsecured(document)):
            return
        raise MethodRequestInvalid(
            "The topology uses an UnsecuredEndpoint and this module's AllowUnsecuredEndpoints is false.",
            code="InvalidResource",
        )

    # --- live pipelines -----------------------------------------------------------------------

    async def _pipeline_set(self, request: Request) -> Answer:
        record = _pipeline_record(request)
        async with self._entities:
            topology = self._store.topologies.get(record.topology_name)
            if topology is None:
                raise MethodRequestInvalid(
                    f"The pipeline topology '{record.topology_name}' does not exist.",
                    code="InvalidResource",
                    target="properties.topologyName",
                )
            self._pipelines.spec(record)  # parameters resolve and camera URLs are RTSP URLs
            existing = self._store.pipelines.get(record.name)
            if (
                existing is not None
                and not self._is_inactive(record.name)
                and _runs_differently(existing, record)
            ):
                raise NotAllowedInState(
                    f"The live pipeline '{record.name}' is {self._pipelines.state(record.name)}: its topology"
                    " and parameters can change only while it is inactive."
                )
            stored, created = await asyncio.to_thread(self._store.put_pipeline, record)
        return (201 if created else 200), self._pipeline_entity(stored)

    async def _pipeline_get(self, request: Request) -> Answer:
        return 200, self._pipeline_entity(self._pipeline(check_name(request.get("name"))))

    async def _pipeline_list(self, request: Request) -> Answer:
        names = sorted(self._store.pipelines)
        return 200, {"value": [self._pipeline_entity(self._store.pipelines[name]) for name in names]}

    async def _pipeline_delete(self, request: Request) -> Answer:
        name = check_name(request.get("name"))
        async with self._entities:
            if name not in self._store.pipelines:
                return 204, None
            if not self._is_inactive(name):
                raise NotAllowedInState(
                    f"The live pipeline '{name}' is {self._pipelines.state(name)}; deactivate it first."
                )
            await asyncio.to_thread(self._store.delete_pipeline, name)
            self._pipelines.forget(name)
        return 200, None

    async def _pipeline_activate(self, request: Request) -> Answer:
        record = self._pipeline(check_name(request.get("name")))
        self._check_endpoints(self._topology(record.topology_name).properties)
        await self._pipelines.activate(record.name)
        return 200, None

    async def _pipeline_deactivate(self, request: Request) -> Answer:
        await self._pipelines.deactivate(self._pipeline(check_name(request.get("name"))).name)
        return 200, None

    # --- lookups ------------------------------------------------------------------------------

    def _topology(self, name: str) -> TopologyRecord:
        record = self._store.topologies.get(name)
        if record is None:
            raise EntityNotFound(f"The pipeline topology '{name}' does not exist.")
        return record

    def _pipeline(self, name: str) -> PipelineRecord:
        record = self._store.pipelines.get(name)
        if record is None:
            raise EntityNotFound(f"The live pipeline '{name}' does not exist.")
        return record

    def _pipeline_entity(self, record: PipelineRecord) -> dict[str, Any]:
        topology = self._store.topologies.get(record.topology_name)
        secrets = topology.secrets if topology else frozenset()
        return record.entity(self._pipelines.state(record.name).value, secrets)

    def _is_inactive(self, name: str) -> bool:
        return self._pipelines.state(name) is PipelineState.INACTIVE and not self._pipelines.busy(name)


def parse_request(payload: object) -> Request:
    """The method's JSON object, bounded in size, with ``@apiVersion`` 1.1."""
    if isinstance(payload, bytes | bytearray | str):
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise MethodRequestInvalid(f"The payload exceeds {MAX_PAYLOAD_BYTES // 1024} KiB.")
        try:
            payload = json.loads(payload) if payload else None
        except ValueError:
            raise MethodRequestInvalid("The payload is not JSON.") from None
    elif isinstance(payload, Mapping) and len(json.dumps(payload, default=str)) > MAX_PAYLOAD_BYTES:
        raise MethodRequestInvalid(f"The payload exceeds {MAX_PAYLOAD_BYTES // 1024} KiB.")
    if not isinstance(payload, Mapping):
        raise MethodRequestInvalid("The payload must be a JSON object.")
    version = payload.get("@apiVersion")
    if version != API_VERSION:
        shown = str(version)[:16] if version is not None else "absent"
        message = f'The API version \'{shown}\' is not supported; use "@apiVersion": "{API_VERSION}".'
        raise MethodRequestInvalid(
            message, code="InvalidVersion", details=[ErrorDetail("ApiVersionNotSupported", message)]
        )
    return dict(payload)


def error_answer(error: BaseException, method_name: str = "") -> Answer:
    """The OData error envelope of ``error``, and its status: the one mapping of errors to answers."""
    if not isinstance(error, OvaError):
        log.error("direct method %s failed: %s", method_name[:128], type(error).__name__, exc_info=error)
        error = OvaError("The module could not complete the request.")
    details = list(error.details)
    detail_code = getattr(error, "detail_code", None)
    if detail_code and not any(detail.code == detail_code for detail in details):
        details.insert(0, ErrorDetail(detail_code, error.message))
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.target:
        body["target"] = error.target
    body["details"] = [_detail(detail) for detail in details]
    return error.status, {"error": body}


def _detail(detail: ErrorDetail) -> dict[str, str]:
    entry = {"code": detail.code, "message": detail.message}
    if detail.target:
        entry["target"] = detail.target
    return entry


def _pipeline_record(request: Request) -> PipelineRecord:
    try:
        body = _LivePipelineSetBody.model_validate(request)
    except ValidationError as error:
        problems = Problems()
        add_validation_errors(problems, error)
        raise MethodRequestInvalid(
            "The live pipeline is invalid.", code="InvalidResource", details=problems.items
        ) from None
    names = [parameter.name for parameter in body.properties.parameters]
    if len(set(names)) != len(names):
        raise MethodRequestInvalid(
            "A parameter is given twice.", code="InvalidResource", target="properties.parameters"
        )
    now = _EPOCH  # the store sets the times
    return PipelineRecord(
        name=check_name(body.name),
        topology_name=check_name(body.properties.topology_name, "properties.topologyName"),
        parameters=tuple((parameter.name, parameter.value) for parameter in body.properties.parameters),
        created_at=now,
        last_modified_at=now,
        description=body.properties.description,
    )


def _runs_differently(old: PipelineRecord, new: PipelineRecord) -> bool:
    return (old.topology_name, old.values) != (new.topology_name, new.values)


def _about(pipeline: str, details: list[ErrorDetail]) -> Iterator[ErrorDetail]:
    for detail in details:
        yield ErrorDetail(detail.code, f"Live pipeline '{pipeline}': {detail.message}", detail.target)


def _unsecured(value: object) -> Iterator[bool]:
    if isinstance(value, Mapping):
        if value.get("@type") == UNSECURED_ENDPOINT:
            yield True
        for item in value.values():
            yield from _unsecured(item)
    elif isinstance(value, list):
        for item in value:
            yield from _unsecured(item)
