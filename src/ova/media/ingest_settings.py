"""``IngestSettings``: how one source is opened, read, bounded and retried."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ova.media.access_units import MAX_ACCESS_UNIT_BYTES
from ova.media.camera_networks import CameraNetworks


@dataclass(frozen=True)
class IngestSettings:
    """Every knob of an ingest, with the defaults an RTSP camera needs."""

    rtsp_transport: str = "tcp"
    """RTSP lower transport: ``tcp`` (RTP interleaved on the RTSP connection), the only one."""
    open_timeout_s: float = 10.0
    """Longest wait for the connection, the session set-up and stream probing."""
    read_timeout_s: float = 10.0
    """A session ends when no packet arrives for this long."""
    format: str | None = None
    """``local_file`` only: force a demuxer (``lavfi``, ``mpegts``); ``None`` lets FFmpeg pick."""
    options: Mapping[str, str] = field(default_factory=dict)
    """``local_file`` only: extra demuxer options, passed to FFmpeg as they are."""
    with_audio: bool = True
    """Pass AAC audio packets through alongside the video."""
    queue_size: int = 256
    """``local_file`` only: packets buffered between the reading thread and the consumer."""
    max_access_unit_bytes: int = MAX_ACCESS_UNIT_BYTES
    keep_final_access_unit: bool = False
    """Pass on the last access unit when a session ends. Off for cameras: a connection that
    breaks (or a file cut short) can truncate it, and a truncated unit cannot be told apart
    without decoding. Turn it on for files known to be complete."""
    jump_ms: int = 5_000
    """A timestamp step larger than this (or any step back) redraws the wall-clock anchor."""
    max_drift_ms: int | None = 30_000
    """Redraw the anchor when media time and wall clock drift apart by more (``None``: never;
    use ``None`` for sources read faster than real time, such as files)."""
    max_ahead_ms: int | None = 1_000
    """Redraw the anchor when a sample maps later than the wall clock by more than this, so
    indexed time never runs ahead of real time (checked for cameras with ``max_drift_ms`` set)."""
    local_file: bool = False
    """Internal code only (benchmarks, tests): read the URL as a local file with PyAV. Never
    set from configuration; without it only ``rtsp://`` and ``rtsps://`` URLs are opened."""
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    backoff_jitter: float = 0.2
    """Each delay is scaled by a random factor in ``1 ± backoff_jitter``."""
    camera_networks: CameraNetworks = field(default_factory=CameraNetworks.default)
    """The networks a camera connection may reach (checked on the resolved address)."""
    max_attempts: int | None = None
    """Give up after this many consecutive sessions that delivered no packet (``None``: never)."""

    def __post_init__(self) -> None:
        if min(self.open_timeout_s, self.read_timeout_s, self.backoff_initial_s) <= 0:
            raise ValueError("timeouts and the first backoff delay must be positive")
        if self.backoff_max_s < self.backoff_initial_s or not 0 <= self.backoff_jitter < 1:
            raise ValueError("backoff_max_s must be at least backoff_initial_s, jitter in [0, 1)")
        if self.queue_size < 1 or self.max_access_unit_bytes < 1 or self.jump_ms < 1:
            raise ValueError("queue_size, max_access_unit_bytes and jump_ms must be positive")
        if self.rtsp_transport != "tcp":
            raise ValueError("rtsp_transport must be 'tcp' (RTP interleaved)")
        if self.max_ahead_ms is not None and self.max_ahead_ms < 0:
            raise ValueError("max_ahead_ms must not be negative")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be positive (or None: never give up)")
