"""Routes for every nested resource kind, generated from the kind registry.

Operation ids follow the SDK's names (``Videos_Get``, ``LivePipelines_CreateOrUpdate``...).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from ova.cloud.api.management.accounts import ACCOUNT
from ova.cloud.api.management.context import check_api_version, in_account, json_body, operator
from ova.cloud.api.paging import next_link, page_of
from ova.cloud.domain import odata_filter, resources
from ova.cloud.domain.arm import AccountScope, Principal
from ova.cloud.domain.kinds import videos  # noqa: F401  (registers every kind)
from ova.cloud.domain.resources import KINDS, ResourceKind

Operator = Annotated[Principal, Depends(operator)]
Handler = Callable[..., Awaitable[Any]]


def _operation_prefix(kind: ResourceKind) -> str:
    return kind.collection[0].upper() + kind.collection[1:]


def _handlers(kind: ResourceKind) -> dict[str, Handler]:
    async def list_all(
        request: Request, subscription_id: str, resource_group: str, account_name: str, who: Operator
    ) -> Any:
        async with in_account(
            request, AccountScope(subscription_id, resource_group, account_name), who
        ) as ctx:
            predicate = odata_filter.parse(request.query_params.get("$filter"))
            values, token = await resources.list_rendered(ctx, kind, page_of(request), predicate)
            return {"value": values, **next_link(request, token)}

    async def get_one(
        request: Request,
        subscription_id: str,
        resource_group: str,
        account_name: str,
        name: str,
        who: Operator,
    ) -> Any:
        async with in_account(
            request, AccountScope(subscription_id, resource_group, account_name), who
        ) as ctx:
            return await resources.render(
                ctx, kind, await resources.get(ctx.session, ctx.account, kind, name)
            )

    async def put_one(
        request: Request,
        subscription_id: str,
        resource_group: str,
        account_name: str,
        name: str,
        who: Operator,
    ) -> Any:
        body = await json_body(request, required=kind.patchable)
        async with in_account(
            request, AccountScope(subscription_id, resource_group, account_name), who
        ) as ctx:
            row, created = await resources.put(ctx, kind, name, body)
            return JSONResponse(await resources.render(ctx, kind, row), status_code=201 if created else 200)

    async def patch_one(
        request: Request,
        subscription_id: str,
        resource_group: str,
        account_name: str,
        name: str,
        who: Operator,
    ) -> Any:
        body = await json_body(request)
        async with in_account(
            request, AccountScope(subscription_id, resource_group, account_name), who
        ) as ctx:
            return await resources.render(ctx, kind, await resources.patch(ctx, kind, name, body))

    async def delete_one(
        request: Request,
        subscription_id: str,
        resource_group: str,
        account_name: str,
        name: str,
        who: Operator,
    ) -> Response:
        async with in_account(
            request, AccountScope(subscription_id, resource_group, account_name), who
        ) as ctx:
            deleted = await resources.delete(ctx, kind, name)
        return Response(status_code=200 if deleted else 204)

    return {"list": list_all, "get": get_one, "put": put_one, "patch": patch_one, "delete": delete_one}


def build_router() -> APIRouter:
    router = APIRouter(dependencies=[Depends(check_api_version)])
    for kind in KINDS.values():
        handlers = _handlers(kind)
        prefix = _operation_prefix(kind)
        collection = f"{ACCOUNT}/{kind.collection}"
        item = collection + "/{name}"
        tags: list[str | Any] = [prefix]
        router.add_api_route(
            collection, handlers["list"], methods=["GET"], operation_id=f"{prefix}_List", tags=tags
        )
        router.add_api_route(item, handlers["get"], methods=["GET"], operation_id=f"{prefix}_Get", tags=tags)
        router.add_api_route(
            item, handlers["put"], methods=["PUT"], operation_id=f"{prefix}_CreateOrUpdate", tags=tags
        )
        if kind.patchable:
            router.add_api_route(
                item, handlers["patch"], methods=["PATCH"], operation_id=f"{prefix}_Update", tags=tags
            )
        router.add_api_route(
            item, handlers["delete"], methods=["DELETE"], operation_id=f"{prefix}_Delete", tags=tags
        )
    return router
