"""Device-to-cloud messages: kept in the store with their properties, readable by the service API.

A device or module publishes on ``devices/{d}[/modules/{m}]/messages/events/{property bag}``;
the bag's ``$.``-prefixed pairs are system properties (``$.mid``, ``$.cid``, ``$.ct``, ``$.ce``,
``$.on`` the module output), the rest application properties. Each message gets a sequence
number (increasing across the hub) and its enqueued time. Bounded: bodies over
``max_body_bytes`` are dropped (and counted), each identity keeps its newest
``max_per_identity`` messages and none older than ``retention_days``. Optionally every stored
message is also appended, one JSON object a line, to ``sink_path`` (a file of mode 0600).

Read back (an ova extension, not an IoT Hub API): ``read(identity, after, top)``, oldest first.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ova.common.clock import Clock
from ova.hub.namespace import Identity
from ova.hub.store import DEVICE_MODULE, MessageRow

MAX_PAGE = 100


@dataclass(frozen=True)
class StoredMessage:
    sequence: int
    identity: Identity
    enqueued_at: datetime
    properties: dict[str, str]
    system_properties: dict[str, str]
    body: bytes

    def to_json(self) -> dict[str, Any]:
        """The extension's wire shape: text bodies as ``body``, others as ``bodyBase64``."""
        document: dict[str, Any] = {
            "sequenceNumber": self.sequence,
            "deviceId": self.identity.device_id,
            "enqueuedTimeUtc": self.enqueued_at.isoformat(),
            "properties": self.properties,
            "systemProperties": self.system_properties,
        }
        if self.identity.module_id is not None:
            document["moduleId"] = self.identity.module_id
        try:
            document["body"] = self.body.decode("utf-8")
        except UnicodeDecodeError:
            document["bodyBase64"] = base64.b64encode(self.body).decode()
        return document


class MessageStore:
    """Stores device-to-cloud messages within their bounds and reads them back."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        max_per_identity: int = 1000,
        retention_days: int = 7,
        max_body_bytes: int = 256 * 1024,
        sink_path: Path | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._max_per_identity = max_per_identity
        self._retention = timedelta(days=retention_days)
        self._max_body_bytes = max_body_bytes
        self._sink_path = sink_path
        self._sink_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self.dropped = 0

    async def on_message(self, identity: Identity, bag: dict[str, str], body: bytes) -> StoredMessage | None:
        """Store one message (None when it is over the body bound and dropped)."""
        if len(body) > self._max_body_bytes:
            self.dropped += 1
            return None
        async with self._write_lock:  # FIFO: messages are stored in the order they arrived
            return await self._store(identity, bag, body)

    async def _store(self, identity: Identity, bag: dict[str, str], body: bytes) -> StoredMessage:
        module = identity.module_id or DEVICE_MODULE
        row = MessageRow(
            device_id=identity.device_id,
            module_id=module,
            enqueued_at=self._clock.now(),
            properties=bag,
            body=body,
        )
        async with self._sessions.begin() as session:
            session.add(row)
            await session.flush()
            await self._trim(session, identity.device_id, module, row.sequence)
        message = _message(row)
        if self._sink_path is not None:
            await self._append(message)
        return message

    async def _trim(self, session: AsyncSession, device_id: str, module_id: str, newest: int) -> None:
        own = (MessageRow.device_id == device_id, MessageRow.module_id == module_id)
        keep_from = await session.scalar(
            select(MessageRow.sequence)
            .where(*own)
            .order_by(MessageRow.sequence.desc())
            .offset(self._max_per_identity - 1)
            .limit(1)
        )
        if keep_from is not None:
            await session.execute(delete(MessageRow).where(*own, MessageRow.sequence < keep_from))
        cutoff = self._clock.now() - self._retention
        await session.execute(delete(MessageRow).where(MessageRow.enqueued_at < cutoff))

    async def read(self, identity: Identity, after: int = 0, top: int = MAX_PAGE) -> list[StoredMessage]:
        query = (
            select(MessageRow)
            .where(
                MessageRow.device_id == identity.device_id,
                MessageRow.module_id == (identity.module_id or DEVICE_MODULE),
                MessageRow.sequence > after,
            )
            .order_by(MessageRow.sequence)
            .limit(max(1, min(top, MAX_PAGE)))
        )
        async with self._sessions() as session:
            return [_message(row) for row in await session.scalars(query)]

    async def count(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(MessageRow)) or 0)

    async def _append(self, message: StoredMessage) -> None:
        line = (json.dumps(message.to_json(), separators=(",", ":")) + "\n").encode()
        assert self._sink_path is not None
        async with self._sink_lock:
            await asyncio.to_thread(_append_line, self._sink_path, line)


def _append_line(path: Path, line: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _message(row: MessageRow) -> StoredMessage:
    system = {key: value for key, value in row.properties.items() if key.startswith("$.")}
    application = {key: value for key, value in row.properties.items() if not key.startswith("$.")}
    return StoredMessage(
        sequence=row.sequence,
        identity=Identity(row.device_id, row.module_id or None),
        enqueued_at=row.enqueued_at,
        properties=application,
        system_properties=system,
        body=row.body,
    )
