"""POST actions on nested resources and the operation statuses their pollers read."""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ova.cloud.api.management.accounts import ACCOUNT
from ova.cloud.api.management.context import check_api_version, in_account, json_body, operator
from ova.cloud.api.token_response import token_response
from ova.cloud.db.models import OperationRow
from ova.cloud.domain import operations, resources
from ova.cloud.domain.arm import API_VERSION, AccountScope, Principal
from ova.cloud.domain.kinds import edge_modules, live_pipelines, pipeline_jobs, videos
from ova.cloud.domain.resources import ResourceKind

router = APIRouter(dependencies=[Depends(check_api_version)])


class PipelineRunner(Protocol):
    """Whatever runs active live pipelines; told when activation changes."""

    async def reconcile(self) -> None: ...


async def pipelines_changed(request: Request) -> None:
    runner: PipelineRunner | None = request.app.state.pipelines
    if runner is not None:
        await runner.reconcile()


Operator = Annotated[Principal, Depends(operator)]
LIVE = ACCOUNT + "/livePipelines/{name}"
JOBS = ACCOUNT + "/pipelineJobs/{name}"


@router.post(
    ACCOUNT + "/edgeModules/{name}/listProvisioningToken",
    operation_id="EdgeModules_ListProvisioningToken",
    tags=["EdgeModules"],
)
async def list_provisioning_token(
    request: Request, subscription_id: str, resource_group: str, account_name: str, name: str, who: Operator
) -> Any:
    body = await json_body(request)
    async with in_account(request, AccountScope(subscription_id, resource_group, account_name), who) as ctx:
        issued = await edge_modules.list_provisioning_token(ctx, name, body)
    return token_response(issued)


@router.post(
    ACCOUNT + "/videos/{name}/listContentToken", operation_id="Videos_ListContentToken", tags=["Videos"]
)
async def list_content_token(
    request: Request, subscription_id: str, resource_group: str, account_name: str, name: str, who: Operator
) -> Any:
    async with in_account(request, AccountScope(subscription_id, resource_group, account_name), who) as ctx:
        issued = await videos.list_content_token(ctx, name)
    return token_response(issued)


def accepted(request: Request, operation: OperationRow, item_url: str) -> JSONResponse:
    """202 with a status URL that already reports the outcome (the work finished in-line)."""
    status_url = f"{item_url}/operationStatuses/{operation.id}?api-version={API_VERSION}"
    return JSONResponse(
        None, status_code=202, headers={"Azure-AsyncOperation": status_url, "Retry-After": "0"}
    )


def item_url(request: Request, action: str) -> str:
    return str(request.url).split("?")[0].removesuffix(f"/{action}")


@router.post(LIVE + "/activate", operation_id="LivePipelines_Activate", tags=["LivePipelines"])
async def activate(
    request: Request, subscription_id: str, resource_group: str, account_name: str, name: str, who: Operator
) -> Any:
    async with in_account(request, AccountScope(subscription_id, resource_group, account_name), who) as ctx:
        operation = await live_pipelines.activate(ctx, name)
    await pipelines_changed(request)
    return accepted(request, operation, item_url(request, "activate"))


@router.post(LIVE + "/deactivate", operation_id="LivePipelines_Deactivate", tags=["LivePipelines"])
async def deactivate(
    request: Request, subscription_id: str, resource_group: str, account_name: str, name: str, who: Operator
) -> Any:
    async with in_account(request, AccountScope(subscription_id, resource_group, account_name), who) as ctx:
        operation = await live_pipelines.deactivate(ctx, name)
    await pipelines_changed(request)
    return accepted(request, operation, item_url(request, "deactivate"))


@router.post(JOBS + "/cancel", operation_id="PipelineJobs_Cancel", tags=["PipelineJobs"])
async def cancel(
    request: Request, subscription_id: str, resource_group: str, account_name: str, name: str, who: Operator
) -> Any:
    async with in_account(request, AccountScope(subscription_id, resource_group, account_name), who) as ctx:
        operation = await pipeline_jobs.cancel(ctx, name)
    return accepted(request, operation, item_url(request, "cancel"))


async def _status(
    request: Request, scope: AccountScope, who: Principal, kind: ResourceKind, name: str, op: str
) -> Any:
    async with in_account(request, scope, who) as ctx:
        row = await resources.get(ctx.session, ctx.account, kind, name)
        return operations.render(await operations.get(ctx.session, op, target_id=row.id))


@router.get(
    LIVE + "/operationStatuses/{operation_id}",
    operation_id="LivePipelineOperationStatuses_Get",
    tags=["LivePipelines"],
)
async def live_status(
    request: Request,
    subscription_id: str,
    resource_group: str,
    account_name: str,
    name: str,
    operation_id: str,
    who: Operator,
) -> Any:
    scope = AccountScope(subscription_id, resource_group, account_name)
    return await _status(request, scope, who, live_pipelines.KIND, name, operation_id)


@router.get(
    JOBS + "/operationStatuses/{operation_id}",
    operation_id="PipelineJobOperationStatuses_Get",
    tags=["PipelineJobs"],
)
async def job_status(
    request: Request,
    subscription_id: str,
    resource_group: str,
    account_name: str,
    name: str,
    operation_id: str,
    who: Operator,
) -> Any:
    scope = AccountScope(subscription_id, resource_group, account_name)
    return await _status(request, scope, who, pipeline_jobs.KIND, name, operation_id)
