"""Session descriptions (RFC 4566) as DESCRIBE returns them, parsed within bounds.

Only what a recorder needs is kept: per ``m=`` section its media type, payload types, the
``rtpmap`` (encoding, clock rate, channels), ``fmtp`` parameters and ``control`` URL. Lines
past ``MAX_SDP_LINES``, sections past ``MAX_MEDIA_SECTIONS`` or text that is not SDP raise
``SourceProtocolError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ova.media.errors import SourceProtocolError
from ova.media.rtsp.limits import MAX_LINE_BYTES, MAX_MEDIA_SECTIONS, MAX_SDP_LINES

STATIC_PAYLOAD_TYPES = {0: ("PCMU", 8000, 1), 8: ("PCMA", 8000, 1)}
"""The static payload types (RFC 3551 §6) a camera may use without an ``rtpmap``."""


@dataclass
class MediaSection:
    """One ``m=`` section."""

    media: str
    payload_type: int
    encoding: str = ""
    clock_rate: int = 0
    channels: int = 1
    fmtp: dict[str, str] = field(default_factory=dict)
    control: str = ""


@dataclass
class SessionDescription:
    control: str = ""
    media: list[MediaSection] = field(default_factory=list)


def parse_sdp(data: bytes) -> SessionDescription:
    """The sections of an SDP body; ``SourceProtocolError`` when it is not SDP or too large."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceProtocolError("the camera's SDP is not UTF-8 text") from None
    lines = text.replace("\r\n", "\n").split("\n")
    if len(lines) > MAX_SDP_LINES:
        raise SourceProtocolError(f"the camera's SDP has more than {MAX_SDP_LINES} lines")
    if not lines or not lines[0].startswith("v="):
        raise SourceProtocolError("the camera's DESCRIBE answer is not an SDP")
    session = SessionDescription()
    for line in lines:
        if len(line) > MAX_LINE_BYTES:
            raise SourceProtocolError(f"the camera's SDP has a line over {MAX_LINE_BYTES} bytes")
        _apply(session, line.strip())
    return session


def _apply(session: SessionDescription, line: str) -> None:
    if line.startswith("m="):
        if len(session.media) >= MAX_MEDIA_SECTIONS:
            raise SourceProtocolError(f"the camera's SDP has more than {MAX_MEDIA_SECTIONS} media")
        session.media.append(_media_line(line[2:]))
    elif line.startswith("a="):
        name, _, value = line[2:].partition(":")
        if session.media:
            _media_attribute(session.media[-1], name, value)
        elif name == "control":
            session.control = value.strip()


def _media_line(value: str) -> MediaSection:
    fields = value.split()
    if len(fields) < 4 or not fields[3].isdigit() or int(fields[3]) > 127:
        raise SourceProtocolError("the camera's SDP has a malformed m= line")
    section = MediaSection(fields[0].lower(), int(fields[3]))
    static = STATIC_PAYLOAD_TYPES.get(section.payload_type)
    if static is not None:
        section.encoding, section.clock_rate, section.channels = static
    return section


def _media_attribute(section: MediaSection, name: str, value: str) -> None:
    if name == "control":
        section.control = value.strip()
        return
    number, _, rest = value.partition(" ")
    if not number.isdigit() or int(number) != section.payload_type:
        return
    if name == "rtpmap":
        _rtpmap(section, rest.strip())
    elif name == "fmtp":
        for parameter in rest.split(";"):
            key, _, val = parameter.strip().partition("=")
            if key:
                section.fmtp[key.strip().lower()] = val.strip()


def _rtpmap(section: MediaSection, value: str) -> None:
    parts = value.split("/")
    if len(parts) < 2 or not parts[1].isdigit() or not 0 < int(parts[1]) <= 1_000_000:
        raise SourceProtocolError("the camera's SDP has a malformed rtpmap")
    section.encoding, section.clock_rate = parts[0].upper(), int(parts[1])
    if len(parts) > 2:
        if not parts[2].isdigit() or not 0 < int(parts[2]) <= 8:
            raise SourceProtocolError("the camera's SDP has a malformed rtpmap")
        section.channels = int(parts[2])
