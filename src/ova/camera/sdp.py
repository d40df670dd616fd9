"""Session descriptions (RFC 4566) for a mount, as returned by DESCRIBE.

Each track is one ``m=`` section with its own ``a=control:trackID=N``; the session itself is
under aggregate control (``a=control:*``), so clients SETUP each track relative to the
``Content-Base`` and PLAY the whole mount.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MediaDescription:
    """One ``m=`` section: a track's media type, payload type, rtpmap, fmtp and extra attributes."""

    media: str
    payload_type: int
    rtpmap: str
    fmtp: dict[str, str]
    control: str
    attributes: tuple[str, ...] = field(default=())

    def lines(self) -> list[str]:
        fmtp = ";".join(f"{key}={value}" for key, value in self.fmtp.items())
        return [
            f"m={self.media} 0 RTP/AVP {self.payload_type}",
            f"a=rtpmap:{self.payload_type} {self.rtpmap}",
            *([f"a=fmtp:{self.payload_type} {fmtp}"] if fmtp else []),
            *(f"a={attribute}" for attribute in self.attributes),
            f"a=control:{self.control}",
        ]


def _address_type(address: str) -> str:
    try:
        return "IP6" if ipaddress.ip_address(address).version == 6 else "IP4"
    except ValueError:
        return "IP4"


def session_description(
    name: str, session_id: int, origin_address: str, media: list[MediaDescription]
) -> str:
    """The SDP text of a live session named ``name`` with the given media sections."""
    address_type = _address_type(origin_address)
    unspecified = "::" if address_type == "IP6" else "0.0.0.0"
    lines = [
        "v=0",
        f"o=- {session_id} 1 IN {address_type} {origin_address}",
        f"s={name}",
        f"c=IN {address_type} {unspecified}",
        "t=0 0",
        "a=tool:ova-camera",
        "a=range:npt=0-",
        "a=control:*",
    ]
    for description in media:
        lines += description.lines()
    return "\r\n".join(lines) + "\r\n"
