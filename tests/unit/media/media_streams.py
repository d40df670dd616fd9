"""Reading generated streams back as the demuxer would hand them over."""

from __future__ import annotations

from pathlib import Path

import av

from ova.media.access_units import DemuxedPacket
from ova.media.codec import CodecParameters, video_parameters
from ova.media.nal import parameter_sets, split_annexb


def demux_units(path: Path) -> list[DemuxedPacket]:
    """The video packets of an MPEG-TS file, as the demuxer hands them over."""
    with av.open(str(path)) as container:
        return [
            DemuxedPacket(bytes(packet), packet.pts, packet.dts, packet.is_keyframe)
            for packet in container.demux(video=0)
            if packet.size
        ]


def config_of(codec: str, unit: DemuxedPacket) -> CodecParameters:
    return video_parameters(codec, parameter_sets(codec, split_annexb(unit.data)))
