"""``RtspSource``: one camera into a pipeline graph, with its diagnostics events.

The camera is read by ``media.rtsp_ingest.RtspIngest`` (reconnecting with back-off, bounded,
only to the camera networks the module allows); every packet and session event is handed on
to the downstream nodes as it is. Each session raises a diagnostics event on this node's
subject: ``MediaSessionEstablished {sdp}`` when it starts (the session's media, written as SDP
from what was negotiated) and, when it ends on a fault, one of ``ProtocolError {protocol,
errorCode}`` (the camera broke RTSP or answered with an error status, wrong credentials
included: ``errorCode`` 401), ``NetworkError {errorCode}`` or ``MediaFormatError {code}``.
Reasons never carry the URL's credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re

from ova.contracts.edge_events import EventKind
from ova.edge.graph.context import NodeScope
from ova.edge.graph.node import Outlet
from ova.media.codec import CodecParameters
from ova.media.ingest_events import Connected, Disconnected
from ova.media.ingest_settings import IngestSettings
from ova.media.rtsp_ingest import RtspIngest

log = logging.getLogger(__name__)
STATUS = re.compile(r"\b(?:status|answered) (\d{3})\b")
MEDIA_WORDS = ("codec", "media", "unsupported", "sps", "nal unit", "aac", "access unit")
NETWORK_WORDS = ("connection", "reached", "timed out", "no packet", "end of stream", "refused:")


def session_description(event: Connected) -> str:
    """The negotiated media as SDP ``m=``/``a=rtpmap`` lines (no addresses, no credentials)."""
    lines = ["v=0", "s=" + event.source]
    for kind, codec in (("video", event.video), ("audio", event.audio)):
        if codec is not None:
            lines += [f"m={kind} 0 RTP/AVP 96", f"a=rtpmap:96 {_rtpmap(codec)}"]
    return "\r\n".join(lines) + "\r\n"


def _rtpmap(codec: CodecParameters) -> str:
    names = {"h264": "H264/90000", "hevc": "H265/90000", "pcm_mulaw": "PCMU/8000", "pcm_alaw": "PCMA/8000"}
    if codec.codec == "aac":
        return f"MPEG4-GENERIC/{codec.sample_rate}/{codec.channels}"
    return names.get(codec.codec, codec.codec)


def diagnostic(reason: str) -> tuple[str, dict[str, object]] | None:
    """The diagnostics event a session that ended for ``reason`` raises (None: a clean stop)."""
    text = reason.lower()
    status = STATUS.search(text)
    if "credentials" in text or (status is not None and status.group(1) == "401"):
        return "ProtocolError", {"protocol": "rtsp", "errorCode": "401"}
    if status is not None:
        return "ProtocolError", {"protocol": "rtsp", "errorCode": status.group(1)}
    if any(word in text for word in MEDIA_WORDS):
        return "MediaFormatError", {"code": "UnsupportedMedia"}
    if any(word in text for word in NETWORK_WORDS):
        return "NetworkError", {"errorCode": "ConnectionFailed"}
    if "protocol" in text or "camera sent" in text or "answer" in text:
        return "ProtocolError", {"protocol": "rtsp", "errorCode": "ProtocolViolation"}
    return "NetworkError", {"errorCode": "SessionEnded"}


class RtspSourceNode:
    def __init__(self, scope: NodeScope, url: str, settings: IngestSettings, outlet: Outlet) -> None:
        self.name, self.outlet = scope.name, outlet
        self._scope, self._url, self._settings = scope, url, settings
        self._task: asyncio.Task[None] | None = None
        self.ingest = RtspIngest(url, settings, now_ms=scope.context.now_ms)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"rtsp-source-{self.name}")

    async def accept(self, item: object) -> None:
        return None  # a source has no inputs

    async def _run(self) -> None:
        async with contextlib.aclosing(self.ingest.run()) as items:
            async for item in items:
                self._report(item)
                await self.outlet.send(item)

    def _report(self, item: object) -> None:
        if isinstance(item, Connected):
            self._scope.emit(
                EventKind.DIAGNOSTICS, "MediaSessionEstablished", {"sdp": session_description(item)}
            )
        elif isinstance(item, Disconnected):
            found = diagnostic(item.reason)
            if found is not None:
                self._scope.emit(EventKind.DIAGNOSTICS, *found)

    async def stop(self, flush_timeout_s: float) -> bool:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            (outcome,) = await asyncio.gather(task, return_exceptions=True)
            if isinstance(outcome, Exception):
                log.warning("RTSP source %s ended with %s", self.name, type(outcome).__name__)
        return True
