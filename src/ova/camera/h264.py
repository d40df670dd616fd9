"""H.264 NAL units (ITU-T H.264 §7.3.1 and Annex B byte streams) as the RTP payloader needs them."""

from __future__ import annotations

import base64
from dataclasses import dataclass

NAL_SLICE = 1
NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
START_CODE = b"\x00\x00\x01"


def nal_type(nal: bytes) -> int:
    """``nal_unit_type``, the low five bits of the NAL header byte."""
    return nal[0] & 0x1F


def split_annexb(stream: bytes) -> list[bytes]:
    """The NAL units of an Annex B byte stream, without start codes or trailing zero bytes."""
    nals = []
    position = stream.find(START_CODE)
    while position >= 0:
        start = position + len(START_CODE)
        following = stream.find(START_CODE, start)
        end = len(stream) if following < 0 else following
        nal = stream[start:end].rstrip(b"\x00")
        if nal:
            nals.append(nal)
        position = following
    return nals


def join_annexb(nals: list[bytes] | tuple[bytes, ...]) -> bytes:
    """An Annex B byte stream of ``nals`` with four-byte start codes."""
    return b"".join(b"\x00" + START_CODE + nal for nal in nals)


@dataclass(frozen=True)
class ParameterSets:
    """The sequence and picture parameter sets of a stream, as the SDP carries them (RFC 6184 §8.1)."""

    sps: bytes
    pps: bytes

    @property
    def profile_level_id(self) -> str:
        """``profile_idc``, the constraint flags and ``level_idc`` as six hex digits (e.g. ``42C01F``)."""
        return self.sps[1:4].hex().upper()

    @property
    def sprop_parameter_sets(self) -> str:
        """Base64 SPS and PPS, comma separated."""
        return ",".join(base64.b64encode(nal).decode("ascii") for nal in (self.sps, self.pps))


def find_parameter_sets(nals: list[bytes] | tuple[bytes, ...]) -> ParameterSets | None:
    """The SPS and PPS among ``nals``, if both are there."""
    sps = next((nal for nal in nals if nal_type(nal) == NAL_SPS), None)
    pps = next((nal for nal in nals if nal_type(nal) == NAL_PPS), None)
    return ParameterSets(sps, pps) if sps is not None and pps is not None else None


def stream_nals(nals: list[bytes], parameter_sets: ParameterSets) -> tuple[bytes, ...]:
    """An access unit as streamed: no AUD or SEI, and SPS+PPS in front of every IDR picture."""
    kept = [nal for nal in nals if nal_type(nal) not in (NAL_AUD, NAL_SEI)]
    if any(nal_type(nal) == NAL_IDR for nal in kept):
        kept = [nal for nal in kept if nal_type(nal) not in (NAL_SPS, NAL_PPS)]
        kept = [parameter_sets.sps, parameter_sets.pps, *kept]
    return tuple(kept)
