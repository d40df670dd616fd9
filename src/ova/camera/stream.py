"""What a mount streams: its tracks (one per SDP media section) and its media units.

A ``MediaUnit`` is one access unit of one track, already packetized (a ``PacketBurst``), with
its media-clock timestamp counted from 0 when the stream started; each client adds its own
random offset (RFC 3550 §5.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from ova.camera.encoder import EncodedFrame, VideoFormat
from ova.camera.h264 import ParameterSets
from ova.camera.interleaved import PacketBurst
from ova.camera.rtp import VIDEO_CLOCK_RATE, frame_timestamp
from ova.camera.rtp_h264 import PAYLOAD_TYPE, packetize_access_unit
from ova.camera.sdp import MediaDescription

VIDEO_TRACK = 0
AUDIO_TRACK = 1


@dataclass(frozen=True)
class Track:
    """One track of a mount: its SDP section and the length of one unit on its clock."""

    index: int
    clock_rate: int
    unit_duration: int
    media: MediaDescription


@dataclass(frozen=True)
class MediaUnit:
    """One access unit of one track, ready to send."""

    track: int
    keyframe: bool
    burst: PacketBurst
    timestamp: int
    stamp_ms: int


def video_track(video: VideoFormat, parameter_sets: ParameterSets) -> Track:
    """The H.264 track (RFC 6184 §8.2.1 SDP parameters)."""
    media = MediaDescription(
        media="video",
        payload_type=PAYLOAD_TYPE,
        rtpmap=f"H264/{VIDEO_CLOCK_RATE}",
        fmtp={
            "packetization-mode": "1",
            "profile-level-id": parameter_sets.profile_level_id,
            "sprop-parameter-sets": parameter_sets.sprop_parameter_sets,
        },
        control=f"trackID={VIDEO_TRACK}",
        attributes=(f"framerate:{video.fps}",),
    )
    return Track(VIDEO_TRACK, VIDEO_CLOCK_RATE, VIDEO_CLOCK_RATE // video.fps, media)


def video_burst(frame: EncodedFrame, mtu: int) -> PacketBurst:
    return PacketBurst.build(packetize_access_unit(frame.nals, mtu), PAYLOAD_TYPE)


def video_unit(frame: EncodedFrame, fps: int, mtu: int) -> MediaUnit:
    """An encoded frame as the video track's unit, timed by its frame index."""
    return MediaUnit(
        VIDEO_TRACK,
        frame.keyframe,
        video_burst(frame, mtu),
        frame_timestamp(frame.index, fps),
        frame.stamp_ms,
    )
