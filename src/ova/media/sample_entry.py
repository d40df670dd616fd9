"""Sample entries (``avc1``, ``hvc1``, ``mp4a``) and their decoder configuration records.

``avcC`` follows ISO/IEC 14496-15 §5.3.3.1, ``hvcC`` §8.3.3.1. The records carry the stream's
parameter sets, so samples (``avc1``/``hvc1``) need none in band. ``mp4a`` is the
AudioSampleEntry of ISO/IEC 14496-12 §12.2.3 with an ``esds`` (ISO/IEC 14496-14 §5.6) whose
DecoderSpecificInfo is the AAC AudioSpecificConfig.
"""

from __future__ import annotations

from ova.media.codec import CodecParameters
from ova.media.isobmff import box, full_box, u8, u16, u32
from ova.media.nal import H264, nal_type
from ova.media.sps import SequenceParameters

_AVC_HIGH_PROFILES = {100, 110, 122, 144}
_HEVC_ARRAY_TYPES = (32, 33, 34)
_ES_DESCRIPTOR, _DECODER_CONFIG, _DECODER_SPECIFIC, _SL_CONFIG = 0x03, 0x04, 0x05, 0x06
_AUDIO_ISO_14496_3 = 0x40  # objectTypeIndication
_AUDIO_STREAM = 0x15  # streamType 5 (audio) << 2 | upStream 0 | reserved 1


def visual_sample_entry(params: CodecParameters) -> bytes:
    """The ``stsd`` entry describing ``params`` (``avc1`` or ``hvc1``)."""
    sequence = params.sequence()
    if params.codec == H264:
        kind, configuration = "avc1", box("avcC", avc_configuration(params, sequence))
    else:
        kind, configuration = "hvc1", box("hvcC", hevc_configuration(params, sequence))
    fields = b"".join(
        (
            bytes(6),  # reserved
            u16(1),  # data_reference_index
            bytes(16),  # pre_defined, reserved
            u16(params.width),
            u16(params.height),
            u32(0x00480000),  # 72 dpi
            u32(0x00480000),
            u32(0),  # reserved
            u16(1),  # frame_count
            bytes(32),  # compressorname
            u16(0x0018),  # depth
            u16(0xFFFF),  # pre_defined = -1
        )
    )
    return box(kind, fields, configuration)


def avc_configuration(params: CodecParameters, sequence: SequenceParameters) -> bytes:
    """The AVCDecoderConfigurationRecord payload."""
    sps = [nal for nal in params.parameter_sets if nal_type(H264, nal) == 7]
    pps = [nal for nal in params.parameter_sets if nal_type(H264, nal) == 8]
    parts = [u8(1), sps[0][1:4], u8(0xFF), u8(0xE0 | len(sps))]
    parts += [u16(len(nal)) + nal for nal in sps]
    parts += [u8(len(pps))] + [u16(len(nal)) + nal for nal in pps]
    if sequence.profile_idc in _AVC_HIGH_PROFILES:
        parts += [
            u8(0xFC | sequence.chroma_format_idc),
            u8(0xF8 | (sequence.bit_depth_luma - 8)),
            u8(0xF8 | (sequence.bit_depth_chroma - 8)),
            u8(0),  # numOfSequenceParameterSetExt
        ]
    return b"".join(parts)


def hevc_configuration(params: CodecParameters, sequence: SequenceParameters) -> bytes:
    """The HEVCDecoderConfigurationRecord payload."""
    layers = (sequence.max_sub_layers << 3) | (int(sequence.temporal_id_nesting) << 2) | 0x03
    parts = [
        u8(1),
        sequence.profile_tier_level,
        u16(0xF000),  # min_spatial_segmentation_idc = 0
        u8(0xFC),  # parallelismType = 0
        u8(0xFC | sequence.chroma_format_idc),
        u8(0xF8 | (sequence.bit_depth_luma - 8)),
        u8(0xF8 | (sequence.bit_depth_chroma - 8)),
        u16(0),  # avgFrameRate
        u8(layers),  # constantFrameRate = 0, lengthSizeMinusOne = 3
    ]
    arrays = []
    for kind in _HEVC_ARRAY_TYPES:
        nals = [nal for nal in params.parameter_sets if nal_type(params.codec, nal) == kind]
        if nals:
            units = b"".join(u16(len(nal)) + nal for nal in nals)
            arrays.append(u8(0x80 | kind) + u16(len(nals)) + units)
    return b"".join([*parts, u8(len(arrays)), *arrays])


def audio_sample_entry(params: CodecParameters, track_id: int) -> bytes:
    """The ``mp4a`` entry of an AAC configuration, 16-bit samples, rate and channels as sent."""
    fields = b"".join(
        (
            bytes(6),  # reserved
            u16(1),  # data_reference_index
            bytes(8),  # reserved
            u16(params.channels),
            u16(16),  # samplesize
            u16(0) + u16(0),  # pre_defined, reserved
            u32((params.sample_rate & 0xFFFF) << 16),  # 16.16 fixed point
        )
    )
    return box("mp4a", fields, full_box("esds", 0, 0, es_descriptor(params, track_id)))


def es_descriptor(params: CodecParameters, track_id: int) -> bytes:
    """The ES_Descriptor carrying the AudioSpecificConfig (bit rates left 0: unknown)."""
    decoder_config = b"".join(
        (
            u8(_AUDIO_ISO_14496_3),
            u8(_AUDIO_STREAM),
            bytes(3),  # bufferSizeDB
            u32(0) + u32(0),  # maxBitrate, avgBitrate
            _descriptor(_DECODER_SPECIFIC, params.extradata),
        )
    )
    payload = u16(track_id) + u8(0) + _descriptor(_DECODER_CONFIG, decoder_config)
    return _descriptor(_ES_DESCRIPTOR, payload + _descriptor(_SL_CONFIG, u8(2)))


def _descriptor(tag: int, payload: bytes) -> bytes:
    """A descriptor with its size in the 4-byte expandable form (as FFmpeg writes it)."""
    size = len(payload)
    length = bytes(0x80 | ((size >> shift) & 0x7F) for shift in (21, 14, 7)) + u8(size & 0x7F)
    return u8(tag) + length + payload
