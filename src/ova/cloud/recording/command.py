"""``ova record``: record a camera into a video of a deployment, straight into its store.

Runs beside ``ova cloud --data-dir DIR`` (SQLite in WAL mode and the blob store take both
processes), so the video plays while it records. The camera URL must be ``rtsp://`` or
``rtsps://`` and its host on a camera network (``recording.camera_networks`` of the settings,
or the ``--camera-network`` flags), as for live pipelines.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
from collections.abc import Sequence

from ova.cloud.domain import accounts
from ova.cloud.domain.arm import AccountScope, Principal
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.resources import KindContext, find, put
from ova.cloud.recording.archive_sink import ArchiveSink, next_sequence
from ova.cloud.recording.host import keyframe_pool
from ova.cloud.recording.lease import under_lease
from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings
from ova.common.errors import ValidationFailed
from ova.contracts.camera_url import camera_url_problem
from ova.media.camera_networks import CameraNetworks
from ova.media.ingest_settings import IngestSettings
from ova.recording.plan import duration_ms
from ova.recording.recorder import Recorder, RecorderSettings, RecorderStatus

ACCOUNT_ID = re.compile(
    r"^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.Media/videoAnalyzers/([^/]+)$", re.I
)


def parse_account_id(value: str) -> AccountScope:
    match = ACCOUNT_ID.match(value.rstrip("/"))
    if match is None:
        raise ValidationFailed(
            "--account must be an account ARM id: "
            "/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Media/videoAnalyzers/NAME"
        )
    return AccountScope(*match.groups())


def checked_camera(url: str, networks: Sequence[str]) -> CameraNetworks:
    """The camera networks to record ``url`` within; ``ValidationFailed`` for a URL or CIDR that cannot be."""
    problem = camera_url_problem(url)
    if problem is not None:
        raise ValidationFailed(f"the camera URL {problem}")
    try:
        return CameraNetworks.parse(networks)
    except ValueError as error:
        raise ValidationFailed(f"--camera-network: {error}") from None


async def ensure_video(cloud: Cloud, scope: AccountScope, name: str) -> tuple[str, str]:
    """The video's row id and segment length, creating the video when it does not exist."""
    services = cloud.services
    async with services.sessions.begin() as session:
        account = await accounts.get(session, scope)
        ctx = KindContext(services=services, session=session, account=account, principal=Principal("record"))
        row = await find(session, account, videos.KIND, name)
        if row is None:
            row, _ = await put(ctx, videos.KIND, name, {"properties": {"title": name}})
        return row.id, str(row.document.get("internal", {}).get("segmentLength", "PT30S"))


async def record(
    settings: CloudSettings,
    url: str,
    account_id: str,
    video: str,
    seconds: float | None,
    segment_seconds: float | None,
    camera_networks: Sequence[str] | None = None,
) -> RecorderStatus:
    networks = checked_camera(
        url, settings.recording.camera_networks if camera_networks is None else camera_networks
    )
    cloud = await build(settings)
    keyframes = keyframe_pool(settings.recording.keyframe_check)
    try:
        video_id, segment_length = await ensure_video(cloud, parse_account_id(account_id), video)
        segment_ms = int(segment_seconds * 1000) if segment_seconds else duration_ms(segment_length)
        recorder_settings = RecorderSettings(
            segment_ms=segment_ms,
            first_sequence=await next_sequence(cloud.services, video_id),
            ingest=IngestSettings(camera_networks=networks),
        )
        recorder = Recorder(
            url, ArchiveSink(cloud.services, video_id), recorder_settings, keyframes=keyframes
        )
        return await under_lease(cloud.services, video_id, segment_ms, recorder.run(_stop_event(seconds)))
    finally:
        await keyframes.close()
        await cloud.close()


def _stop_event(seconds: float | None) -> asyncio.Event:
    """Set on Ctrl-C, SIGTERM or after ``seconds``."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    if seconds:
        loop.call_later(seconds, stop.set)
    return stop
