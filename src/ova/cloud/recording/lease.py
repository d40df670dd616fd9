"""Runs a recording under its video's recording lease: taken before the first packet, renewed
while the recorder runs, dropped after its last segment is flushed (see ``recording_lease``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable
from typing import TypeVar

from ova.cloud.domain import recording_lease
from ova.cloud.domain.services import CloudServices

log = logging.getLogger(__name__)
T = TypeVar("T")


async def under_lease(services: CloudServices, video_id: str, segment_ms: int, recording: Awaitable[T]) -> T:
    """Await ``recording`` while holding the lease of ``video_id``."""
    holder = uuid.uuid4().hex
    await _hold(services, video_id, holder, segment_ms)
    renewer = asyncio.create_task(_renew(services, video_id, holder, segment_ms))
    try:
        return await recording
    finally:
        renewer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewer
        async with services.sessions.begin() as session:
            await recording_lease.release(session, video_id, holder)


async def _hold(services: CloudServices, video_id: str, holder: str, segment_ms: int) -> None:
    async with services.sessions.begin() as session:
        length = recording_lease.lease_length(segment_ms)
        await recording_lease.hold(session, video_id, holder, services.clock.now(), length)


async def _renew(services: CloudServices, video_id: str, holder: str, segment_ms: int) -> None:
    while True:
        await asyncio.sleep(recording_lease.renew_every(segment_ms))
        try:
            await _hold(services, video_id, holder, segment_ms)
        except Exception as error:  # a missed renewal is retried; the lease covers several
            log.warning("could not renew the recording lease: %s", type(error).__name__)
