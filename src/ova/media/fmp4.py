"""Fragmented MP4 (CMAF) boxes for one video track: the init segment and movie fragments.

Init segment: ``ftyp`` + ``moov`` (``mvhd``, one ``trak`` with an empty sample table, ``mvex``).
Fragment: ``moof`` (``mfhd``, ``traf`` with ``tfhd`` default-base-is-moof, ``tfdt`` version 1,
one ``trun``) + ``mdat``. Sample data offsets are relative to the ``moof``, so boxes such as
``emsg`` may be inserted before it without rewriting anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ova.media.codec import CodecParameters
from ova.media.isobmff import box, full_box, u16, u32, u64
from ova.media.sample_entry import visual_sample_entry

TRACK_ID = 1
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


def init_segment(params: CodecParameters, timescale: int) -> bytes:
    """``ftyp`` + ``moov`` for one video track of ``params`` at ``timescale`` ticks per second."""
    ftyp = box("ftyp", b"iso6", u32(0), b"iso6", b"cmfc", b"mp41")
    moov = box("moov", _mvhd(), _trak(params, timescale), box("mvex", _trex()))
    return ftyp + moov


def _mvhd() -> bytes:
    return full_box(
        "mvhd",
        0,
        0,
        u32(0) + u32(0) + u32(MOVIE_TIMESCALE) + u32(0),  # times, timescale, duration
        u32(0x00010000) + u16(0x0100) + bytes(10),  # rate, volume, reserved
        _MATRIX,
        bytes(24),  # pre_defined
        u32(TRACK_ID + 1),  # next_track_ID
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


def _minf(params: CodecParameters) -> bytes:
    vmhd = full_box("vmhd", 0, 1, bytes(8))
    dinf = box("dinf", full_box("dref", 0, 0, u32(1), full_box("url ", 0, 1)))
    stbl = box(
        "stbl",
        full_box("stsd", 0, 0, u32(1), visual_sample_entry(params)),
        full_box("stts", 0, 0, u32(0)),
        full_box("stsc", 0, 0, u32(0)),
        full_box("stsz", 0, 0, u32(0), u32(0)),
        full_box("stco", 0, 0, u32(0)),
    )
    return box("minf", vmhd, dinf, stbl)


def _trex() -> bytes:
    return full_box("trex", 0, 0, u32(TRACK_ID), u32(1), u32(0), u32(0), u32(0))


def media_fragment(sequence_number: int, decode_time: int, samples: Sequence[Sample]) -> list[bytes]:
    """``moof`` + ``mdat`` for ``samples``, as pieces to join (sample data is not copied here)."""
    with_cts = any(sample.composition_offset for sample in samples)
    flags = _TRUN_DATA_OFFSET | _TRUN_DURATION | _TRUN_SIZE | _TRUN_FLAGS | (_TRUN_CTS if with_cts else 0)
    version = 1 if any(sample.composition_offset < 0 for sample in samples) else 0
    entries = b"".join(_trun_entry(sample, with_cts) for sample in samples)
    mfhd = full_box("mfhd", 0, 0, u32(sequence_number))
    tfhd = full_box("tfhd", 0, _TFHD_DEFAULT_BASE_IS_MOOF, u32(TRACK_ID))
    tfdt = full_box("tfdt", 1, 0, u64(decode_time))

    def moof(data_offset: int) -> bytes:
        trun = full_box("trun", version, flags, u32(len(samples)), u32(data_offset), entries)
        return box("moof", mfhd, box("traf", tfhd, tfdt, trun))

    header_size = len(moof(0))
    payload_size = sum(sample.size for sample in samples)
    mdat_header = u32(8 + payload_size) + b"mdat"
    return [moof(header_size + 8), mdat_header, *(chunk for s in samples for chunk in s.chunks)]


def _trun_entry(sample: Sample, with_cts: bool) -> bytes:
    flags = _SYNC_SAMPLE_FLAGS if sample.is_sync else _OTHER_SAMPLE_FLAGS
    entry = u32(sample.duration) + u32(sample.size) + u32(flags)
    if with_cts:
        entry += sample.composition_offset.to_bytes(4, "big", signed=True)
    return entry
