"""Archive playback routes under a video's ``archiveBaseUrl``: manifests, init and media
segments, and preview images, all authorised by the video's content token.

Manifest URLs keep Video Analyzer's grammar (``manifest(format=…,starttime=…,endtime=…)``
with an optional ``.m3u8``/``.mpd`` suffix). Each is a range query over the segment index.
When the token came in the query string, child URLs carry it too (percent-encoded), since
HLS and DASH players do not add it themselves.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from ova.cloud.api.streaming.content_token import authorise_cached, authorised_video
from ova.cloud.api.streaming.media import blob_response
from ova.cloud.domain import recording_lease, segment_index, time_range
from ova.cloud.domain.services import CloudServices
from ova.common.errors import NotFound, ValidationFailed
from ova.media.dash import mpd
from ova.media.hls import playlist
from ova.media.timeline import TimelineSegment, Track, runs
from ova.recording import archive_layout

HLS_TYPE = "application/vnd.apple.mpegurl"
DASH_TYPE = "application/dash+xml"
PREVIEW_SIZES = {"small", "medium", "large"}
HASH = re.compile(r"[0-9A-Za-z_-]{1,128}")
POSITION = re.compile(r"([0-9]{1,15})-([0-9]{1,19})")  # [0-9], not isdigit(): ASCII only


def token_suffix(request: Request) -> str:
    token = request.query_params.get("token")
    return f"?token={quote(token, safe='')}" if token else ""


def tracks_for(
    inits: dict[str, segment_index.StoredInit], segments: list[segment_index.StoredSegment], suffix: str
) -> dict[str, Track]:
    tracks = {}
    for config_hash, init in inits.items():
        own = [s for s in segments if s.config_hash == config_hash]
        seconds = sum(s.duration_ms for s in own) / 1000 or 1
        bandwidth = int(sum(s.size for s in own) * 8 / seconds)
        uri = f"init/{config_hash}.mp4{suffix}"
        tracks[config_hash] = Track(
            init_uri=uri, codec=init.codec, width=init.width, height=init.height, bandwidth=bandwidth
        )
    return tracks


async def manifest(request: Request, account_key: str, video_id: str, resource: str) -> Any:
    services: CloudServices = request.app.state.services
    wanted = time_range.parse_manifest(resource)
    async with services.sessions.begin() as session:
        video = await authorised_video(request, session, account_key, video_id)
        newest = await segment_index.newest_end_ms(session, video.id)
        if newest is None:
            raise NotFound("The video has no media.", code="NoMedia")
        window = time_range.resolve_window(wanted.start_ms, wanted.end_ms, newest)
        stored = await segment_index.window(session, video.id, window.start_ms, window.end_ms)
        if not stored:
            raise NotFound("The video has no media in this time range.", code="NoMedia")
        inits = await segment_index.inits(session, video.id, [s.config_hash for s in stored])
        now = services.clock.now()
        # Live only while a recorder holds the video's lease: a finished recording ends at once.
        live = window.open_ended and await recording_lease.is_recording(session, video.id, now)
    now_ms = int(now.timestamp() * 1000)
    suffix = token_suffix(request)
    timeline = [
        TimelineSegment(
            f"segments/{s.start_ms}-{s.sequence}.m4s{suffix}",
            s.start_ms,
            s.duration_ms,
            s.config_hash,
            s.gap_before,
            s.ordinal,
            s.discontinuity,
            s.run_start_ms,
        )
        for s in stored
        if s.config_hash in inits
    ]
    played = runs(timeline, tracks_for(inits, stored, suffix))
    if wanted.format.startswith("m3u8"):
        return PlainTextResponse(playlist.render(played, ended=not live), media_type=HLS_TYPE)
    return Response(mpd.render(played, ended=not live, now_ms=now_ms), media_type=DASH_TYPE)


async def init_segment(request: Request, account_key: str, video_id: str, config_hash: str) -> Any:
    """Init segments and media segments have names derived from their URLs: no index lookup."""
    services: CloudServices = request.app.state.services
    if not HASH.fullmatch(config_hash):
        raise NotFound("No such init segment.")
    row_id = await authorise_cached(request, account_key, video_id)
    name = archive_layout.init_blob_name(config_hash)
    return await blob_response(services, archive_layout.container_name(row_id), name, "video/mp4")


def segment_blob_name(position: str) -> str:
    """The blob of ``<start ms>-<sequence>`` (ASCII digits, a start within datetime's years), or a 400."""
    match = POSITION.fullmatch(position)
    try:
        if match is None:
            raise ValueError(position)
        return archive_layout.segment_blob_name(int(match[1]), int(match[2]))
    except (ValueError, OverflowError, OSError):
        raise ValidationFailed("Segment names look like <start ms>-<sequence>.m4s.") from None


async def media_segment(request: Request, account_key: str, video_id: str, position: str) -> Any:
    services: CloudServices = request.app.state.services
    name = segment_blob_name(position)
    row_id = await authorise_cached(request, account_key, video_id)
    return await blob_response(services, archive_layout.container_name(row_id), name, "video/iso.segment")


async def preview_image(request: Request, account_key: str, video_id: str, size: str) -> Any:
    services: CloudServices = request.app.state.services
    if size not in PREVIEW_SIZES:
        raise NotFound("Preview images are small, medium and large.")
    async with services.sessions.begin() as session:
        video = await authorised_video(request, session, account_key, video_id)
    at_ms = video.document.get("internal", {}).get("previewAtMs")
    if at_ms is None:
        raise NotFound("The video has no preview image yet.")
    container = archive_layout.container_name(video.id)
    return await blob_response(
        services,
        container,
        archive_layout.preview_blob_name(at_ms, size),
        archive_layout.JPEG,
        immutable=False,
    )
