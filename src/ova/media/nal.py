"""NAL units of H.264 (ITU-T H.264 §7.3.1, Annex B) and H.265 (ITU-T H.265 §7.3.1.1).

Sources deliver access units either as Annex B byte streams (RTSP, MPEG-TS) or length-prefixed
(MP4, Matroska: the ``avcC``/``hvcC`` layout of ISO/IEC 14496-15). This module converts between
the two and picks out parameter sets; it never decodes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ova.media.errors import InvalidMedia, UnsupportedMedia

H264 = "h264"
HEVC = "hevc"
START_CODE = b"\x00\x00\x01"

_PARAMETER_SET_TYPES = {H264: (7, 8), HEVC: (32, 33, 34)}
_SPS_TYPE = {H264: 7, HEVC: 33}


def nal_type(codec: str, nal: bytes) -> int:
    """``nal_unit_type`` from the NAL header."""
    return nal[0] & 0x1F if codec == H264 else (nal[0] >> 1) & 0x3F


def is_parameter_set(codec: str, nal: bytes) -> bool:
    """Whether ``nal`` is a VPS, SPS or PPS."""
    return nal_type(codec, nal) in _PARAMETER_SET_TYPES[codec]


def is_sps(codec: str, nal: bytes) -> bool:
    return nal_type(codec, nal) == _SPS_TYPE[codec]


def check_codec(codec: str) -> str:
    if codec not in _PARAMETER_SET_TYPES:
        raise UnsupportedMedia(f"video codec {codec!r} is not supported (H.264 and H.265 are)")
    return codec


def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream, without start codes or trailing zero bytes."""
    nals: list[bytes] = []
    position = data.find(START_CODE)
    while position >= 0:
        start = position + 3
        following = data.find(START_CODE, start)
        end = len(data) if following < 0 else following
        while end > start and data[end - 1] == 0:
            end -= 1
        if end > start:
            nals.append(data[start:end])
        position = following
    return nals


def join_annexb(nals: Iterable[bytes]) -> bytes:
    """An Annex B byte stream of ``nals`` with four-byte start codes."""
    return b"".join(b"\x00" + START_CODE + nal for nal in nals)


def split_length_prefixed(data: bytes, length_size: int) -> list[bytes]:
    """The NAL units of a length-prefixed access unit (ISO/IEC 14496-15 sample format)."""
    nals: list[bytes] = []
    position = 0
    while position + length_size <= len(data):
        size = int.from_bytes(data[position : position + length_size], "big")
        position += length_size
        if size == 0 or position + size > len(data):
            raise InvalidMedia("a NAL unit length runs past the end of its access unit")
        nals.append(data[position : position + size])
        position += size
    if position != len(data):
        raise InvalidMedia("trailing bytes after the last NAL unit of an access unit")
    return nals


def length_prefixed(nals: Iterable[bytes]) -> list[bytes]:
    """``nals`` as four-byte big-endian length prefixes and payloads, ready to join."""
    pieces: list[bytes] = []
    for nal in nals:
        pieces.append(len(nal).to_bytes(4, "big"))
        pieces.append(nal)
    return pieces


def parameter_sets(codec: str, nals: Sequence[bytes]) -> list[bytes]:
    """The VPS, SPS and PPS among ``nals``, in order, without repeats."""
    found: list[bytes] = []
    for nal in nals:
        if is_parameter_set(codec, nal) and nal not in found:
            found.append(nal)
    return found


def merge_parameter_sets(codec: str, current: Sequence[bytes], update: Sequence[bytes]) -> tuple[bytes, ...]:
    """``current`` with every NAL type present in ``update`` replaced by ``update``'s units."""
    replaced = {nal_type(codec, nal) for nal in update}
    kept = [nal for nal in current if nal_type(codec, nal) not in replaced]
    return tuple(sorted([*kept, *update], key=lambda nal: nal_type(codec, nal)))


def from_extradata(codec: str, extradata: bytes) -> tuple[list[bytes], int | None]:
    """Parameter sets in codec extradata, and the NAL length size when it is a configuration record.

    Annex B extradata (RTSP ``sprop-parameter-sets``, MPEG-TS) gives ``None`` as length size;
    an ``avcC``/``hvcC`` record (MP4, Matroska) gives the length size its samples use.
    """
    if not extradata:
        return [], None
    if extradata[0] != 1:
        return parameter_sets(codec, split_annexb(extradata)), None
    try:
        if codec == H264:
            return _from_avcc(extradata)
        return _from_hvcc(extradata)
    except IndexError as error:
        raise InvalidMedia("the codec configuration record is truncated") from error


def _from_avcc(record: bytes) -> tuple[list[bytes], int]:
    length_size = (record[4] & 0x03) + 1
    nals: list[bytes] = []
    position = 5
    for count_mask in (0x1F, 0xFF):
        count = record[position] & count_mask
        position += 1
        for _ in range(count):
            nal, position = _record_nal(record, position)
            nals.append(nal)
    return nals, length_size


def _from_hvcc(record: bytes) -> tuple[list[bytes], int]:
    length_size = (record[21] & 0x03) + 1
    nals: list[bytes] = []
    position = 23
    for _ in range(record[22]):
        count = int.from_bytes(record[position + 1 : position + 3], "big")
        position += 3
        for _ in range(count):
            nal, position = _record_nal(record, position)
            nals.append(nal)
    return nals, length_size


def _record_nal(record: bytes, position: int) -> tuple[bytes, int]:
    size = int.from_bytes(record[position : position + 2], "big")
    nal = record[position + 2 : position + 2 + size]
    if size == 0 or len(nal) != size:
        raise InvalidMedia("the codec configuration record is truncated")
    return nal, position + 2 + size


def rbsp(nal_payload: bytes) -> bytes:
    """The raw byte sequence payload: ``nal_payload`` without emulation prevention bytes."""
    return nal_payload.replace(b"\x00\x00\x03", b"\x00\x00")
