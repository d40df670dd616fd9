"""Setting up a session (RFC 2326 §10): OPTIONS, DESCRIBE, SETUP per track, PLAY.

``start_session`` returns the chosen tracks with their interleaved channels, the SDP sections
they come from and the session timeout. Tracks are chosen by the codec allowlist
(``tracks.choose``): an SDP without H.264 or H.265 video is refused with a clear
``UnsupportedMedia``. Transport is RTP/AVP/TCP interleaved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ova.media.errors import SourceProtocolError, SourceUnavailable
from ova.media.rtsp.client import RtspClient
from ova.media.rtsp.limits import MAX_MEDIA_SECTIONS, MAX_REDIRECTS
from ova.media.rtsp.message import Response
from ova.media.rtsp.sdp import MediaSection, parse_sdp
from ova.media.rtsp.tracks import Tracks, choose

DEFAULT_SESSION_TIMEOUT_S = 60
_OPTIONS_NOT_OFFERED = (405, 501)
"""Answers to OPTIONS that some cameras give and that do not stop a session being set up."""


@dataclass(frozen=True)
class PlayingSession:
    tracks: Tracks
    timeout_s: float
    rtptimes: dict[int, int] = field(default_factory=dict)
    """The ``rtptime`` of PLAY's ``RTP-Info`` for each interleaved channel that has one."""


async def start_session(client: RtspClient, with_audio: bool) -> PlayingSession:
    response = await _describe(client)
    base = response.header("Content-Base") or response.header("Content-Location") or client.uri
    sdp = parse_sdp(response.body)
    tracks = choose(sdp.media, with_audio)
    timeout = float(DEFAULT_SESSION_TIMEOUT_S)
    urls = {channel: control_url(base, section.control) for channel, section in tracks.sections()}
    for channel, url in urls.items():
        timeout = await _setup(client, url, channel)
    play = await client.request("PLAY", control_url(base, sdp.control) if sdp.control else client.uri)
    _expect_ok(play, "PLAY")
    return PlayingSession(tracks, timeout, rtp_info(play.header("RTP-Info") or "", urls))


def rtp_info(value: str, urls: dict[int, str]) -> dict[int, int]:
    """``RTP-Info`` (RFC 2326 §12.33) as ``{channel: rtptime}`` for the channels it names.

    An entry belongs to a channel when its ``url`` is the track's control URL, or the track's
    URL ends with it (cameras send relative or absolute URLs). Malformed entries are ignored:
    the header only refines how audio is placed, it is never needed.
    """
    found: dict[int, int] = {}
    for entry in value.split(",")[: MAX_MEDIA_SECTIONS * 2]:
        fields = dict(part.strip().partition("=")[::2] for part in entry.split(";"))
        url, rtptime = fields.get("url", ""), fields.get("rtptime", "")
        if not url or not (rtptime.isascii() and rtptime.isdigit() and len(rtptime) <= 10):
            continue
        for channel, track_url in urls.items():
            if channel not in found and (track_url == url or track_url.endswith("/" + url.lstrip("/"))):
                found[channel] = int(rtptime) & 0xFFFFFFFF
    return found


async def _describe(client: RtspClient) -> Response:
    for _ in range(MAX_REDIRECTS + 1):
        await client.open()
        options = await client.request("OPTIONS", client.uri)
        if 300 <= options.status < 400:
            client.follow_redirect(options)
            continue
        if options.status not in _OPTIONS_NOT_OFFERED:
            _expect_ok(options, "OPTIONS")
        client.get_parameter = "GET_PARAMETER" in (options.header("Public") or "").upper()
        response = await client.request("DESCRIBE", client.uri, [("Accept", "application/sdp")])
        if 300 <= response.status < 400:
            client.follow_redirect(response)
            continue
        _expect_ok(response, "DESCRIBE")
        return response
    raise SourceProtocolError(f"the camera redirected more than {MAX_REDIRECTS} times")


async def _setup(client: RtspClient, url: str, channel: int) -> float:
    transport = f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1}"
    response = await client.request("SETUP", url, [("Transport", transport)])
    _expect_ok(response, "SETUP")
    session = response.header("Session")
    if not session:
        raise SourceProtocolError("the camera answered SETUP without a Session")
    identifier, _, parameters = session.partition(";")
    client.session = identifier.strip()
    answered = response.header("Transport") or ""
    if "interleaved=" in answered and f"interleaved={channel}-" not in answered:
        raise SourceProtocolError("the camera chose other interleaved channels than asked for")
    return _timeout(parameters)


def _timeout(parameters: str) -> float:
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "timeout" and value.strip().isdigit():
            return float(max(1, min(int(value), 3600)))
    return DEFAULT_SESSION_TIMEOUT_S


def control_url(base: str, control: str) -> str:
    """The URL of a track (RFC 2326 §C.1.1): absolute, or relative to the Content-Base."""
    if control in ("", "*"):
        return base
    if control.lower().startswith(("rtsp://", "rtsps://")):
        return control
    return base + ("" if base.endswith("/") else "/") + control


def _expect_ok(response: Response, method: str) -> None:
    if response.status == 401:
        raise SourceUnavailable(f"the camera refused the credentials ({method} answered 401)")
    if response.status != 200:
        raise SourceUnavailable(f"the camera answered {method} with status {response.status}")


__all__ = ["MediaSection", "PlayingSession", "control_url", "start_session"]
