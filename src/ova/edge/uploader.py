"""``Uploader``: drains each video's local cache into the cloud, oldest first, as soon as it is durable.

For one video: publish it when needed (``publish_video`` → a container SAS, renewed once 80 %
of its lifetime has passed), PUT each cached file to ``{container URL}/{blob}?{sas}`` with
``If-None-Match: *`` (create-only; works on the storage family and on Azure Blob), commit the
batch (≤ ``MAX_SEGMENTS_PER_COMMIT`` segments) and only then delete the local copies.

Faults: no answer, a reset, a timeout, a 5xx or a 429 → back off (doubling, jittered 50-100 %,
``Retry-After`` honoured, bounded by ``backoff_max_s``) and try again; nothing is deleted. A
409/412 on PUT (the blob is there: an earlier PUT whose answer was lost) counts as "maybe
stored": the commit checks size and hash server-side and a success there is a success. A 403
on PUT (the SAS expired or was revoked) renews the SAS once, then backs off. A commit the cloud
refuses for good (409: another segment with that sequence; 400) is retried one segment at a
time and each refused segment is dropped with a ``DataDropped`` event. A ``RecordingAvailable``
operational event follows the first successful upload of each video.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

import httpx
from pydantic import BaseModel, Field

from ova.common.clock import Clock, SystemClock, isoformat
from ova.common.errors import Conflict, Forbidden, OvaError, Unauthenticated, ValidationFailed
from ova.contracts.edge_api import (
    MAX_SEGMENTS_PER_COMMIT,
    CommitResult,
    PreviewCommit,
    PublishVideoRequest,
    RecordingStateChange,
    SegmentCommit,
    VideoPublication,
)
from ova.edge import crash_points
from ova.edge.cache_entry import CorruptEntry, Entry, EntryKind
from ova.edge.spool import LocalMediaCache
from ova.edge.upload_batch import blob_url, next_batch, segment_commit
from ova.edge.video_cache import VideoCache

log = logging.getLogger(__name__)
X_MS_VERSION = "2021-08-06"
SAS_RENEW_FRACTION = 0.8
HISTORY_TIMEOUT_S = 10.0


class EdgeVideos(Protocol):
    """What the uploader needs of the edge family (``cloud_link.CloudLink``)."""

    async def publish_video(self, video_name: str, request: PublishVideoRequest) -> VideoPublication: ...

    async def renew_sas(self, video_name: str) -> VideoPublication: ...

    async def commit(self, video_name: str, commit: SegmentCommit) -> CommitResult: ...

    async def preview(self, video_name: str, preview: PreviewCommit) -> None: ...

    async def recording_state(self, video_name: str, change: RecordingStateChange) -> None: ...


class UploaderSettings(BaseModel):
    """How cached media goes up to the cloud."""

    put_timeout_s: float = Field(60.0, gt=0, le=600, description="Timeout of one blob PUT.")
    backoff_initial_s: float = Field(
        1.0, gt=0, le=60, description="First delay after a failure (doubles each time)."
    )
    backoff_max_s: float = Field(
        60.0, gt=0, le=3600, description="Longest delay between tries (jittered 50-100 %)."
    )
    batch_segments: int = Field(
        50, ge=1, le=MAX_SEGMENTS_PER_COMMIT, description="Most segments PUT before one commit."
    )


class RetryLater(Exception):
    """This batch cannot go now; try again after ``delay_s`` (when the cloud said so)."""

    def __init__(self, reason: str, delay_s: float | None = None) -> None:
        super().__init__(reason)
        self.delay_s = delay_s


@dataclass
class UploadStats:
    files_uploaded: int = 0
    bytes_uploaded: int = 0
    segments_committed: int = 0
    retries: int = 0
    refused: int = 0
    """Files dropped: unreadable in the cache, or refused by the cloud for good."""
    sas_renewals: int = 0
    sas_refused: int = 0
    """PUTs answered 403 (an expired or revoked SAS)."""


@dataclass
class _Publication:
    value: VideoPublication
    received_at: datetime
    expires_at: datetime

    def due(self, now: datetime) -> bool:
        return now >= self.received_at + (self.expires_at - self.received_at) * SAS_RENEW_FRACTION


class Uploader:
    def __init__(
        self,
        cloud: EdgeVideos,
        cache: LocalMediaCache,
        settings: UploaderSettings | None = None,
        *,
        clock: Clock | None = None,
        verify: str | bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.cloud, self.cache = cloud, cache
        self.settings = settings or UploaderSettings()
        self.clock = clock or SystemClock()
        self.stats = UploadStats()
        self._rng = rng
        self._http = httpx.AsyncClient(
            timeout=self.settings.put_timeout_s, verify=verify, transport=transport
        )
        self._publications: dict[str, _Publication] = {}
        self._available: set[str] = set()
        self._told: dict[str, str] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        cache.on_open.append(self.watch)
        for video in cache.videos:
            self.watch(video)

    def watch(self, video: VideoCache) -> None:
        """Drain ``video``'s cache from now on (once per video)."""
        task = self._tasks.get(video.video_name)
        if task is None or task.done():
            self._tasks[video.video_name] = asyncio.create_task(
                self._drain(video), name=f"upload {video.video_name}"
            )

    async def last_sequence(self, video_id: str) -> int:
        """``recording.sequences.SequenceHistory`` (``video_id``: the video sink's video name): the
        cloud's lastSequence, publishing the video first when it was not yet (0: the cloud is out of
        reach within ``HISTORY_TIMEOUT_S``)."""
        video = self.cache.video(video_id)
        if video_id not in self._publications and video is not None:
            with contextlib.suppress(OvaError, TimeoutError):
                async with asyncio.timeout(HISTORY_TIMEOUT_S):
                    await self._publication(video)
        publication = self._publications.get(video_id)
        return publication.value.last_sequence if publication else 0

    async def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        for task in self._tasks.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._http.aclose()

    # -- one video -----------------------------------------------------------------------------

    async def _drain(self, video: VideoCache) -> None:
        failures = 0
        while True:
            batch = next_batch(video.pending(), self.settings.batch_segments)
            if not batch and not self._state_due(video):
                video.changed.clear()
                if not video.pending() and not self._state_due(video):
                    await video.changed.wait()
                continue
            try:
                if self._state_due(video):
                    await self._tell_state(video)
                if batch:
                    await self._send(video, batch)
                failures = 0
            except (RetryLater, OvaError) as error:
                failures += 1
                self.stats.retries += 1
                self._report(video, error, first=failures == 1)
                await asyncio.sleep(self._delay(failures, error))
            except Exception:  # a bug must not end the drain: nothing is deleted, try later
                failures += 1
                log.exception("uploading video %s failed", video.video_name)
                await asyncio.sleep(self.settings.backoff_max_s)

    async def _tell_state(self, video: VideoCache) -> None:
        """Tell the cloud the video is being recorded (so it plays live) once it is published, and
        that recording stopped once the last cached file is committed."""
        wanted = _wanted_state(video)
        await self._publication(video)
        change = RecordingStateChange(state=wanted, at=isoformat(self.clock.now()))
        await self.cloud.recording_state(video.video_name, change)
        self._told[video.video_name] = wanted

    def _state_due(self, video: VideoCache) -> bool:
        wanted = _wanted_state(video)
        return self._told.get(video.video_name) != wanted and not (wanted == "stopped" and video.pending())

    def _report(self, video: VideoCache, error: Exception, *, first: bool) -> None:
        """A diagnostics event for the first refusal of a streak (403, 401), never for outages."""
        if isinstance(error, Forbidden):
            event_type = "AuthorizationError"
        elif isinstance(error, Unauthenticated):
            event_type = "AuthenticationError"
        else:
            return
        if first:
            body = {"errorCode": getattr(error, "code", ""), "errorMessage": _reason(error)[:512]}
            self.cache.emit_diagnostics(event_type, video.subject, body)

    def _delay(self, failures: int, error: Exception) -> float:
        growth: float = 2.0 ** min(failures - 1, 20)
        delay = min(self.settings.backoff_max_s, self.settings.backoff_initial_s * growth)
        delay *= 0.5 + 0.5 * self._rng()
        wanted = error.delay_s if isinstance(error, RetryLater) else _retry_after(error)
        if wanted is not None:
            delay = max(delay, min(wanted, self.settings.backoff_max_s))
        log.info("upload paused for %.1f s: %s", delay, _reason(error))
        return delay

    async def _send(self, video: VideoCache, batch: list[Entry]) -> None:
        video.begin(batch)
        try:
            batch = await self._put_all(video, batch)
            crash_points.reached("post-upload")
            if batch and batch[0].kind is EntryKind.PREVIEW:
                await self._commit_preview(video, batch)
            elif batch:
                await self._commit(video, batch)
            await self._done(video, batch)
        finally:
            video.end(batch)

    async def _done(self, video: VideoCache, batch: list[Entry]) -> None:
        video.mark_uploaded(batch)
        await asyncio.to_thread(video.remove, batch)
        video.changed.set()
        publication = self._publications.get(video.video_name)
        if batch and publication is not None and video.video_name not in self._available:
            self._available.add(video.video_name)
            self.cache.emit_operational(
                "RecordingAvailable", video.subject, {"videoName": publication.value.video_name}
            )

    # -- PUT -----------------------------------------------------------------------------------

    async def _put_all(self, video: VideoCache, batch: list[Entry]) -> list[Entry]:
        sent: list[Entry] = []
        for entry in batch:
            try:
                data = await asyncio.to_thread(video.read, entry)
            except (CorruptEntry, OSError) as error:
                self._drop(video, entry, f"the cached file is unreadable: {error}")
                video.evict(entry)
                continue
            crash_points.reached("uploading")
            await self._put(video, entry, data)
            sent.append(entry)
        return sent

    async def _put(self, video: VideoCache, entry: Entry, data: bytes) -> None:
        for renewed in (False, True):
            publication = await self._publication(video, force_renew=renewed)
            status, retry_after = await self._put_once(publication.value.container_sas_url, entry, data)
            if status in (200, 201, 409, 412):  # 409/412: already there (a lost answer); the commit checks
                self.stats.files_uploaded += 1
                self.stats.bytes_uploaded += len(data)
                return
            if status != 403:
                raise RetryLater(f"the blob store answered {status}", retry_after)
            self.stats.sas_refused += 1
        raise RetryLater("the blob store refused the renewed SAS (403)")

    async def _put_once(self, container_sas_url: str, entry: Entry, data: bytes) -> tuple[int, float | None]:
        headers = {
            "If-None-Match": "*",
            "Content-Type": entry.content_type,
            "x-ms-blob-content-type": entry.content_type,
            "x-ms-blob-type": "BlockBlob",
            "x-ms-version": X_MS_VERSION,
            "Content-MD5": base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode(),
        }
        try:
            response = await self._http.put(
                blob_url(container_sas_url, entry.blob_name), content=data, headers=headers
            )
        except httpx.HTTPError as error:
            raise RetryLater(f"the blob PUT failed: {type(error).__name__}") from None
        await response.aclose()
        value = response.headers.get("Retry-After", "")
        return response.status_code, float(value) if value.isdigit() else None

    async def _publication(self, video: VideoCache, *, force_renew: bool = False) -> _Publication:
        current = self._publications.get(video.video_name)
        now = self.clock.now()
        if current is not None and not force_renew and not current.due(now):
            return current
        if current is None:
            value = await self.cloud.publish_video(video.video_name, video.publish)
        else:
            value = await self.cloud.renew_sas(video.video_name)
            self.stats.sas_renewals += 1
        expires = datetime.fromisoformat(value.expires_at.replace("Z", "+00:00"))
        publication = _Publication(value, now, expires)
        self._publications[video.video_name] = publication
        return publication

    # -- commit --------------------------------------------------------------------------------

    async def _commit(self, video: VideoCache, batch: list[Entry]) -> None:
        try:
            result = await self.cloud.commit(video.video_name, segment_commit(batch))
        except (Conflict, ValidationFailed):
            await self._commit_one_by_one(video, batch)
            return
        self.stats.segments_committed += result.committed + result.already_committed

    async def _commit_one_by_one(self, video: VideoCache, batch: list[Entry]) -> None:
        inits = [entry for entry in batch if entry.kind is EntryKind.INIT]
        for entry in batch:
            if entry.kind is EntryKind.INIT:
                continue
            try:
                result = await self.cloud.commit(video.video_name, segment_commit([*inits, entry]))
            except (Conflict, ValidationFailed) as error:
                self._drop(video, entry, f"the cloud refused the segment: {error.message}")
                continue
            self.stats.segments_committed += result.committed + result.already_committed

    async def _commit_preview(self, video: VideoCache, batch: list[Entry]) -> None:
        sizes = [str(entry.details["size"]) for entry in batch]
        try:
            await self.cloud.preview(
                video.video_name,
                PreviewCommit.model_validate({"atMs": batch[0].details["atMs"], "sizes": sizes}),
            )
        except (Conflict, ValidationFailed) as error:
            log.warning("the cloud refused a preview of video %s: %s", video.video_name, error.message)

    def _drop(self, video: VideoCache, entry: Entry, reason: str) -> None:
        self.stats.refused += 1
        self.cache.stats.data_dropped += 1
        log.warning("dropped %s of video %s: %s", entry.blob_name, video.video_name, reason)
        body = {"reason": "UploadRefused", "blobName": entry.blob_name, "errorMessage": reason[:512]}
        self.cache.emit_diagnostics("DataDropped", video.subject, body)


def _wanted_state(video: VideoCache) -> Literal["started", "stopped"]:
    return "stopped" if video.closed else "started"


def _retry_after(error: Exception) -> float | None:
    if isinstance(error, OvaError):
        value = error.headers.get("Retry-After")
        return float(value) if value else None
    return None


def _reason(error: Exception) -> str:
    return error.message if isinstance(error, OvaError) else str(error)
