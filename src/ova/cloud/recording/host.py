"""Runs the recordings of active cloud live pipelines inside the cloud service.

``reconcile()`` makes the running recorders match the store: one per Active live pipeline
whose topology records an RTSP camera into a video sink. It runs on activate/deactivate
and periodically, so pipelines left Active resume after a restart. Stopping a recorder
flushes its buffered media into the archive first. A camera URL that is not ``rtsp://`` or
``rtsps://`` (written before that rule, or through a changed topology) is never recorded;
connections go only to the operator's camera networks; every recorder checks segments in the
one ``KeyframePool`` it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.db.models import AccountRow, ResourceRow
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.kinds.live_pipelines import ACTIVE
from ova.cloud.domain.kinds.pipeline_topologies import KIND as TOPOLOGIES
from ova.cloud.domain.resources import find
from ova.cloud.domain.services import CloudServices
from ova.cloud.recording.archive_sink import ArchiveSink, next_sequence
from ova.cloud.recording.lease import under_lease
from ova.cloud.settings import KeyframeCheckSettings
from ova.contracts.topology import resolve_parameters, validate_cloud_topology
from ova.media.camera_networks import CameraNetworks
from ova.media.ingest_settings import IngestSettings
from ova.recording.keyframe_pool import DecodeLimits, KeyframePool
from ova.recording.plan import NotRecordable, RecordingPlan, duration_ms, rtsp_camera_url, system_variables
from ova.recording.recorder import KeyframeCheck, Recorder, RecorderSettings, RecorderStatus

log = logging.getLogger(__name__)
RECONCILE_SECONDS = 10.0


@dataclass
class _Running:
    plan: RecordingPlan
    recorder: Recorder
    stop: asyncio.Event
    task: asyncio.Task[RecorderStatus]


def keyframe_pool(settings: KeyframeCheckSettings) -> KeyframePool:
    """The pool of limited child processes every recorder of this process checks segments in."""
    limits = DecodeLimits(
        workers=settings.workers,
        queue_size=settings.queue_size,
        memory_mib=settings.memory_mib,
        cpu_seconds=settings.cpu_seconds,
        timeout_s=settings.timeout_seconds,
    )
    return KeyframePool(limits)


class PipelineHost:
    def __init__(
        self,
        services: CloudServices,
        segment_ms_override: int | None = None,
        *,
        camera_networks: CameraNetworks | None = None,
        keyframes: KeyframeCheck | None = None,
    ) -> None:
        """``keyframes`` is shared by every recorder and closed with the host; ``None``: in-process."""
        self._services = services
        self._segment_override = segment_ms_override
        self._ingest = IngestSettings(camera_networks=camera_networks or CameraNetworks.default())
        self._keyframes = keyframes
        self._running: dict[str, _Running] = {}
        self._lock = asyncio.Lock()
        self._loop_task: asyncio.Task[None] | None = None
        self._started = False

    def statuses(self) -> dict[str, RecorderStatus]:
        return {running.plan.pipeline_name: running.recorder.status for running in self._running.values()}

    def status_of(self, pipeline_id: str) -> RecorderStatus | None:
        running = self._running.get(pipeline_id)
        return running.recorder.status if running else None

    async def start(self) -> None:
        """Begin recording; until then ``reconcile`` does nothing (a store-only process)."""
        self._started = True
        await self.reconcile()
        self._loop_task = asyncio.create_task(self._periodically())

    async def close(self) -> None:
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        async with self._lock:
            await asyncio.gather(*(self._stop(pid) for pid in list(self._running)))
        if self._keyframes is not None:
            await self._keyframes.close()

    async def _periodically(self) -> None:
        while True:
            await asyncio.sleep(RECONCILE_SECONDS)
            try:
                await self.reconcile()
            except Exception:  # keep the loop alive whatever one round hits; it is logged
                log.exception("reconciling live pipelines failed")

    async def reconcile(self) -> None:
        if not self._started:
            return
        async with self._lock:
            plans = {plan.pipeline_id: plan for plan in await self._desired()}
            for pipeline_id in [pid for pid in self._running if pid not in plans]:
                await self._stop(pipeline_id)
            for pipeline_id, plan in plans.items():
                running = self._running.get(pipeline_id)
                if running is not None and running.plan != plan:
                    await self._stop(pipeline_id)
                if pipeline_id not in self._running:
                    await self._start(plan)

    async def _desired(self) -> list[RecordingPlan]:
        async with self._services.sessions.begin() as session:
            statement = select(ResourceRow).where(ResourceRow.kind == "livePipelines")
            rows = [row for row in (await session.execute(statement)).scalars() if is_active(row)]
            plans = []
            for row in rows:
                try:
                    plan = await plan_for(session, row, self._segment_override)
                except Exception as error:  # a pipeline that cannot be planned must not stop the others
                    log.warning("live pipeline %s cannot record: %s", row.name, type(error).__name__)
                    continue
                if plan is not None:
                    plans.append(plan)
            return plans

    async def _start(self, plan: RecordingPlan) -> None:
        settings = RecorderSettings(
            segment_ms=plan.segment_ms,
            bitrate_kbps=plan.bitrate_kbps,
            first_sequence=await next_sequence(self._services, plan.video_id),
            ingest=self._ingest,
        )
        sink = ArchiveSink(self._services, plan.video_id)
        recorder = Recorder(plan.camera_url, sink, settings, keyframes=self._keyframes)
        stop = asyncio.Event()
        recording = under_lease(self._services, plan.video_id, plan.segment_ms, recorder.run(stop))
        task = asyncio.create_task(recording, name=f"record {plan.pipeline_name}")
        self._running[plan.pipeline_id] = _Running(plan, recorder, stop, task)
        log.info("recording live pipeline %s", plan.pipeline_name)

    async def _stop(self, pipeline_id: str) -> None:
        running = self._running.pop(pipeline_id)
        running.stop.set()
        try:
            await running.task
        except Exception:
            log.exception("recording of %s ended with an error", running.plan.pipeline_name)
        log.info("stopped recording live pipeline %s", running.plan.pipeline_name)


def is_active(row: ResourceRow) -> bool:
    return bool(row.document.get("properties", {}).get("state") == ACTIVE)


async def plan_for(
    session: AsyncSession, row: ResourceRow, segment_override: int | None
) -> RecordingPlan | None:
    """What recording an active pipeline means: its camera URL and the video it records into."""
    properties = row.document["properties"]
    account = await session.get(AccountRow, row.account_id)
    if account is None:
        return None
    topology = await find(session, account, TOPOLOGIES, str(properties["topologyName"]))
    video_names = row.document.get("internal", {}).get("videoNames") or []
    if topology is None or not video_names:
        return None
    model = validate_cloud_topology(topology.document)
    supplied = {str(p["name"]): str(p.get("value", "")) for p in properties.get("parameters", [])}
    variables = system_variables(row.name, str(properties["topologyName"]))
    values = {**resolve_parameters(model, supplied), **variables}
    try:
        url = rtsp_camera_url(topology.document["properties"], values)
    except NotRecordable as reason:
        log.warning("live pipeline %s is not recorded: %s", row.name, reason)
        return None
    # The video activation resolved (and created): the same name, system variables included.
    video_row = await find(session, account, videos.KIND, str(video_names[0]))
    if video_row is None:
        return None
    segment_ms = segment_override or duration_ms(
        video_row.document.get("internal", {}).get("segmentLength", "")
    )
    bitrate = properties.get("bitrateKbps")
    return RecordingPlan(row.id, row.name, url, video_row.id, segment_ms, int(bitrate) if bitrate else None)
