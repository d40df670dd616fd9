"""Sequence parameter sets: the picture size and profile a stream declares, read without decoding.

H.264 follows ITU-T H.264 §7.3.2.1.1, H.265 follows ITU-T H.265 §7.3.2.2 and §7.3.3. Only the
fields up to the picture size and bit depth are read. Codec strings follow RFC 6381 and
ISO/IEC 14496-15 Annex E (``avc1.PPCCLL``, ``hvc1.P.C.TL.B``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ova.media.errors import InvalidMedia
from ova.media.nal import H264, rbsp

_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


@dataclass(frozen=True)
class SequenceParameters:
    """What an SPS says about the coded pictures and the codec configuration record."""

    width: int
    height: int
    profile_idc: int
    level_idc: int
    chroma_format_idc: int
    bit_depth_luma: int
    bit_depth_chroma: int
    codec_string: str
    profile_compatibility: int = 0
    """H.264: the constraint-flags byte. H.265: the 32 general profile compatibility flags."""
    profile_tier_level: bytes = b""
    """H.265 only: the 12 general profile, tier and level bytes, as ``hvcC`` stores them."""
    max_sub_layers: int = 1
    temporal_id_nesting: bool = True


class BitReader:
    """Reads big-endian bit fields and Exp-Golomb codes (H.264 §9.1) from an RBSP."""

    def __init__(self, data: bytes) -> None:
        self._value = int.from_bytes(data, "big")
        self._length = len(data) * 8
        self.position = 0

    def bits(self, count: int) -> int:
        if self.position + count > self._length:
            raise InvalidMedia("a parameter set ends early")
        self.position += count
        return (self._value >> (self._length - self.position)) & ((1 << count) - 1)

    def flag(self) -> bool:
        return self.bits(1) == 1

    def ue(self) -> int:
        zeros = 0
        while self.bits(1) == 0:
            zeros += 1
            if zeros > 31:
                raise InvalidMedia("an Exp-Golomb code in a parameter set is too long")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code % 2 else -(code // 2)


def parse_sps(codec: str, nal: bytes) -> SequenceParameters:
    """The picture size and profile of an SPS NAL unit (with its NAL header)."""
    if codec == H264:
        return _parse_h264(BitReader(rbsp(nal[1:])))
    return _parse_hevc(rbsp(nal[2:]))


def _parse_h264(reader: BitReader) -> SequenceParameters:
    profile_idc, constraints, level_idc = reader.bits(8), reader.bits(8), reader.bits(8)
    reader.ue()  # seq_parameter_set_id
    chroma, depth_luma, depth_chroma = 1, 8, 8
    if profile_idc in _HIGH_PROFILES:
        chroma = reader.ue()
        if chroma == 3:
            reader.bits(1)  # separate_colour_plane_flag
        depth_luma, depth_chroma = reader.ue() + 8, reader.ue() + 8
        reader.bits(1)  # qpprime_y_zero_transform_bypass_flag
        if reader.flag():
            _skip_scaling_lists(reader, 8 if chroma != 3 else 12)
    _skip_picture_order(reader)
    width, height = _h264_size(reader, chroma)
    return SequenceParameters(
        width=width,
        height=height,
        profile_idc=profile_idc,
        level_idc=level_idc,
        chroma_format_idc=chroma,
        bit_depth_luma=depth_luma,
        bit_depth_chroma=depth_chroma,
        codec_string=f"avc1.{profile_idc:02X}{constraints:02X}{level_idc:02X}",
        profile_compatibility=constraints,
    )


def _skip_scaling_lists(reader: BitReader, count: int) -> None:
    for index in range(count):
        if not reader.flag():
            continue
        last, following = 8, 8
        for _ in range(16 if index < 6 else 64):
            if following != 0:
                following = (last + reader.se() + 256) % 256
            last = following if following != 0 else last


def _skip_picture_order(reader: BitReader) -> None:
    reader.ue()  # log2_max_frame_num_minus4
    order_type = reader.ue()
    if order_type == 0:
        reader.ue()  # log2_max_pic_order_cnt_lsb_minus4
    elif order_type == 1:
        reader.bits(1)
        reader.se()
        reader.se()
        for _ in range(reader.ue()):
            reader.se()
    reader.ue()  # max_num_ref_frames
    reader.bits(1)  # gaps_in_frame_num_value_allowed_flag


def _h264_size(reader: BitReader, chroma: int) -> tuple[int, int]:
    width_mbs, height_units = reader.ue() + 1, reader.ue() + 1
    frame_mbs_only = reader.bits(1)
    if not frame_mbs_only:
        reader.bits(1)  # mb_adaptive_frame_field_flag
    reader.bits(1)  # direct_8x8_inference_flag
    width, height = width_mbs * 16, (2 - frame_mbs_only) * height_units * 16
    if reader.flag():
        left, right, top, bottom = reader.ue(), reader.ue(), reader.ue(), reader.ue()
        unit_x = 1 if chroma in (0, 3) else 2
        unit_y = (2 - frame_mbs_only) * (2 if chroma == 1 else 1)
        width -= unit_x * (left + right)
        height -= unit_y * (top + bottom)
    return width, height


def _parse_hevc(data: bytes) -> SequenceParameters:
    reader = BitReader(data)
    reader.bits(4)  # sps_video_parameter_set_id
    sub_layers = reader.bits(3) + 1
    nesting = reader.flag()
    profile_tier_level = data[1:13]
    reader.bits(96)
    _skip_sub_layers(reader, sub_layers - 1)
    reader.ue()  # sps_seq_parameter_set_id
    chroma = reader.ue()
    if chroma == 3:
        reader.bits(1)  # separate_colour_plane_flag
    width, height = reader.ue(), reader.ue()
    if reader.flag():
        left, right, top, bottom = reader.ue(), reader.ue(), reader.ue(), reader.ue()
        width -= (2 if chroma in (1, 2) else 1) * (left + right)
        height -= (2 if chroma == 1 else 1) * (top + bottom)
    depth_luma, depth_chroma = reader.ue() + 8, reader.ue() + 8
    return SequenceParameters(
        width=width,
        height=height,
        profile_idc=profile_tier_level[0] & 0x1F,
        level_idc=profile_tier_level[11],
        chroma_format_idc=chroma,
        bit_depth_luma=depth_luma,
        bit_depth_chroma=depth_chroma,
        codec_string=_hevc_codec_string(profile_tier_level),
        profile_compatibility=int.from_bytes(profile_tier_level[1:5], "big"),
        profile_tier_level=profile_tier_level,
        max_sub_layers=sub_layers,
        temporal_id_nesting=nesting,
    )


def _skip_sub_layers(reader: BitReader, count: int) -> None:
    present = [(reader.flag(), reader.flag()) for _ in range(count)]
    if count > 0:
        reader.bits(2 * (8 - count))
    for profile_present, level_present in present:
        reader.bits((88 if profile_present else 0) + (8 if level_present else 0))


def _hevc_codec_string(ptl: bytes) -> str:
    space = ("", "A", "B", "C")[ptl[0] >> 6]
    tier = "H" if ptl[0] & 0x20 else "L"
    compatibility = int(f"{int.from_bytes(ptl[1:5], 'big'):032b}"[::-1], 2)
    constraints = list(ptl[5:11])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    parts = [f"hvc1.{space}{ptl[0] & 0x1F}", f"{compatibility:X}", f"{tier}{ptl[11]}"]
    return ".".join(parts + [f"{byte:X}" for byte in constraints])
