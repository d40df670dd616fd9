"""RTSP sessions (RFC 2326 §3.4, §12.37) and the request targets that name mounts and tracks.

A target is ``rtsp://host[:port]/<mount>[/trackID=<n>]``. The ``Content-Base`` returned by
DESCRIBE is rebuilt from the target's host and port only (credentials in the URI are
dropped), so what the server echoes back can never carry anything but a checked host name.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ova.camera.errors import BadRequest, RtspError
from ova.camera.mount import Mount
from ova.camera.sink import RtpSink

_HOST = re.compile(r"^[A-Za-z0-9.\-]{1,253}$|^\[[0-9A-Fa-f:.]{2,45}\]$")
TRACK_PREFIX = "trackID="


@dataclass(frozen=True)
class RequestTarget:
    """A parsed request URI: which mount, which track (``None`` for the aggregate) and the base."""

    base: str
    mount: str
    track: int | None


def parse_target(uri: str) -> RequestTarget:
    """The mount and track a request URI names (``BadRequest`` or 404 otherwise)."""
    try:
        parts = urlsplit(uri)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise BadRequest("bad request URI") from exc
    if parts.scheme.lower() not in ("rtsp", "rtspt") or host is None or parts.query or parts.fragment:
        raise BadRequest("bad request URI")
    netloc = f"[{host}]" if ":" in host else host
    if not _HOST.match(netloc):
        raise BadRequest("bad host in request URI")
    netloc += f":{port}" if port is not None else ""
    segments = [segment for segment in parts.path.split("/") if segment]
    track = None
    if segments and segments[-1].startswith(TRACK_PREFIX):
        number = segments.pop()[len(TRACK_PREFIX) :]
        if not number.isdigit() or len(number) > 3:
            raise RtspError(404, "no such track")
        track = int(number)
    if len(segments) != 1:
        raise RtspError(404, "no such mount")
    return RequestTarget(f"rtsp://{netloc}/{segments[0]}/", segments[0], track)


def session_id_of(header: str | None) -> str | None:
    """The session identifier of a ``Session`` header, without its parameters."""
    if header is None:
        return None
    return header.split(";", 1)[0].strip() or None


@dataclass
class RtspSession:
    """The state one client builds with SETUP and PLAY."""

    mount: Mount
    base: str
    id: str = field(default_factory=lambda: secrets.token_hex(8))
    channels: dict[int, tuple[int, int]] = field(default_factory=dict)
    sink: RtpSink | None = None

    @property
    def playing(self) -> bool:
        return self.sink is not None

    def free_channels(self, track: int) -> tuple[int, int]:
        """The interleaved channel pair to offer a track when the client names none."""
        used = {channel for pair in self.channels.values() for channel in pair}
        low = 2 * track
        while low in used or low + 1 in used:
            low += 2
        if low + 1 > 255:
            raise RtspError(461, "no interleaved channels left")
        return low, low + 1

    def stop(self) -> None:
        if self.sink is not None:
            self.mount.unsubscribe(self.sink)
            self.sink = None
