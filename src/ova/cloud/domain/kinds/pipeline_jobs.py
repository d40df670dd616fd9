"""Pipeline jobs: batch topologies run once (export a portion of a video, for example)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ova.cloud.db.models import OperationRow, ResourceRow
from ova.cloud.domain import operations
from ova.cloud.domain.kinds.live_pipelines import resolve, without_secrets
from ova.cloud.domain.resources import (
    PIPELINE_NAME,
    PIPELINE_NAME_RULE,
    Document,
    KindContext,
    ResourceKind,
    conflict_in_state,
    get,
    register,
)
from ova.common.clock import isoformat
from ova.common.errors import Conflict
from ova.contracts.arm_resources import PipelineJobProperties
from ova.contracts.model_errors import parse_model

PROCESSING, CANCELED, COMPLETED, FAILED = "Processing", "Canceled", "Completed", "Failed"
JOB_LIFETIME = timedelta(days=7)


class PipelineJobKind(ResourceKind):
    collection = "pipelineJobs"
    noun = "pipeline job"
    name_pattern = PIPELINE_NAME
    name_rule = PIPELINE_NAME_RULE
    read_only_properties = frozenset({"state", "expiration", "error"})

    async def prepare(
        self, ctx: KindContext, name: str, body: Mapping[str, Any], existing: ResourceRow | None
    ) -> Document:
        props = parse_model(PipelineJobProperties, body.get("properties", {}), "properties")
        stored = props.model_dump(by_alias=True, exclude_none=True)
        if existing is not None:
            before = existing.document["properties"]
            if any(before.get(key) != stored.get(key) for key in ("topologyName", "parameters")):
                raise Conflict("Only the description of a pipeline job can change.", code="InvalidResource")
            return {"properties": {**before, "description": stored.get("description")}}
        await resolve(ctx, stored, topology_kind="Batch")
        expiration = isoformat(ctx.services.clock.now() + JOB_LIFETIME)
        return {"properties": {**stored, "state": PROCESSING, "expiration": expiration}}

    async def render_properties(self, ctx: KindContext, row: ResourceRow) -> Document:
        return await without_secrets(ctx, row.document["properties"])

    async def before_delete(self, ctx: KindContext, row: ResourceRow) -> None:
        if row.document["properties"]["state"] == PROCESSING:
            raise conflict_in_state(self, row, "deleted")


async def cancel(ctx: KindContext, name: str) -> OperationRow:
    row = await get(ctx.session, ctx.account, KIND, name)
    state = row.document["properties"]["state"]
    if state not in (PROCESSING, CANCELED):
        raise conflict_in_state(KIND, row, "canceled")
    row.document = {**row.document, "properties": {**row.document["properties"], "state": CANCELED}}
    return await operations.record(ctx.session, ctx.services.clock, row.id, "cancel")


KIND = register(PipelineJobKind())
