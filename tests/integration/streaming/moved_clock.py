"""An archive recorded on a clock the test moves: blobs stored and segments indexed as the
recorder's archive sink does, played through the real streaming family (ASGI transport)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from ova.cloud.domain import accounts, recording_lease, segment_index
from ova.cloud.domain.arm import AccountScope, Principal
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.resources import KindContext, put
from ova.cloud.runtime import Cloud
from ova.common.clock import FrozenClock
from ova.recording import archive_layout

START = datetime(2026, 3, 1, 6, tzinfo=UTC)
SCOPE = AccountScope("00000000-0000-0000-0000-0000000000ab", "rg", "clocked")
CONFIG = "c0ffee0123456789"
HOLDER = "test-recorder"


@dataclass
class Archive:
    """Video ``lobby``, recorded segment by segment as the clock moves."""

    cloud: Cloud
    clock: FrozenClock
    video_id: str  # row id
    base: str  # archiveBaseUrl path
    client: httpx.AsyncClient
    sequence: int = 0
    blobs: dict[str, bytes] = field(default_factory=dict)  # URL path under base -> bytes

    @property
    def now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    async def record(self, count: int, segment_ms: int, *, gap_first: bool = False) -> None:
        """``count`` segments back to back from now; the clock ends at the last one's end."""
        services, container = self.cloud.services, archive_layout.container_name(self.video_id)
        for index in range(count):
            start_ms, self.sequence = self.now_ms, self.sequence + 1
            name = archive_layout.segment_blob_name(start_ms, self.sequence)
            data = os.urandom(64) + start_ms.to_bytes(8, "big")
            await services.blobs.put(container, name, data, "video/iso.segment")
            stored = segment_index.StoredSegment(
                start_ms, segment_ms, self.sequence, name, len(data), "", CONFIG, gap_first and index == 0
            )
            async with services.sessions.begin() as session:
                await segment_index.add_segment(session, self.video_id, stored, self.clock.now())
            self.blobs[f"segments/{start_ms}-{self.sequence}.m4s"] = data
            self.clock.advance(timedelta(milliseconds=segment_ms))

    async def hold_lease(self, length: timedelta = timedelta(minutes=10)) -> None:
        async with self.cloud.services.sessions.begin() as session:
            await recording_lease.hold(session, self.video_id, HOLDER, self.clock.now(), length)

    async def release_lease(self) -> None:
        async with self.cloud.services.sessions.begin() as session:
            await recording_lease.release(session, self.video_id, HOLDER)

    async def get(self, resource: str, params: dict[str, str] | None = None) -> httpx.Response:
        """``resource`` under the archive base, with a content token issued now."""
        services = self.cloud.services
        async with services.sessions.begin() as session:
            account = await accounts.get(session, SCOPE)
            ctx = KindContext(services=services, session=session, account=account, principal=Principal("t"))
            token = (await videos.list_content_token(ctx, "lobby"))["token"]
        return await self.client.get(f"{self.base}/{resource}", params={**(params or {}), "token": token})

    async def text(self, resource: str) -> str:
        response = await self.get(resource)
        assert response.status_code == 200, response.text
        return response.text


async def open_archive(
    cloud: Cloud, clock: FrozenClock, client: httpx.AsyncClient, body: dict[str, object]
) -> Archive:
    """Account ``clocked`` with video ``lobby`` (``body`` its properties) and its init segment."""
    services = cloud.services
    async with services.sessions.begin() as session:
        account, _ = await accounts.put(services, session, SCOPE, {"location": "local"}, Principal("t"))
        ctx = KindContext(services=services, session=session, account=account, principal=Principal("t"))
        video, _ = await put(ctx, videos.KIND, "lobby", {"properties": body})
    container = archive_layout.container_name(video.id)
    await services.blobs.create_container(container)
    init = segment_index.StoredInit(
        CONFIG, archive_layout.init_blob_name(CONFIG), "avc1.64001f", 640, 360, 90000
    )
    await services.blobs.put(container, init.blob_name, os.urandom(400), "video/mp4")
    async with services.sessions.begin() as session:
        await segment_index.add_init(session, video.id, init, clock.now())
    base = f"/streaming/{account.id.replace('-', '')}/videos/{videos.video_id(video)}"
    return Archive(cloud, clock, video.id, base, client)


HLS = "manifest(format=m3u8-cmaf).m3u8"
DASH = "manifest(format=mpd-time-cmaf).mpd"


def tag(playlist: str, name: str) -> int:
    found = re.search(rf"^#EXT-X-{name}:(\d+)$", playlist, re.M)
    assert found is not None, f"no EXT-X-{name} in\n{playlist}"
    return int(found[1])


def hls_numbers(playlist: str) -> dict[str, tuple[int, int]]:
    """Segment URI (without the token) -> (media sequence number, discontinuity sequence number)."""
    media, discontinuity = tag(playlist, "MEDIA-SEQUENCE"), tag(playlist, "DISCONTINUITY-SEQUENCE")
    numbers: dict[str, tuple[int, int]] = {}
    for line in playlist.splitlines():
        if line == "#EXT-X-DISCONTINUITY":
            discontinuity += 1
        elif line and not line.startswith("#"):
            numbers[line.split("?")[0]] = (media + len(numbers), discontinuity)
    return numbers


def dash_periods(text: str) -> dict[str, tuple[str, str]]:
    """Segment URI (without the token) -> (Period id, Period start)."""
    found: dict[str, tuple[str, str]] = {}
    current = ("", "")
    for line in text.splitlines():
        if period := re.search(r'<Period id="([^"]+)" start="([^"]+)"', line):
            current = (period[1], period[2])
        elif url := re.search(r'<SegmentURL media="([^"?]+)', line):
            found[url[1]] = current
    return found
