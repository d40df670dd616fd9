"""The life cycle every nested management resource shares, and the registry of resource kinds.

A kind (videos, access policies, edge modules, ...) is one module holding a
``ResourceKind`` subclass: its name rule, how a request body becomes a stored document,
which server-owned fields it renders, and what must hold before a delete. The
functions below do the rest (lookup, paging, systemData, PATCH merging) the same way
for all of them.
"""

from __future__ import annotations

import copy
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.db.models import AccountRow, ResourceRow
from ova.cloud.domain.arm import ACCOUNT_TYPE, Page, Principal, check_name, encode_skip_token, system_data
from ova.cloud.domain.services import CloudServices
from ova.common.errors import Conflict, NotFound, ValidationFailed

Document = dict[str, Any]

# Alphanumerics and dashes, no dash at either end, at most 32 characters (pipeline entities).
PIPELINE_NAME = re.compile(r"^(?=.{1,32}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")
PIPELINE_NAME_RULE = "Use 1 to 32 letters, digits and dashes, not starting or ending with a dash."
# Alphanumerics, dashes, underscores and dots, no special character at either end, at most 260.
ENTITY_NAME = re.compile(r"^(?=.{1,260}$)[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$")
ENTITY_NAME_RULE = (
    "Use 1 to 260 letters, digits, dashes, underscores and dots, starting and ending with a letter or digit."
)


@dataclass
class KindContext:
    """One request's view of the deployment, handed to a kind's hooks."""

    services: CloudServices
    session: AsyncSession
    account: AccountRow
    principal: Principal

    def account_arm_id(self) -> str:
        doc = self.account
        return (
            f"/subscriptions/{doc.subscription_id}/resourceGroups/{doc.resource_group}"
            f"/providers/{ACCOUNT_TYPE}/{doc.name}"
        )


class ResourceKind(ABC):
    """Base of every nested resource kind; subclasses override what differs."""

    collection: ClassVar[str]
    noun: ClassVar[str]
    name_pattern: ClassVar[re.Pattern[str]] = ENTITY_NAME
    name_rule: ClassVar[str] = ENTITY_NAME_RULE
    max_per_account: ClassVar[int | None] = None
    patchable: ClassVar[bool] = True
    read_only_properties: ClassVar[frozenset[str]] = frozenset()

    @property
    def arm_type(self) -> str:
        return f"{ACCOUNT_TYPE}/{self.collection}"

    @abstractmethod
    async def prepare(
        self, ctx: KindContext, name: str, body: Mapping[str, Any], existing: ResourceRow | None
    ) -> Document:
        """Validate a PUT body (read-only fields already removed); return the document to store."""

    async def render_properties(self, ctx: KindContext, row: ResourceRow) -> Document:
        """The ``properties`` of a GET response: stored ones plus server-owned ones."""
        return copy.deepcopy(row.document.get("properties", {}))

    async def after_delete(self, ctx: KindContext, row: ResourceRow) -> None:  # noqa: B027 (optional hook)
        """Clean up what lives outside the store (a video's media) once the row is gone."""

    def render_top_level(self, row: ResourceRow) -> Document:
        """Top-level fields besides id/name/type/systemData/properties (a topology's kind and sku)."""
        return {}

    async def before_delete(self, ctx: KindContext, row: ResourceRow) -> None:  # noqa: B027 (optional hook)
        """Raise ``Conflict`` when the resource may not be deleted now."""


KINDS: dict[str, ResourceKind] = {}


def register(kind: ResourceKind) -> ResourceKind:
    KINDS[kind.collection] = kind
    return kind


def kind_for(collection: str) -> ResourceKind:
    try:
        return KINDS[collection]
    except KeyError:
        raise NotFound(f"Unknown resource type '{collection}'.", code="InvalidResourceType") from None


async def find(
    session: AsyncSession, account: AccountRow, kind: ResourceKind, name: str
) -> ResourceRow | None:
    statement = select(ResourceRow).where(
        ResourceRow.account_id == account.id,
        ResourceRow.kind == kind.collection,
        ResourceRow.name_key == name.lower(),
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def get(session: AsyncSession, account: AccountRow, kind: ResourceKind, name: str) -> ResourceRow:
    row = await find(session, account, kind, name)
    if row is None:
        raise NotFound(f"The {kind.noun} '{name[:260]}' was not found.", target=name[:260])
    return row


async def list_page(
    session: AsyncSession, account: AccountRow, kind: ResourceKind, page: Page
) -> tuple[list[ResourceRow], str | None]:
    statement = select(ResourceRow).where(
        ResourceRow.account_id == account.id, ResourceRow.kind == kind.collection
    )
    if page.after is not None:
        statement = statement.where(ResourceRow.name_key > page.after)
    rows = list(
        (await session.execute(statement.order_by(ResourceRow.name_key).limit(page.size + 1))).scalars()
    )
    next_token = encode_skip_token(rows[page.size - 1].name_key) if len(rows) > page.size else None
    return rows[: page.size], next_token


async def count(session: AsyncSession, account: AccountRow, kind: ResourceKind) -> int:
    statement = (
        select(func.count())
        .select_from(ResourceRow)
        .where(ResourceRow.account_id == account.id, ResourceRow.kind == kind.collection)
    )
    return int((await session.execute(statement)).scalar_one())


def strip_read_only(kind: ResourceKind, body: Mapping[str, Any]) -> Document:
    """Drop what ARM treats as read-only on input (``id``, ``systemData``, server-owned properties)."""
    if not isinstance(body, Mapping):
        raise ValidationFailed("The request body must be a JSON object.", target="body")
    clean = {key: value for key, value in body.items() if key not in {"id", "name", "type", "systemData"}}
    properties = clean.get("properties")
    if isinstance(properties, Mapping):
        clean["properties"] = {k: v for k, v in properties.items() if k not in kind.read_only_properties}
    return clean


async def put(
    ctx: KindContext, kind: ResourceKind, name: str, body: Mapping[str, Any]
) -> tuple[ResourceRow, bool]:
    """Create or replace; returns the row and whether it was created."""
    check_name(name, kind.name_pattern, kind.name_rule, kind.noun)
    existing = await find(ctx.session, ctx.account, kind, name)
    limit = kind.max_per_account
    if existing is None and limit is not None and await count(ctx.session, ctx.account, kind) >= limit:
        raise ValidationFailed(
            f"An account can hold at most {limit} {kind.collection}.", code="QuotaExceeded"
        )
    document = await kind.prepare(ctx, name, strip_read_only(kind, body), existing)
    now = ctx.services.clock.now()
    if existing is not None:
        existing.document = document
        existing.modified_at, existing.modified_by = now, ctx.principal.name
        await ctx.session.flush()
        return existing, False
    row = ResourceRow(
        id=str(uuid.uuid4()),
        account_id=ctx.account.id,
        kind=kind.collection,
        name=name,
        name_key=name.lower(),
        document=document,
        created_at=now,
        created_by=ctx.principal.name,
        modified_at=now,
        modified_by=ctx.principal.name,
    )
    ctx.session.add(row)
    await ctx.session.flush()
    return row, True


async def patch(ctx: KindContext, kind: ResourceKind, name: str, body: Mapping[str, Any]) -> ResourceRow:
    """Merge ``body`` into the stored resource (RFC 7396 semantics), then validate the whole."""
    row = await get(ctx.session, ctx.account, kind, name)
    merged = merge_patch(await stored_for_patch(ctx, kind, row), strip_read_only(kind, body))
    row.document = await kind.prepare(ctx, row.name, merged, row)
    row.modified_at, row.modified_by = ctx.services.clock.now(), ctx.principal.name
    await ctx.session.flush()
    return row


async def stored_for_patch(ctx: KindContext, kind: ResourceKind, row: ResourceRow) -> Document:
    document = {**kind.render_top_level(row), "properties": copy.deepcopy(row.document.get("properties", {}))}
    return strip_read_only(kind, document)


async def delete(ctx: KindContext, kind: ResourceKind, name: str) -> bool:
    """Delete; ``False`` when there was nothing to delete (ARM answers 204 then)."""
    row = await find(ctx.session, ctx.account, kind, name)
    if row is None:
        return False
    await kind.before_delete(ctx, row)
    await ctx.session.delete(row)
    await ctx.session.flush()
    await kind.after_delete(ctx, row)
    return True


async def render(ctx: KindContext, kind: ResourceKind, row: ResourceRow) -> Document:
    return {
        "id": f"{ctx.account_arm_id()}/{kind.collection}/{row.name}",
        "name": row.name,
        "type": kind.arm_type,
        "systemData": system_data(row.created_at, row.created_by, row.modified_at, row.modified_by),
        **kind.render_top_level(row),
        "properties": await kind.render_properties(ctx, row),
    }


def merge_patch(target: Any, patch_value: Any) -> Any:
    if not isinstance(patch_value, Mapping):
        return copy.deepcopy(patch_value)
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch_value.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def in_state(row: ResourceRow, *states: str) -> bool:
    return row.document.get("properties", {}).get("state") in states


def conflict_in_state(kind: ResourceKind, row: ResourceRow, action: str) -> Conflict:
    state = row.document.get("properties", {}).get("state")
    return Conflict(
        f"The {kind.noun} '{row.name}' cannot be {action} while it is {state}.",
        code="OperationNotAllowedInState",
    )


async def list_rendered(
    ctx: KindContext, kind: ResourceKind, page: Page, predicate: Callable[[Document], bool] | None = None
) -> tuple[list[Document], str | None]:
    """One page of rendered resources (those ``predicate`` accepts), and the next page's token."""
    if predicate is None:
        rows, token = await list_page(ctx.session, ctx.account, kind, page)
        return [await render(ctx, kind, row) for row in rows], token
    statement = select(ResourceRow).where(
        ResourceRow.account_id == ctx.account.id, ResourceRow.kind == kind.collection
    )
    if page.after is not None:
        statement = statement.where(ResourceRow.name_key > page.after)
    matches: list[tuple[str, Document]] = []
    for row in (await ctx.session.execute(statement.order_by(ResourceRow.name_key))).scalars():
        document = await render(ctx, kind, row)
        if predicate(document):
            matches.append((row.name_key, document))
        if len(matches) > page.size:
            break
    token = encode_skip_token(matches[page.size - 1][0]) if len(matches) > page.size else None
    return [document for _, document in matches[: page.size]], token
