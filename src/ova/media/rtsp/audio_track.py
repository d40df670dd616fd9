"""``AudioReceiver``: RTP packets of the audio track to ``IngestPacket(kind=AUDIO)``.

AAC-hbr packets carry one or more frames (1024 samples apart); a G.711 packet is one frame.
Timestamps are the RTP clock (``1/clock_rate``) moved onto the video's media clock by a
``TrackSync`` (RTP-Info, sender reports, or arrival), then placed on the video's wall-clock
anchor with ``WallClockMapper.follow``. A configuration this build cannot record (G.711 before the
segmenter takes it) is skipped and counted in ``IngestStats.audio_skipped``.
"""

from __future__ import annotations

from fractions import Fraction

from ova.media.access_units import IngestStats
from ova.media.codec import CodecParameters, StreamKind
from ova.media.packet import IngestPacket
from ova.media.rtsp.audio import AAC_FRAME_SAMPLES, parse_aac_hbr
from ova.media.rtsp.rtp import SequenceTracker, TimestampUnwrapper, parse_rtp
from ova.media.rtsp.track_sync import TrackSync
from ova.media.rtsp.tracks import AudioTrack, audio_codec
from ova.media.wallclock import WallClockMapper


class AudioReceiver:
    def __init__(
        self, track: AudioTrack, codec: CodecParameters, mapper: WallClockMapper, stats: IngestStats
    ) -> None:
        self._track, self.codec, self._mapper, self._stats = track, codec, mapper, stats
        self._sequence = SequenceTracker()
        self.clock = TimestampUnwrapper()
        self.sync: TrackSync | None = None
        """Relates this track's clock to the video's; set by the source before the first packet."""

    @property
    def time_base(self) -> Fraction:
        return self._track.time_base

    @classmethod
    def create(
        cls, track: AudioTrack | None, mapper: WallClockMapper, stats: IngestStats
    ) -> AudioReceiver | None:
        if track is None:
            return None
        codec = audio_codec(track)
        if codec is None:
            stats.audio_skipped += 1
            return None
        return cls(track, codec, mapper, stats)

    def push(self, data: bytes, newest_video: int) -> list[IngestPacket]:
        """The frames of one RTP packet; ``newest_video`` is the newest video RTP time (extended)."""
        header, payload = parse_rtp(data)
        lost = self._sequence.accept(header.sequence)
        if lost is None or header.payload_type != self._track.section.payload_type:
            return []
        timestamp = self.clock.extend(header.timestamp)
        if self.sync is not None:
            timestamp += self.sync.shift(timestamp, newest_video)
        aac = self.codec.codec == "aac"
        frames = parse_aac_hbr(payload) if aac else [bytes(payload)] if payload else []
        step = AAC_FRAME_SAMPLES if aac else 0
        return [self._packet(data, timestamp + index * step, bool(lost)) for index, data in enumerate(frames)]

    def _packet(self, frame: bytes, dts: int, lost: bool) -> IngestPacket:
        time_base = self._track.time_base
        placement = self._mapper.follow(StreamKind.AUDIO, dts * time_base)
        self._stats.audio_packets += 1
        return IngestPacket(
            kind=StreamKind.AUDIO,
            data=frame,
            dts=dts,
            pts=dts,
            time_base=time_base,
            is_keyframe=True,
            codec=self.codec,
            anchor=placement.anchor,
            discontinuity=lost or placement.reanchored is not None,
        )
