"""What an ingest session reports besides packets, in stream order with them.

``Connected`` opens a session, ``Disconnected`` closes it (with the reason and, when the
ingest will retry, the delay before the next attempt). ``CodecChanged`` precedes the first
packet of a new configuration; ``Discontinuity`` precedes a packet flagged ``discontinuity``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ova.media.codec import CodecParameters


@dataclass(frozen=True)
class Connected:
    source: str
    """The source URL with any credentials removed."""
    video: CodecParameters | None
    """The configuration announced at connection (SDP), when it carried parameter sets."""
    audio: CodecParameters | None


@dataclass(frozen=True)
class Disconnected:
    reason: str
    retry_in_s: float | None = None
    """Seconds until the next connection attempt; ``None`` when the ingest gives up or stops."""


@dataclass(frozen=True)
class CodecChanged:
    previous: CodecParameters | None
    current: CodecParameters


@dataclass(frozen=True)
class Discontinuity:
    reason: str


IngestEvent = Connected | Disconnected | CodecChanged | Discontinuity
