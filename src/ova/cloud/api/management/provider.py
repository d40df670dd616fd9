"""``GET /providers/Microsoft.Media/operations``: what this provider can do, as ARM lists it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ova.cloud.api.management.context import check_api_version, operator
from ova.cloud.domain.arm import ACCOUNT_TYPE, PROVIDER
from ova.cloud.domain.resources import KINDS

router = APIRouter(dependencies=[Depends(check_api_version), Depends(operator)], tags=["Operations"])

ACTIONS = {
    "edgeModules": ["listProvisioningToken"],
    "videos": ["listContentToken"],
    "livePipelines": ["activate", "deactivate"],
    "pipelineJobs": ["cancel"],
}


def _operation(resource_type: str, verb: str, noun: str) -> dict[str, Any]:
    what = {"read": "Read", "write": "Create or update", "delete": "Delete"}.get(verb, verb)
    return {
        "name": f"{resource_type}/{verb}",
        "display": {
            "provider": PROVIDER,
            "resource": noun,
            "operation": f"{what} {noun}",
            "description": f"{what} {noun}",
        },
        "origin": "user,system",
        "isDataAction": False,
        "actionType": "Internal",
    }


def catalogue() -> list[dict[str, Any]]:
    operations = [
        _operation(ACCOUNT_TYPE, verb, "Video Analyzer account") for verb in ("read", "write", "delete")
    ]
    for kind in KINDS.values():
        resource_type = f"{ACCOUNT_TYPE}/{kind.collection}"
        operations += [_operation(resource_type, verb, kind.noun) for verb in ("read", "write", "delete")]
        operations += [
            _operation(resource_type, f"{action}/action", kind.noun)
            for action in ACTIONS.get(kind.collection, [])
        ]
    return operations


@router.get(f"/providers/{PROVIDER}/operations", operation_id="Operations_List")
async def list_operations() -> Any:
    return {"value": catalogue()}
