"""Fragmented MP4 (CMAF) boxes for a video track and an optional audio track.

Init segment: ``ftyp`` + ``moov`` (``mvhd``, a ``trak`` per track with an empty sample table,
``mvex``): video is track 1 at the video timescale, audio (``mp4a``) track 2 at its sample
rate. Fragment: ``moof`` (``mfhd``, a ``traf`` per track with ``tfhd`` default-base-is-moof,
``tfdt`` version 1, one ``trun``) + one ``mdat`` holding the video samples, then the audio
samples. Sample data offsets are relative to the ``moof``, so boxes such as ``emsg`` may be
inserted before it without rewriting anything. Without audio the bytes are those of a
single-track file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ova.media.codec import CodecParameters
from ova.media.isobmff import box, full_box, u16, u32, u64
from ova.media.sample_entry import audio_sample_entry, visual_sample_entry

TRACK_ID = 1
AUDIO_TRACK_ID = 2
MOVIE_TIMESCALE = 1000
_MATRIX = b"".join(u32(value) for value in (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000))
_SYNC_SAMPLE_FLAGS = 0x02000000  # sample_depends_on = 2 (an I picture)
_OTHER_SAMPLE_FLAGS = 0x01010000  # sample_depends_on = 1, sample_is_non_sync_sample
_TRUN_DATA_OFFSET, _TRUN_DURATION, _TRUN_SIZE, _TRUN_FLAGS, _TRUN_CTS = 0x1, 0x100, 0x200, 0x400, 0x800
_TFHD_DEFAULT_BASE_IS_MOOF = 0x020000


@dataclass(frozen=True, slots=True)
class Sample:
    """One access unit, as length-prefixed NAL unit pieces ready to be joined into ``mdat``."""

    chunks: tuple[bytes, ...]
    size: int
    duration: int
    composition_offset: int
    is_sync: bool


@dataclass(frozen=True, slots=True)
class TrackRun:
    """The samples of one track in one fragment, from ``decode_time`` on."""

    track_id: int
    decode_time: int
    samples: Sequence[Sample]


def init_segment(params: CodecParameters, timescale: int, audio: CodecParameters | None = None) -> bytes:
    """``ftyp`` + ``moov``: video ``params`` at ``timescale`` ticks per second, and ``audio``."""
    ftyp = box("ftyp", b"iso6", u32(0), b"iso6", b"cmfc", b"mp41")
    if audio is None:
        moov = box("moov", _mvhd(TRACK_ID + 1), _trak(params, timescale), box("mvex", _trex(TRACK_ID)))
    else:
        traks = _trak(params, timescale) + _audio_trak(audio)
        mvex = box("mvex", _trex(TRACK_ID), _trex(AUDIO_TRACK_ID))
        moov = box("moov", _mvhd(AUDIO_TRACK_ID + 1), traks, mvex)
    return ftyp + moov


def _mvhd(next_track_id: int) -> bytes:
    return full_box(
        "mvhd",
        0,
        0,
        u32(0) + u32(0) + u32(MOVIE_TIMESCALE) + u32(0),  # times, timescale, duration
        u32(0x00010000) + u16(0x0100) + bytes(10),  # rate, volume, reserved
        _MATRIX,
        bytes(24),  # pre_defined
        u32(next_track_id),
    )


def _trak(params: CodecParameters, timescale: int) -> bytes:
    tkhd = full_box(
        "tkhd",
        0,
        0x000003,  # enabled, in movie
        u32(0) + u32(0) + u32(TRACK_ID) + u32(0) + u32(0),
        bytes(8) + u16(0) + u16(0) + u16(0) + u16(0),  # reserved, layer, group, volume, reserved
        _MATRIX,
        u32(params.width << 16) + u32(params.height << 16),
    )
    mdhd = full_box("mdhd", 0, 0, u32(0) + u32(0) + u32(timescale) + u32(0), u16(0x55C4) + u16(0))
    hdlr = full_box("hdlr", 0, 0, u32(0), b"vide", bytes(12), b"VideoHandler\x00")
    return box("trak", tkhd, box("mdia", mdhd, hdlr, _minf(params)))


def _audio_trak(audio: CodecParameters) -> bytes:
    tkhd = full_box(
        "tkhd",
        0,
        0x000003,  # enabled, in movie
        u32(0) + u32(0) + u32(AUDIO_TRACK_ID) + u32(0) + u32(0),
        bytes(8) + u16(0) + u16(1) + u16(0x0100) + u16(0),  # reserved, layer, group, volume 1.0
        _MATRIX,
        u32(0) + u32(0),
    )
    mdhd = full_box("mdhd", 0, 0, u32(0) + u32(0) + u32(audio.sample_rate) + u32(0), u16(0x55C4) + u16(0))
    hdlr = full_box("hdlr", 0, 0, u32(0), b"soun", bytes(12), b"SoundHandler\x00")
    smhd = full_box("smhd", 0, 0, u16(0) + u16(0))  # balance, reserved
    minf = box("minf", smhd, _dinf(), _stbl(audio_sample_entry(audio, AUDIO_TRACK_ID)))
    return box("trak", tkhd, box("mdia", mdhd, hdlr, minf))


def _minf(params: CodecParameters) -> bytes:
    vmhd = full_box("vmhd", 0, 1, bytes(8))
    return box("minf", vmhd, _dinf(), _stbl(visual_sample_entry(params)))


def _dinf() -> bytes:
    return box("dinf", full_box("dref", 0, 0, u32(1), full_box("url ", 0, 1)))


def _stbl(sample_entry: bytes) -> bytes:
    return box(
        "stbl",
        full_box("stsd", 0, 0, u32(1), sample_entry),
        full_box("stts", 0, 0, u32(0)),
        full_box("stsc", 0, 0, u32(0)),
        full_box("stsz", 0, 0, u32(0), u32(0)),
        full_box("stco", 0, 0, u32(0)),
    )


def _trex(track_id: int) -> bytes:
    return full_box("trex", 0, 0, u32(track_id), u32(1), u32(0), u32(0), u32(0))


def media_fragment(
    sequence_number: int, decode_time: int, samples: Sequence[Sample], audio: TrackRun | None = None
) -> list[bytes]:
    """``moof`` + ``mdat`` for the video ``samples`` (and ``audio``), as pieces to join (sample
    data is not copied here). An audio run without samples is left out."""
    runs = [TrackRun(TRACK_ID, decode_time, samples)]
    if audio is not None and audio.samples:
        runs.append(audio)
    mfhd = full_box("mfhd", 0, 0, u32(sequence_number))

    def moof(data_offset: int) -> bytes:
        trafs, offset = [], data_offset
        for run in runs:
            trafs.append(_traf(run, offset))
            offset += sum(sample.size for sample in run.samples)
        return box("moof", mfhd, *trafs)

    header_size = len(moof(0))
    payload_size = sum(sample.size for run in runs for sample in run.samples)
    mdat_header = u32(8 + payload_size) + b"mdat"
    chunks = (chunk for run in runs for sample in run.samples for chunk in sample.chunks)
    return [moof(header_size + 8), mdat_header, *chunks]


def _traf(run: TrackRun, data_offset: int) -> bytes:
    samples = run.samples
    with_cts = any(sample.composition_offset for sample in samples)
    flags = _TRUN_DATA_OFFSET | _TRUN_DURATION | _TRUN_SIZE | _TRUN_FLAGS | (_TRUN_CTS if with_cts else 0)
    version = 1 if any(sample.composition_offset < 0 for sample in samples) else 0
    entries = b"".join(_trun_entry(sample, with_cts) for sample in samples)
    tfhd = full_box("tfhd", 0, _TFHD_DEFAULT_BASE_IS_MOOF, u32(run.track_id))
    tfdt = full_box("tfdt", 1, 0, u64(run.decode_time))
    trun = full_box("trun", version, flags, u32(len(samples)), u32(data_offset), entries)
    return box("traf", tfhd, tfdt, trun)


def _trun_entry(sample: Sample, with_cts: bool) -> bytes:
    flags = _SYNC_SAMPLE_FLAGS if sample.is_sync else _OTHER_SAMPLE_FLAGS
    entry = u32(sample.duration) + u32(sample.size) + u32(flags)
    if with_cts:
        entry += sample.composition_offset.to_bytes(4, "big", signed=True)
    return entry
