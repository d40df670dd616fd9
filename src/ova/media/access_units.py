"""From demuxed video packets to timed access units that a segmenter can trust.

``AccessUnitAssembler`` is the record path's hygiene, kept free of I/O so it can be tested
packet by packet:

- consecutive packets with the same DTS are one access unit split by the parser (a
  multi-slice IDR with repeated parameter sets, for example) and are merged;
- nothing is emitted before the first keyframe; packets without timestamps are dropped;
- one unit is held back to merge with the next; when a session ends it is dropped unless the
  source is known to end cleanly (a broken connection or a cut file can truncate it);
- an access unit above ``max_access_unit_bytes``, a corrupt one or an untimed one after the
  start is dropped, and so is everything up to the next keyframe, whose packet is then
  flagged ``discontinuity``: a lost sample is never papered over;
- parameter sets carried in keyframes are compared with the current configuration; a change
  (new resolution, camera restart with a new SPS) emits ``CodecChanged`` first;
- every emitted unit is placed on the wall clock by a ``WallClockMapper``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from ova.media.codec import CodecParameters, StreamKind, video_parameters
from ova.media.ingest_events import CodecChanged, Discontinuity, IngestEvent
from ova.media.nal import merge_parameter_sets, parameter_sets, split_annexb
from ova.media.packet import IngestPacket
from ova.media.wallclock import WallClockMapper

MAX_ACCESS_UNIT_BYTES = 8 * 1024 * 1024


@dataclass
class IngestStats:
    """Counters of one ingest, across its sessions; every drop is counted, never silent."""

    packets: int = 0
    """Video access units passed on."""
    bytes: int = 0
    audio_packets: int = 0
    merged_equal_dts: int = 0
    dropped_untimed: int = 0
    dropped_before_keyframe: int = 0
    dropped_oversize: int = 0
    dropped_corrupt: int = 0
    dropped_without_parameter_sets: int = 0
    dropped_at_session_end: int = 0
    discontinuities: int = 0
    codec_changes: int = 0
    sessions: int = 0
    reconnects: int = 0
    protocol_errors: int = 0
    """Sessions ended because the camera broke the protocol or a bound (``SourceProtocolError``)."""
    lost_packets: int = 0
    """RTP packets missing from the video sequence numbers."""
    dropped_foreign_payload: int = 0
    """Video RTP packets whose payload type the SDP did not announce."""
    audio_skipped: int = 0
    """Sessions whose audio codec this build cannot record (the video is still recorded)."""
    ran_ahead: int = 0
    """Anchors redrawn because the mapped time ran ahead of the wall clock."""


@dataclass(frozen=True, slots=True)
class DemuxedPacket:
    """A video packet as the demuxer gave it, with Annex B framing."""

    data: bytes
    pts: int | None
    dts: int | None
    is_keyframe: bool
    is_corrupt: bool = False


class AccessUnitAssembler:
    """Assembles one video stream's packets into ``IngestPacket``s (not thread-safe)."""

    def __init__(
        self,
        codec: str,
        time_base: Fraction,
        initial_parameter_sets: Sequence[bytes],
        mapper: WallClockMapper,
        stats: IngestStats,
        max_access_unit_bytes: int = MAX_ACCESS_UNIT_BYTES,
    ) -> None:
        self._codec = codec
        self._time_base = time_base
        self._sets = merge_parameter_sets(codec, (), initial_parameter_sets)
        self._mapper = mapper
        self._stats = stats
        self._max_bytes = max_access_unit_bytes
        self._params: CodecParameters | None = None
        self._pending: DemuxedPacket | None = None
        self._started = False
        self._need_keyframe = True
        self._break: str | None = None

    @property
    def started(self) -> bool:
        """Whether the first keyframe has been emitted."""
        return self._started

    def push(self, packet: DemuxedPacket) -> list[IngestPacket | IngestEvent]:
        pending = self._pending
        if pending is not None and packet.dts is not None and packet.dts == pending.dts:
            self._stats.merged_equal_dts += 1
            self._pending = DemuxedPacket(
                data=pending.data + packet.data,
                pts=pending.pts if pending.pts is not None else packet.pts,
                dts=pending.dts,
                is_keyframe=pending.is_keyframe or packet.is_keyframe,
                is_corrupt=pending.is_corrupt or packet.is_corrupt,
            )
            return []
        self._pending = packet
        return [] if pending is None else self._emit(pending)

    def flush(self) -> list[IngestPacket | IngestEvent]:
        """Emits the unit held back for merging (at the end of a stream known to be complete)."""
        pending, self._pending = self._pending, None
        return [] if pending is None else self._emit(pending)

    def discard(self) -> None:
        """Drops the unit held back for merging: the end of a live stream may have cut it short."""
        if self._pending is not None:
            self._pending = None
            self._stats.dropped_at_session_end += 1

    def _emit(self, unit: DemuxedPacket) -> list[IngestPacket | IngestEvent]:
        dts = unit.dts if unit.dts is not None else unit.pts
        if dts is None:
            self._stats.dropped_untimed += 1
            return self._lose("a sample without timestamps was dropped")
        if unit.is_corrupt:
            self._stats.dropped_corrupt += 1
            return self._lose("a corrupt sample was dropped")
        if len(unit.data) > self._max_bytes:
            self._stats.dropped_oversize += 1
            return self._lose(f"a sample over {self._max_bytes} bytes was dropped")
        if self._need_keyframe and not unit.is_keyframe:
            self._stats.dropped_before_keyframe += 1
            return []
        events: list[IngestPacket | IngestEvent] = []
        if unit.is_keyframe and not self._configure(unit, events):
            return events
        pts = unit.pts if unit.pts is not None else dts
        events.extend(self._place(unit, dts, pts))
        return events

    def _lose(self, reason: str) -> list[IngestPacket | IngestEvent]:
        if self._started:
            self._need_keyframe = True
            self._break = self._break or reason
        return []

    def _configure(self, unit: DemuxedPacket, events: list[IngestPacket | IngestEvent]) -> bool:
        inband = parameter_sets(self._codec, split_annexb(unit.data))
        sets = merge_parameter_sets(self._codec, self._sets, inband) if inband else self._sets
        if not sets:
            self._stats.dropped_without_parameter_sets += 1
            return False
        if self._params is None or sets != self._params.parameter_sets:
            current = video_parameters(self._codec, sets)
            if self._params is None or current.config_hash != self._params.config_hash:
                self._stats.codec_changes += 1
                events.append(CodecChanged(self._params, current))
            self._params = current
        self._sets = sets
        return True

    def _place(self, unit: DemuxedPacket, dts: int, pts: int) -> list[IngestPacket | IngestEvent]:
        assert self._params is not None
        placement = self._mapper.place(StreamKind.VIDEO, dts * self._time_base)
        if placement.reanchored is not None:
            self._stats.ran_ahead += placement.ahead
            self._break = self._break or placement.reanchored
            if not unit.is_keyframe:
                self._need_keyframe = True
                self._stats.dropped_before_keyframe += 1
                return []
        events: list[IngestPacket | IngestEvent] = []
        if self._break is not None:
            self._stats.discontinuities += 1
            events.append(Discontinuity(self._break))
        packet = IngestPacket(
            kind=StreamKind.VIDEO,
            data=unit.data,
            dts=dts,
            pts=pts,
            time_base=self._time_base,
            is_keyframe=unit.is_keyframe,
            codec=self._params,
            anchor=placement.anchor,
            discontinuity=self._break is not None,
        )
        self._started, self._need_keyframe, self._break = True, False, None
        self._stats.packets += 1
        self._stats.bytes += len(unit.data)
        events.append(packet)
        return events
