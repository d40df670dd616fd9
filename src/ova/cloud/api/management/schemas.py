"""Request-body schemas of the management OpenAPI document, from the contract models.

Handlers read bodies themselves (so every problem is reported in the ARM envelope with JSON
paths); this adds what they accept to the document, so the OpenAPI says it too.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from ova.contracts import arm_resources as arm
from ova.contracts.topology_cloud import CloudTopology

REF = "#/components/schemas/{model}"
# operationId -> (model, wrap in {"properties": ...})
BODIES: dict[str, tuple[type[BaseModel], bool]] = {
    "VideoAnalyzers_CreateOrUpdate": (arm.AccountBody, False),
    "VideoAnalyzers_Update": (arm.AccountPatchBody, False),
    "Videos_CreateOrUpdate": (arm.VideoProperties, True),
    "Videos_Update": (arm.VideoProperties, True),
    "AccessPolicies_CreateOrUpdate": (arm.AccessPolicyProperties, True),
    "AccessPolicies_Update": (arm.AccessPolicyProperties, True),
    "PipelineTopologies_CreateOrUpdate": (CloudTopology, False),
    "PipelineTopologies_Update": (CloudTopology, False),
    "LivePipelines_CreateOrUpdate": (arm.LivePipelineProperties, True),
    "LivePipelines_Update": (arm.LivePipelineProperties, True),
    "PipelineJobs_CreateOrUpdate": (arm.PipelineJobProperties, True),
    "PipelineJobs_Update": (arm.PipelineJobProperties, True),
    "EdgeModules_ListProvisioningToken": (arm.ProvisioningTokenRequest, False),
    "Locations_CheckNameAvailability": (arm.CheckNameAvailabilityRequest, False),
}


def register(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF, by_alias=True)
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def body_schema(model: type[BaseModel], wrapped: bool, components: dict[str, Any]) -> dict[str, Any]:
    reference = register(model, components)
    if not wrapped:
        return reference
    return {"type": "object", "properties": {"properties": reference}}


def install(app: FastAPI) -> None:
    """Replace ``app.openapi`` with a generator that documents the request bodies."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for path_item in document["paths"].values():
            for operation in path_item.values():
                entry = BODIES.get(operation.get("operationId", ""))
                if entry is not None:
                    schema = body_schema(entry[0], entry[1], components)
                    operation["requestBody"] = {
                        "required": True,
                        "content": {"application/json": {"schema": schema}},
                    }
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
