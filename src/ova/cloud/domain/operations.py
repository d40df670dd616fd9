"""Long-running operations as ARM pollers read them (``operationStatuses/{id}``)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.db.models import OperationRow
from ova.common.clock import Clock, isoformat
from ova.common.errors import NotFound


async def record(
    session: AsyncSession, clock: Clock, target_id: str, name: str, error: dict[str, Any] | None = None
) -> OperationRow:
    """Record an operation that has already finished (this service completes them in-line)."""
    now = clock.now()
    row = OperationRow(
        id=str(uuid.uuid4()),
        target_id=target_id,
        name=name,
        status="Failed" if error else "Succeeded",
        error=error,
        started_at=now,
        ended_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def get(session: AsyncSession, operation_id: str, target_id: str | None = None) -> OperationRow:
    statement = select(OperationRow).where(OperationRow.id == operation_id)
    if target_id is not None:
        statement = statement.where(OperationRow.target_id == target_id)
    row = (await session.execute(statement)).scalar_one_or_none()
    if row is None:
        raise NotFound("The operation was not found.", code="OperationNotFound")
    return row


def render(row: OperationRow, with_times: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"name": row.id, "status": row.status}
    if with_times:
        body.update(id=row.id, startTime=isoformat(row.started_at))
        if row.ended_at is not None:
            body["endTime"] = isoformat(row.ended_at)
    if row.error:
        body["error"] = row.error
    return body
