"""``CmafSegmenter``: timed packets in, CMAF init and media segments out, without decoding.

**Cutting.** A media segment starts at a keyframe and is cut at the first keyframe at which
it has lasted ``target_duration_ms`` (``0``: every GOP is a segment, for live playback). It
is cut earlier, at a keyframe, when one more GOP as long as the last would take it past
``max_duration_ms``; a single GOP longer than that still ends at the next keyframe, since
a segment never ends mid-GOP. Each GOP is one ``moof``+``mdat`` fragment. A segment whose
bytes would pass ``max_segment_bytes`` is closed at its last complete GOP and the GOP in
progress is dropped (counted); recording resumes at the next keyframe with ``gap_before``.

**Configurations.** An ``InitSegment`` is emitted the first time a codec configuration
(``CodecParameters.config_hash``) is seen, before its first media segment. A new
configuration (resolution change, camera restart with a new SPS) closes the segment at
that keyframe. H.264 samples keep the NAL units the camera sent, and the first keyframe of
every segment carries its SPS/PPS in band (added when the camera did not repeat them), so a
segment decodes on its own even in a player that misses an init segment change; the ``avc1``
sample entry holds the same sets, as FFmpeg's mp4 muxer writes them. H.265 samples have their
VPS/SPS/PPS removed: ``hvc1`` requires them in the sample entry only.

**Audio.** Audio frames (AAC) are recorded as a second track: see ``audio_lane``. A segment
records the audio configuration seen last (or announced with ``expect_audio``) when a frame
came within ``max_sample_step_ms`` before its first keyframe; its ``InitSegment`` then has
both tracks, and ``config_hash`` (``codec.recorded_hash``) covers both configurations. A new
audio configuration, like a new video one, closes the segment at the next keyframe. A segment
in which no audio frame could be placed is stored as a video-only one. Without
audio the init and media segments are byte for byte those of a video-only recording.

**Gaps.** A packet flagged ``discontinuity``, a new wall-clock anchor epoch, or a decode
time that steps back or forward by more than ``max_sample_step_ms`` closes the open segment
where it is; the next segment (from the next keyframe) has ``gap_before=True``.

**Wall clock in the media.** ``tfdt`` (baseMediaDecodeTime) is absolute: the decode time in
``timescale`` ticks since the Unix epoch, UTC (``tfdt * 1000 / timescale`` = epoch ms; at
90 kHz this stays below 2**53, exact in JavaScript). Composition offsets are the source's own
``pts - dts`` (zero without B-frames), so a sample is presented at ``tfdt + offset`` on the same
clock. ``MediaSegment.start_ms`` is the wall-clock presentation time of the segment's first
keyframe, ``(decode_time + its offset) * 1000 // timescale``; consecutive segments tile
exactly (``start_ms + duration_ms`` is the next ``start_ms``) unless ``gap_before`` says
otherwise. HLS ``EXT-X-PROGRAM-DATE-TIME`` and DASH ``SegmentTimeline`` (in milliseconds,
``presentationTimeOffset`` 0 on this clock) are written from these. The last sample of a
segment closed at a gap or by ``flush()`` lasts as long as the sample before it.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from ova.media.audio_lane import AudioLane
from ova.media.codec import CodecParameters, StreamKind, recorded_codecs, recorded_hash
from ova.media.fmp4 import Sample, init_segment, media_fragment
from ova.media.nal import HEVC, is_parameter_set, length_prefixed, split_annexb
from ova.media.packet import IngestPacket

MIB = 1024 * 1024
AUDIO_WAIT_MS = 1000
_REMEMBERED_CONFIGS = 64


@dataclass(frozen=True)
class InitSegment:
    config_hash: str
    data: bytes
    """``ftyp`` + ``moov``."""
    codec: str
    """RFC 6381 codecs value, e.g. ``avc1.42C01F`` or, with audio, ``avc1.42C01F,mp4a.40.2``."""
    width: int
    height: int
    timescale: int


@dataclass(frozen=True)
class MediaSegment:
    sequence: int
    start_ms: int
    """Wall-clock presentation time of the first keyframe, UTC epoch milliseconds."""
    duration_ms: int
    data: bytes
    """One ``moof`` + ``mdat`` per GOP."""
    config_hash: str
    sample_count: int
    gap_before: bool
    """The timeline is broken between the previous segment and this one."""
    decode_time: int
    """``tfdt`` of the first fragment, in the init segment's timescale."""
    decode_duration: int
    keyframe: bool = True
    audio_sample_count: int = 0


Segment = InitSegment | MediaSegment


@dataclass(frozen=True)
class SegmenterSettings:
    target_duration_ms: int = 30_000
    """Cut at the first keyframe after this long (Video Analyzer: PT30S..PT5M; 0: every GOP)."""
    max_duration_ms: int | None = None
    """Cut early rather than pass this when GOPs are regular (default: twice the target)."""
    max_segment_bytes: int = 256 * MIB
    max_sample_step_ms: int = 5_000
    """A larger step between consecutive decode times is a gap."""
    timescale: int = 90_000
    first_sequence: int = 0

    def __post_init__(self) -> None:
        if self.target_duration_ms < 0 or self.timescale <= 0 or self.max_sample_step_ms <= 0:
            raise ValueError("durations and the timescale must be positive")
        if self.max_duration_ms is not None and self.max_duration_ms < self.target_duration_ms:
            raise ValueError("max_duration_ms must not be below target_duration_ms")
        if not 0 < self.max_segment_bytes <= 2**31:
            raise ValueError("max_segment_bytes must be in (0, 2 GiB]")

    def ticks(self, milliseconds: int) -> int:
        return milliseconds * self.timescale // 1000


@dataclass
class SegmenterStats:
    init_segments: int = 0
    segments: int = 0
    samples: int = 0
    gaps: int = 0
    dropped_waiting_for_keyframe: int = 0
    dropped_over_byte_cap: int = 0


@dataclass
class _OpenSegment:
    config: CodecParameters
    audio: CodecParameters | None
    config_hash: str
    decode_time: int
    end_time: int
    gap_before: bool
    lead: int
    """Composition offset of the first keyframe: presentation starts this long after ``tfdt``."""
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    sample_count: int = 0
    audio_sample_count: int = 0

    @property
    def start(self) -> int:
        """Presentation time of the first keyframe (where its audio starts, unless continued)."""
        return self.decode_time + self.lead


@dataclass(frozen=True, slots=True)
class _Unit:
    decode_time: int
    composition_offset: int
    is_sync: bool
    chunks: tuple[bytes, ...]
    size: int


@dataclass(frozen=True, slots=True)
class _Held:
    """A segment cut at a keyframe whose last GOP waits for the audio up to ``end_time``."""

    segment: _OpenSegment
    end_time: int
    gop: list[_Unit]
    size: int


class CmafSegmenter:
    """Segments one video stream; feed ``push`` in decode order, then ``flush`` (not thread-safe)."""

    def __init__(self, settings: SegmenterSettings | None = None) -> None:
        self.settings = settings or SegmenterSettings()
        self.stats = SegmenterStats()
        target = self.settings.target_duration_ms
        self._target = self.settings.ticks(target)
        self._max = self.settings.ticks(self.settings.max_duration_ms or 2 * target)
        self._max_step = self.settings.ticks(self.settings.max_sample_step_ms)
        self._sequence = self.settings.first_sequence
        self._fragments = 0
        self._segment: _OpenSegment | None = None
        self._gop: list[_Unit] = []
        self._gop_size = 0
        self._announced: OrderedDict[str, None] = OrderedDict()
        self._last_time: int | None = None
        self._last_epoch = 0
        self._step = self.settings.timescale // 30
        self._gap_pending = False
        self.audio = AudioLane(self.settings.timescale, self._max_step)
        self._audio_wait = self.settings.ticks(AUDIO_WAIT_MS)
        self._held: _Held | None = None
        self._audio_start: tuple[CodecParameters | None, int, bool] | None = None
        self._last_audio_hash: str | None = None

    def expect_audio(self, config: CodecParameters | None) -> None:
        """The source announced this audio (``None``: none); the next segment records it."""
        self.audio.expect(config)

    def push(self, packet: IngestPacket) -> list[Segment]:
        """Takes one packet; returns the segments it completed (often none)."""
        if packet.kind is not StreamKind.VIDEO:
            self._push_audio(packet)
            return self._release(force=False)
        decode_time, offset = self._times(packet)
        out = self._release(force=False)
        if self._breaks_timeline(packet, decode_time):
            out += self._close(None)
            self._gap_pending = True
        elif self._last_time is not None:
            self._step = decode_time - self._last_time
        self._last_time, self._last_epoch = decode_time, packet.anchor.epoch
        if packet.is_keyframe:
            out += self._at_keyframe(packet.codec, decode_time, offset)
        elif self._segment is None:
            self.stats.dropped_waiting_for_keyframe += 1
            self._gap_pending = True
            return out
        return out + self._append(packet, decode_time, offset)

    def _push_audio(self, packet: IngestPacket) -> None:
        segment = self._held.segment if self._held is not None else self._segment
        if segment is not None and packet.anchor.epoch != self._last_epoch:
            self.audio.stats.dropped_late += 1
            return
        recording = segment.audio if segment is not None else None
        self.audio.push(packet, recording, segment is not None, self._last_time or 0)

    def flush(self) -> list[Segment]:
        """Closes the open segment (at the end of a stream or before a shutdown)."""
        return self._close(None)

    def _times(self, packet: IngestPacket) -> tuple[int, int]:
        timescale = self.settings.timescale
        decode_time = round(packet.anchor.wall_time(packet.media_time) * timescale / 1000)
        offset = round((packet.pts - packet.dts) * packet.time_base * timescale)
        return decode_time, offset

    def _breaks_timeline(self, packet: IngestPacket, decode_time: int) -> bool:
        if self._last_time is None:
            return False
        if packet.discontinuity or packet.anchor.epoch != self._last_epoch:
            return True
        step = decode_time - self._last_time
        return step <= 0 or step > self._max_step

    def _at_keyframe(self, config: CodecParameters, decode_time: int, offset: int) -> list[Segment]:
        out = self._release(force=True)  # its audio is in: the next GOP has begun
        segment = self._segment
        if segment is not None:
            changed = recorded_hash(config, self._audio_for(decode_time)) != segment.config_hash
            if changed or self._should_cut(segment, decode_time):
                out += self._close(decode_time)
            else:
                self._finish_gop(segment, decode_time)
        if self._segment is None:
            out += self._open(config, decode_time, offset)
        return out

    def _should_cut(self, segment: _OpenSegment, decode_time: int) -> bool:
        elapsed = decode_time - segment.decode_time
        last_gop = decode_time - self._gop[0].decode_time if self._gop else 0
        return elapsed >= self._target or elapsed + last_gop > self._max

    def _audio_for(self, decode_time: int) -> CodecParameters | None:
        """The audio a segment opening at ``decode_time`` records: the one announced, or the
        latest seen if it is recent and on the video's clock."""
        lane = self.audio
        if lane.last_seen is None or lane.recent(decode_time, self._max_step):
            return lane.config
        return None

    def _open(self, config: CodecParameters, decode_time: int, offset: int) -> list[Segment]:
        out: list[Segment] = []
        audio = self._audio_for(decode_time)
        if self.audio.last_seen is None:  # an announcement counts once: no frame came yet
            self.audio.config = None
        config_hash = recorded_hash(config, audio)
        if config_hash not in self._announced:
            out.append(self._init_segment(config, audio, config_hash))
        self._announced.move_to_end(config_hash)
        gap_before = self._gap_pending and self.stats.segments > 0
        self._segment = _OpenSegment(config, audio, config_hash, decode_time, decode_time, gap_before, offset)
        audio_hash = audio.config_hash if audio is not None else None
        continuous = not self._gap_pending and audio_hash == self._last_audio_hash
        self._audio_start = (audio, self._segment.start, continuous)
        if self._held is None:  # else once the held segment has taken its audio
            self._start_audio()
        self._last_audio_hash = audio_hash
        self._gap_pending = False
        return out

    def _start_audio(self) -> None:
        if self._audio_start is not None:
            self.audio.restart(*self._audio_start)
            self._audio_start = None

    def _init_segment(
        self, config: CodecParameters, audio: CodecParameters | None, config_hash: str
    ) -> InitSegment:
        self._announced[config_hash] = None
        while len(self._announced) > _REMEMBERED_CONFIGS:
            self._announced.popitem(last=False)
        self.stats.init_segments += 1
        return InitSegment(
            config_hash=config_hash,
            data=init_segment(config, self.settings.timescale, audio),
            codec=recorded_codecs(config, audio),
            width=config.width,
            height=config.height,
            timescale=self.settings.timescale,
        )

    def _append(self, packet: IngestPacket, decode_time: int, offset: int) -> list[Segment]:
        segment = self._segment
        assert segment is not None
        chunks = tuple(length_prefixed(self._sample_nals(packet, not self._gop and not segment.sample_count)))
        size = sum(len(chunk) for chunk in chunks)
        unit = _Unit(decode_time, offset, packet.is_keyframe, chunks, size)
        self._gop.append(unit)
        self._gop_size += size
        if segment.size + self._gop_size <= self.settings.max_segment_bytes:
            return []
        self.stats.dropped_over_byte_cap += len(self._gop)
        end = self._gop[0].decode_time
        self._gop, self._gop_size = [], 0
        out = self._close(end)
        self._gap_pending = True
        return out

    @staticmethod
    def _sample_nals(packet: IngestPacket, opens_segment: bool) -> list[bytes]:
        codec = packet.codec.codec
        nals = split_annexb(packet.data)
        if codec == HEVC:  # hvc1: parameter sets live in the sample entry only
            return [nal for nal in nals if not is_parameter_set(codec, nal)]
        if opens_segment and not any(is_parameter_set(codec, nal) for nal in nals):
            return [*packet.codec.parameter_sets, *nals]
        return nals

    def _finish_gop(self, segment: _OpenSegment, end_time: int | None) -> None:
        gop, size = self._gop, self._gop_size
        self._gop, self._gop_size = [], 0
        self._write_gop(segment, end_time, gop, size)

    def _write_gop(self, segment: _OpenSegment, end_time: int | None, gop: list[_Unit], size: int) -> None:
        if not gop:
            return
        ends = [unit.decode_time for unit in gop[1:]]
        ends.append(end_time if end_time is not None else gop[-1].decode_time + max(self._step, 1))
        samples = [
            Sample(unit.chunks, unit.size, end - unit.decode_time, unit.composition_offset, unit.is_sync)
            for unit, end in zip(gop, ends, strict=True)
        ]
        audio = self.audio.take(segment.audio, ends[-1])
        audio_size = sum(sample.size for sample in audio.samples) if audio is not None else 0
        self._fragments += 1
        pieces = media_fragment(self._fragments, gop[0].decode_time, samples, audio)
        segment.chunks.extend(pieces)
        segment.size += sum(len(piece) for piece in pieces[:2]) + size + audio_size
        segment.sample_count += len(gop)
        segment.audio_sample_count += len(audio.samples) if audio is not None else 0
        segment.end_time = ends[-1]

    def _close(self, end_time: int | None) -> list[Segment]:
        out = self._release(force=True)
        segment, self._segment = self._segment, None
        if segment is None:
            return out
        gop, size = self._gop, self._gop_size
        self._gop, self._gop_size = [], 0
        if segment.audio is not None and end_time is not None and not self.audio.reached(end_time):
            self._held = _Held(segment, end_time, gop, size)
            return out
        return out + self._complete(segment, end_time, gop, size)

    def _release(self, *, force: bool) -> list[Segment]:
        """Completes the segment held for its audio once the audio (or the wait) reached its end."""
        held = self._held
        if held is None:
            return []
        waited = self._last_time is not None and self._last_time >= held.end_time + self._audio_wait
        if not (force or waited or self.audio.reached(held.end_time)):
            return []
        self._held = None
        out = self._complete(held.segment, held.end_time, held.gop, held.size)
        self._start_audio()
        return out

    def _complete(
        self, segment: _OpenSegment, end_time: int | None, gop: list[_Unit], size: int
    ) -> list[Segment]:
        self._write_gop(segment, end_time, gop, size)
        if segment.sample_count == 0:
            return []
        out: list[Segment] = []
        if segment.audio is not None and segment.audio_sample_count == 0:
            out += self._as_video_only(segment)
        timescale = self.settings.timescale
        start_ms = (segment.decode_time + segment.lead) * 1000 // timescale
        end_ms = (segment.end_time + segment.lead) * 1000 // timescale
        self.stats.segments += 1
        self.stats.samples += segment.sample_count
        self.stats.gaps += int(segment.gap_before)
        media = MediaSegment(
            sequence=self._sequence,
            start_ms=start_ms,
            duration_ms=end_ms - start_ms,
            data=b"".join(segment.chunks),
            config_hash=segment.config_hash,
            sample_count=segment.sample_count,
            gap_before=segment.gap_before,
            decode_time=segment.decode_time,
            decode_duration=segment.end_time - segment.decode_time,
            audio_sample_count=segment.audio_sample_count,
        )
        self._sequence += 1
        return [*out, media]

    def _as_video_only(self, segment: _OpenSegment) -> list[Segment]:
        """No audio came: the fragments are those of a video-only segment, so it is stored as one
        (its init segment announced first when it is new)."""
        segment.audio, segment.config_hash = None, segment.config.config_hash
        if segment.config_hash in self._announced:
            self._announced.move_to_end(segment.config_hash)
            return []
        return [self._init_segment(segment.config, None, segment.config_hash)]
