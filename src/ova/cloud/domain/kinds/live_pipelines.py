"""Live pipelines: a topology instantiated with parameters, driven through its state machine.

States (as the original): Inactive → Activating → Active → Deactivating → Inactive. Only
an inactive pipeline may change its topology, parameters or bitrate, or be deleted.
Activation resolves parameters and creates the videos its video sinks record into.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic_core import PydanticCustomError

from ova.cloud.db.models import OperationRow, ResourceRow
from ova.cloud.domain import operations
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.kinds.pipeline_topologies import KIND as TOPOLOGIES
from ova.cloud.domain.resources import (
    PIPELINE_NAME,
    PIPELINE_NAME_RULE,
    Document,
    KindContext,
    ResourceKind,
    conflict_in_state,
    find,
    get,
    put,
    register,
)
from ova.common.errors import Conflict, Problems, ValidationFailed
from ova.contracts.arm_resources import LivePipelineProperties
from ova.contracts.model_errors import parse_model
from ova.contracts.topology import (
    CloudTopology,
    check_resolved_camera_urls,
    resolve_parameters,
    secret_parameter_names,
    substitute,
    validate_cloud_topology,
)
from ova.contracts.topology_values import duration
from ova.recording import plan

INACTIVE, ACTIVATING, ACTIVE, DEACTIVATING = "Inactive", "Activating", "Active", "Deactivating"
FROZEN_WHILE_ACTIVE = ("topologyName", "parameters", "bitrateKbps")
SEGMENT_LENGTH = duration(30, 300, 30)


class LivePipelineKind(ResourceKind):
    collection = "livePipelines"
    noun = "live pipeline"
    name_pattern = PIPELINE_NAME
    name_rule = PIPELINE_NAME_RULE
    read_only_properties = frozenset({"state"})

    async def prepare(
        self, ctx: KindContext, name: str, body: Mapping[str, Any], existing: ResourceRow | None
    ) -> Document:
        props = parse_model(LivePipelineProperties, body.get("properties", {}), "properties")
        stored = props.model_dump(by_alias=True, exclude_none=True)
        _, model, values = await resolve(ctx, stored, topology_kind="Live")
        check_camera_urls(model, {**values, **variables_of(name, stored)}, stored)
        state = existing.document["properties"]["state"] if existing else INACTIVE
        if existing is not None and state != INACTIVE:
            before = existing.document["properties"]
            changed = [key for key in FROZEN_WHILE_ACTIVE if before.get(key) != stored.get(key)]
            if changed:
                raise conflict_in_state(self, existing, f"changed ({', '.join(changed)})")
        internal = dict(existing.document.get("internal", {})) if existing else {}
        internal["secretParameters"] = sorted(secret_parameter_names(model))
        return {"properties": {**stored, "state": state}, "internal": internal}

    async def render_properties(self, ctx: KindContext, row: ResourceRow) -> Document:
        secrets = row.document.get("internal", {}).get("secretParameters", [])
        return await without_secrets(ctx, row.document["properties"], secrets)

    async def before_delete(self, ctx: KindContext, row: ResourceRow) -> None:
        if row.document["properties"]["state"] != INACTIVE:
            raise conflict_in_state(self, row, "deleted")


async def resolve(
    ctx: KindContext, properties: Mapping[str, Any], topology_kind: str
) -> tuple[Document, CloudTopology, dict[str, str]]:
    """The topology a pipeline instantiates (stored and parsed) and its resolved parameter values."""
    topology = await find(ctx.session, ctx.account, TOPOLOGIES, str(properties["topologyName"]))
    if topology is None or topology.document["kind"] != topology_kind:
        raise ValidationFailed(
            f"No {topology_kind} pipeline topology named '{properties['topologyName']}' exists.",
            target="properties.topologyName",
        )
    model = validate_cloud_topology(topology.document)
    supplied = {str(p["name"]): str(p.get("value", "")) for p in properties.get("parameters", [])}
    return topology.document, model, resolve_parameters(model, supplied)


async def without_secrets(
    ctx: KindContext, properties: Mapping[str, Any], also_secret: Iterable[str] = ()
) -> Document:
    """A pipeline's properties for a read: secret parameters keep their name and lose their value.

    Secrets are those the topology declares now (it may have changed since the pipeline
    was written) and ``also_secret``.
    """
    topology = await find(ctx.session, ctx.account, TOPOLOGIES, str(properties["topologyName"]))
    declared = topology.document["properties"].get("parameters", []) if topology else []
    secrets = set(also_secret) | {
        str(p["name"]) for p in declared if str(p.get("type", "")).lower() == "secretstring"
    }
    parameters = properties.get("parameters", [])
    return {
        **properties,
        "parameters": [{"name": p["name"]} if p["name"] in secrets else p for p in parameters],
    }


def system_variables(row: ResourceRow) -> dict[str, str]:
    """The values of ``${System.PipelineName}`` and ``${System.TopologyName}`` (allowed in video names)."""
    return variables_of(row.name, row.document["properties"])


def variables_of(name: str, properties: Mapping[str, Any]) -> dict[str, str]:
    return plan.system_variables(name, str(properties["topologyName"]))


def check_camera_urls(model: CloudTopology, values: Mapping[str, str], properties: Mapping[str, Any]) -> None:
    """Refuse a pipeline whose camera URL, parameters substituted, names no RTSP server."""
    problems = Problems()
    supplied = [str(parameter["name"]) for parameter in properties.get("parameters", [])]
    check_resolved_camera_urls(model.properties.sources, values, supplied, problems)
    problems.raise_if_any("The pipeline parameters are invalid.")


def video_sinks(topology: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    sinks = topology.get("properties", {}).get("sinks", [])
    return [sink for sink in sinks if str(sink.get("@type", "")).endswith(".VideoSink")]


async def ensure_videos(
    ctx: KindContext, topology: Mapping[str, Any], values: Mapping[str, str]
) -> list[str]:
    """Create the videos the sinks record into, as the original's video sink does."""
    names = []
    in_use = await videos.videos_in_use(ctx)
    for sink in video_sinks(topology):
        name = substitute(str(sink["videoName"]), values)
        if name.lower() in in_use:
            raise Conflict(
                f"The video '{name}' is already being recorded by another pipeline.",
                code="ResourceValidationError",
            )
        if await find(ctx.session, ctx.account, videos.KIND, name) is None:
            creation = {
                key: substitute(str(value), values)
                for key, value in (sink.get("videoCreationProperties") or {}).items()
            }
            properties: Document = {key: creation[key] for key in ("title", "description") if key in creation}
            if "retentionPeriod" in creation:
                properties["archival"] = {"retentionPeriod": creation["retentionPeriod"]}
            row, _ = await put(ctx, videos.KIND, name, {"properties": properties})
            row.document = {
                **row.document,
                "internal": videos.new_internal(segment_length(creation.get("segmentLength", "PT30S"))),
            }
        names.append(name)
    return names


def segment_length(value: str) -> str:
    """A segment length supplied through a parameter, checked as the topology checks literal ones."""
    try:
        return SEGMENT_LENGTH(value)
    except PydanticCustomError as error:
        raise ValidationFailed(str(error), target="properties.parameters") from None


async def activate(ctx: KindContext, name: str) -> OperationRow:
    row = await get(ctx.session, ctx.account, KIND, name)
    state = row.document["properties"]["state"]
    if state == DEACTIVATING:
        raise conflict_in_state(KIND, row, "activated")
    if state == INACTIVE:
        # Activating lasts as long as this transaction: parameters resolve, videos exist.
        # Running the camera itself is the recording host's job (a later issue).
        topology, model, resolved = await resolve(ctx, row.document["properties"], topology_kind="Live")
        values = {**resolved, **system_variables(row)}
        # Checked again here: the topology (and its defaults) may have changed since the PUT.
        check_camera_urls(model, values, row.document["properties"])
        video_names = await ensure_videos(ctx, topology, values)
        row.document = {
            **row.document,
            "internal": {**row.document.get("internal", {}), "videoNames": video_names},
        }
        set_state(row, ACTIVE)
    return await operations.record(ctx.session, ctx.services.clock, row.id, "activate")


async def deactivate(ctx: KindContext, name: str) -> OperationRow:
    row = await get(ctx.session, ctx.account, KIND, name)
    if row.document["properties"]["state"] in (ACTIVATING, ACTIVE):
        set_state(row, INACTIVE)
    return await operations.record(ctx.session, ctx.services.clock, row.id, "deactivate")


def set_state(row: ResourceRow, state: str) -> None:
    row.document = {**row.document, "properties": {**row.document["properties"], "state": state}}


KIND = register(LivePipelineKind())
