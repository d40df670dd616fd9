"""Pipeline topologies: the node graph that live pipelines and pipeline jobs instantiate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ova.cloud.db.models import ResourceRow
from ova.cloud.domain.resources import (
    PIPELINE_NAME,
    PIPELINE_NAME_RULE,
    Document,
    KindContext,
    ResourceKind,
    register,
)
from ova.common.errors import Conflict
from ova.contracts.topology import validate_cloud_topology

INSTANCE_KINDS = ("livePipelines", "pipelineJobs")


class PipelineTopologyKind(ResourceKind):
    collection = "pipelineTopologies"
    noun = "pipeline topology"
    name_pattern = PIPELINE_NAME
    name_rule = PIPELINE_NAME_RULE
    max_per_account = 50

    async def prepare(
        self, ctx: KindContext, name: str, body: Mapping[str, Any], existing: ResourceRow | None
    ) -> Document:
        document: Document = validate_cloud_topology(body).model_dump(exclude_none=True)
        if existing is not None:
            await check_compatible_update(ctx, existing, document)
        return document

    def render_top_level(self, row: ResourceRow) -> Document:
        return {"kind": row.document["kind"], "sku": {**row.document["sku"], "tier": "Standard"}}

    async def render_properties(self, ctx: KindContext, row: ResourceRow) -> Document:
        properties = dict(row.document.get("properties", {}))
        parameters = properties.get("parameters")
        if isinstance(parameters, list):
            properties["parameters"] = [redact_secret_default(p) for p in parameters]
        return properties

    async def before_delete(self, ctx: KindContext, row: ResourceRow) -> None:
        if await instances_of(ctx, row.name):
            raise Conflict(
                f"The pipeline topology '{row.name}' is used by live pipelines or pipeline jobs.",
                code="PipelineTopologyInUse",
            )


def redact_secret_default(parameter: Any) -> Any:
    if isinstance(parameter, dict) and str(parameter.get("type", "")).lower() == "secretstring":
        return {key: value for key, value in parameter.items() if key != "default"}
    return parameter


async def instances_of(ctx: KindContext, topology_name: str) -> list[ResourceRow]:
    statement = select(ResourceRow).where(
        ResourceRow.account_id == ctx.account.id, ResourceRow.kind.in_(INSTANCE_KINDS)
    )
    rows = (await ctx.session.execute(statement)).scalars()
    key = topology_name.lower()
    return [row for row in rows if str(row.document["properties"].get("topologyName", "")).lower() == key]


def declared(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    parameters = document.get("properties", {}).get("parameters") or []
    return {str(p["name"]): p for p in parameters}


async def check_compatible_update(ctx: KindContext, existing: ResourceRow, new: Document) -> None:
    """With pipelines in place, a topology may only change in ways they survive (as the original)."""
    instances = await instances_of(ctx, existing.name)
    if not instances:
        return
    if new["kind"] != existing.document["kind"]:
        raise Conflict("The kind of a topology in use cannot change.", code="PipelineTopologyInUse")
    old_params, new_params = declared(existing.document), declared(new)
    for name, parameter in new_params.items():
        if name not in old_params and "default" not in parameter:
            raise Conflict(
                f"Parameter '{name}' is new and has no default, but pipelines already use this topology.",
                code="PipelineTopologyInUse",
                target="properties.parameters",
            )
    supplied = {str(p["name"]) for row in instances for p in row.document["properties"].get("parameters", [])}
    removed_in_use = sorted((set(old_params) - set(new_params)) & supplied)
    if removed_in_use:
        raise Conflict(
            f"Parameters still set by pipelines cannot be removed: {', '.join(removed_in_use)}.",
            code="PipelineTopologyInUse",
            target="properties.parameters",
        )


KIND = register(PipelineTopologyKind())
