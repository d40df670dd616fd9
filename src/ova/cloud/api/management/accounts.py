"""Routes for Video Analyzer accounts and their long-running operation statuses."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from ova.cloud.api.management.context import check_api_version, json_body, operator, services_of, transaction
from ova.cloud.api.paging import next_link, page_of
from ova.cloud.domain import accounts, operations
from ova.cloud.domain.arm import API_VERSION, AccountScope, Principal

SUB = "/subscriptions/{subscription_id}"
RG = SUB + "/resourceGroups/{resource_group}"
ACCOUNT = RG + "/providers/Microsoft.Media/videoAnalyzers/{account_name}"
LOCATION = SUB + "/providers/Microsoft.Media/locations/{location}"

router = APIRouter(dependencies=[Depends(check_api_version)], tags=["VideoAnalyzers"])
Operator = Annotated[Principal, Depends(operator)]


@router.get(RG + "/providers/Microsoft.Media/videoAnalyzers", operation_id="VideoAnalyzers_List")
async def list_in_group(request: Request, subscription_id: str, resource_group: str, _: Operator) -> Any:
    async with transaction(request) as session:
        rows, token = await accounts.list_page(session, subscription_id, resource_group, page_of(request))
        return {
            "value": [accounts.render(services_of(request), r) for r in rows],
            **next_link(request, token),
        }


@router.get(
    SUB + "/providers/Microsoft.Media/videoAnalyzers", operation_id="VideoAnalyzers_ListBySubscription"
)
async def list_in_subscription(request: Request, subscription_id: str, _: Operator) -> Any:
    async with transaction(request) as session:
        rows, token = await accounts.list_page(session, subscription_id, None, page_of(request))
        return {
            "value": [accounts.render(services_of(request), r) for r in rows],
            **next_link(request, token),
        }


@router.get(ACCOUNT, operation_id="VideoAnalyzers_Get")
async def get_account(
    request: Request, subscription_id: str, resource_group: str, account_name: str, _: Operator
) -> Any:
    async with transaction(request) as session:
        row = await accounts.get(session, AccountScope(subscription_id, resource_group, account_name))
        return accounts.render(services_of(request), row)


@router.put(ACCOUNT, operation_id="VideoAnalyzers_CreateOrUpdate")
async def put_account(
    request: Request, subscription_id: str, resource_group: str, account_name: str, who: Operator
) -> Any:
    scope = AccountScope(subscription_id, resource_group, account_name)
    async with transaction(request) as session:
        row, created = await accounts.put(services_of(request), session, scope, await json_body(request), who)
        return JSONResponse(accounts.render(services_of(request), row), status_code=201 if created else 200)


@router.patch(ACCOUNT, operation_id="VideoAnalyzers_Update")
async def patch_account(
    request: Request, subscription_id: str, resource_group: str, account_name: str, who: Operator
) -> Any:
    """Completes in-line, answering 202 with a finished operation as ARM's poller expects."""
    scope = AccountScope(subscription_id, resource_group, account_name)
    services = services_of(request)
    async with transaction(request) as session:
        row = await accounts.patch(services, session, scope, await json_body(request), who)
        operation = await operations.record(session, services.clock, row.id, "update")
        body = accounts.render(services, row)
    base = str(request.base_url).rstrip("/") + LOCATION.format(
        subscription_id=subscription_id, location=row.location
    )
    query = f"{operation.id}?api-version={API_VERSION}"
    headers = {
        "Azure-AsyncOperation": f"{base}/videoAnalyzerOperationStatuses/{query}",
        "Location": f"{base}/videoAnalyzerOperationResults/{query}",
        "Retry-After": "0",
    }
    return JSONResponse(body, status_code=202, headers=headers)


@router.delete(ACCOUNT, operation_id="VideoAnalyzers_Delete")
async def delete_account(
    request: Request, subscription_id: str, resource_group: str, account_name: str, _: Operator
) -> Response:
    async with transaction(request) as session:
        deleted = await accounts.delete(session, AccountScope(subscription_id, resource_group, account_name))
    return Response(status_code=200 if deleted else 204)


@router.get(
    LOCATION + "/videoAnalyzerOperationStatuses/{operation_id}",
    operation_id="VideoAnalyzerOperationStatuses_Get",
)
async def account_operation_status(
    request: Request, subscription_id: str, location: str, operation_id: str, _: Operator
) -> Any:
    async with transaction(request) as session:
        return operations.render(await operations.get(session, operation_id), with_times=True)


@router.get(
    LOCATION + "/videoAnalyzerOperationResults/{operation_id}",
    operation_id="VideoAnalyzerOperationResults_Get",
)
async def account_operation_result(
    request: Request, subscription_id: str, location: str, operation_id: str, _: Operator
) -> Any:
    async with transaction(request) as session:
        operation = await operations.get(session, operation_id)
        row = await accounts.get_by_id(session, operation.target_id)
        return accounts.render(services_of(request), row)


@router.post(LOCATION + "/checkNameAvailability", operation_id="Locations_CheckNameAvailability")
async def check_name_availability(request: Request, subscription_id: str, location: str, _: Operator) -> Any:
    async with transaction(request) as session:
        return await accounts.check_name_availability(session, await json_body(request))
