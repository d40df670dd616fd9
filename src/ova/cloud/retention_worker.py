"""The retention worker of ``ova cloud``: every ``recording.retention_interval_seconds`` it
applies videos' retention periods (``domain/retention``), at most
``recording.retention_batch_size`` segments per pass, and counts what it deleted in
``ova_retention_deleted_segments_total``."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import CollectorRegistry, Counter

from ova.cloud.domain import retention
from ova.cloud.domain.services import CloudServices

log = logging.getLogger(__name__)


class RetentionWorker:
    def __init__(self, services: CloudServices, registry: CollectorRegistry) -> None:
        self._services = services
        self._interval = services.settings.recording.retention_interval_seconds
        self._batch = services.settings.recording.retention_batch_size
        self._task: asyncio.Task[None] | None = None
        self.deleted = Counter(
            "ova_retention_deleted_segments",
            "Segments (index rows and blobs) deleted for outliving their video's retentionPeriod.",
            registry=registry,
        )

    async def start(self) -> None:
        self._task = asyncio.create_task(self._periodically(), name="retention")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _periodically(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception as error:  # a store that is down now is retried next pass
                log.warning("retention pass failed: %s", type(error).__name__)
            await asyncio.sleep(self._interval)

    async def run_once(self) -> int:
        """One pass: finish an interrupted one, then expire up to a batch; segments deleted."""
        await retention.purge(self._services, self._batch)
        now = self._services.clock.now()
        async with self._services.sessions.begin() as session:
            expiries = await retention.expiries(session, now)
        deleted = 0
        for expiry in expiries:
            if deleted >= self._batch:
                break
            async with self._services.sessions.begin() as session:
                count = await retention.expire(session, expiry, self._batch - deleted, now)
            if count:
                deleted += count
                await retention.purge(self._services, self._batch)
        self.deleted.inc(deleted)
        if deleted:
            log.info("retention deleted %d segments", deleted)
        return deleted
