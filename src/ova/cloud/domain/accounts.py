"""Video Analyzer accounts (``Microsoft.Media/videoAnalyzers``), the tracked resource all others live in.

Account names are unique across the deployment (as the original's were across Azure),
which is what ``checkNameAvailability`` answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.db.models import AccountRow
from ova.cloud.domain.arm import (
    ACCOUNT_NAME,
    ACCOUNT_TYPE,
    AccountScope,
    Page,
    Principal,
    check_name,
    check_scope,
    encode_skip_token,
    system_data,
)
from ova.cloud.domain.resources import merge_patch
from ova.cloud.domain.services import CloudServices
from ova.common.errors import Conflict, NotFound, ValidationFailed
from ova.contracts.arm_resources import AccountBody, AccountPatchBody, CheckNameAvailabilityRequest
from ova.contracts.model_errors import parse_model

ACCOUNT_NAME_RULE = "Use 3 to 24 lowercase letters and digits."
READ_ONLY = {"id", "name", "type", "systemData"}
READ_ONLY_PROPERTIES = {"endpoints", "provisioningState", "privateEndpointConnections"}


def writable(body: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(body, Mapping):
        raise ValidationFailed("The request body must be a JSON object.", target="body")
    clean = {key: value for key, value in body.items() if key not in READ_ONLY}
    if isinstance(clean.get("properties"), Mapping):
        clean["properties"] = {k: v for k, v in clean["properties"].items() if k not in READ_ONLY_PROPERTIES}
        for entry in clean["properties"].get("storageAccounts") or []:
            if isinstance(entry, dict):
                entry.pop("status", None)
    return clean


async def find(session: AsyncSession, scope: AccountScope) -> AccountRow | None:
    check_scope(scope.subscription_id, scope.resource_group)
    statement = select(AccountRow).where(
        AccountRow.subscription_id == scope.subscription_id,
        AccountRow.resource_group_key == scope.resource_group.lower(),
        AccountRow.name_key == scope.name.lower(),
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def get(session: AsyncSession, scope: AccountScope) -> AccountRow:
    row = await find(session, scope)
    if row is None:
        raise NotFound(
            f"The Video Analyzer account '{scope.name[:64]}' was not found.", target=scope.name[:64]
        )
    return row


def to_document(model: AccountBody | AccountPatchBody, location: str) -> dict[str, Any]:
    document = model.model_dump(by_alias=True, exclude_none=True)
    document["location"] = location
    return document


async def put(
    services: CloudServices,
    session: AsyncSession,
    scope: AccountScope,
    body: Mapping[str, Any],
    who: Principal,
) -> tuple[AccountRow, bool]:
    check_scope(scope.subscription_id, scope.resource_group)
    check_name(scope.name, ACCOUNT_NAME, ACCOUNT_NAME_RULE, "account")
    model = parse_model(AccountBody, writable(body))
    existing = await find(session, scope)
    now = services.clock.now()
    if existing is not None:
        if model.location.lower() != existing.location.lower():
            raise ValidationFailed(
                "The location of an account cannot change.", code="LocationCannotChange", target="location"
            )
        existing.document = to_document(model, existing.location)
        existing.modified_at, existing.modified_by = now, who.name
        await session.flush()
        return existing, False
    if await name_taken(session, scope.name):
        raise Conflict(f"The account name '{scope.name}' is already in use.", code="NameUnavailable")
    row = AccountRow(
        id=str(uuid.uuid4()),
        subscription_id=scope.subscription_id,
        resource_group=scope.resource_group,
        resource_group_key=scope.resource_group.lower(),
        name=scope.name,
        name_key=scope.name.lower(),
        location=model.location,
        document=to_document(model, model.location),
        created_at=now,
        created_by=who.name,
        modified_at=now,
        modified_by=who.name,
    )
    session.add(row)
    await session.flush()
    return row, True


async def patch(
    services: CloudServices,
    session: AsyncSession,
    scope: AccountScope,
    body: Mapping[str, Any],
    who: Principal,
) -> AccountRow:
    row = await get(session, scope)
    current = {key: value for key, value in row.document.items() if key != "location"}
    merged = merge_patch(current, writable(body))
    row.document = to_document(parse_model(AccountPatchBody, merged), row.location)
    row.modified_at, row.modified_by = services.clock.now(), who.name
    await session.flush()
    return row


async def delete(session: AsyncSession, scope: AccountScope) -> bool:
    row = await find(session, scope)
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


async def list_page(
    session: AsyncSession, subscription_id: str, resource_group: str | None, page: Page
) -> tuple[list[AccountRow], str | None]:
    check_scope(subscription_id, resource_group or "all")
    statement = select(AccountRow).where(AccountRow.subscription_id == subscription_id)
    if resource_group is not None:
        statement = statement.where(AccountRow.resource_group_key == resource_group.lower())
    if page.after is not None:
        statement = statement.where(AccountRow.name_key > page.after)
    rows = list(
        (await session.execute(statement.order_by(AccountRow.name_key).limit(page.size + 1))).scalars()
    )
    next_token = encode_skip_token(rows[page.size - 1].name_key) if len(rows) > page.size else None
    return rows[: page.size], next_token


async def name_taken(session: AsyncSession, name: str) -> bool:
    statement = select(AccountRow.id).where(AccountRow.name_key == name.lower())
    return (await session.execute(statement)).first() is not None


async def check_name_availability(session: AsyncSession, body: Mapping[str, Any]) -> dict[str, Any]:
    request = parse_model(CheckNameAvailabilityRequest, body)
    if request.type is not None and request.type.lower() != ACCOUNT_TYPE.lower():
        raise ValidationFailed(f"Only '{ACCOUNT_TYPE}' names can be checked.", target="type")
    name = request.name or ""
    if not ACCOUNT_NAME.fullmatch(name):
        return {"nameAvailable": False, "reason": "Invalid", "message": ACCOUNT_NAME_RULE}
    if await name_taken(session, name):
        return {"nameAvailable": False, "reason": "AlreadyExists", "message": f"The name '{name}' is in use."}
    return {"nameAvailable": True}


def account_key(row: AccountRow) -> str:
    """The 32-hex id used in this account's client and streaming URLs."""
    return row.id.replace("-", "")


def render(services: CloudServices, row: AccountRow) -> dict[str, Any]:
    scope = AccountScope(row.subscription_id, row.resource_group, row.name)
    document = dict(row.document)
    properties = dict(document.pop("properties", {}))
    client_url = services.urls.client_api(account_key(row))
    properties["endpoints"] = [{"type": "ClientApi", "endpointUrl": client_url}] if client_url else []
    properties["provisioningState"] = "Succeeded"
    properties["privateEndpointConnections"] = []
    return {
        "id": scope.arm_id(),
        "name": row.name,
        "type": ACCOUNT_TYPE,
        "systemData": system_data(row.created_at, row.created_by, row.modified_at, row.modified_by),
        **document,
        "properties": properties,
    }


async def get_by_id(session: AsyncSession, account_id: str) -> AccountRow:
    row = await session.get(AccountRow, account_id)
    if row is None:
        raise NotFound("The Video Analyzer account was not found.")
    return row
