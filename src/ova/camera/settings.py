"""Configuration of ``ova camera``: one model, built once by the CLI and passed down."""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ova.camera.audio import AudioFormat
from ova.camera.encoder import VideoFormat
from ova.camera.loop_source import LoopKey
from ova.camera.rtsp_message import RtspLimits

MOUNT_NAME = r"^[A-Za-z0-9_.-]{1,64}$"


class CameraSettings(BaseModel):
    """Everything ``ova camera`` can be told; every field has a safe default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8554, ge=0, le=65535, description="TCP port to listen on; 0 picks a free one.")
    mounts: tuple[str, ...] = Field(
        ("cam",), min_length=1, max_length=256, description="Paths served, e.g. cam -> rtsp://host:port/cam."
    )
    width: int = Field(1280, ge=160, le=3840, multiple_of=2, description="Frame width in pixels.")
    height: int = Field(720, ge=96, le=2160, multiple_of=2, description="Frame height in pixels.")
    fps: int = Field(30, ge=1, le=60, description="Frames per second.")
    bitrate_kbps: int = Field(2000, ge=50, le=50_000, description="Target video bitrate (kbit/s).")
    gop: int | None = Field(None, ge=1, le=600, description="Frames per GOP (IDR interval); default: fps.")
    noise: int = Field(4, ge=0, le=40, description="Amplitude of the background's sensor-like noise.")
    audio: bool = Field(False, description="Add an audio track (a 1 kHz beep each second).")
    audio_codec: Literal["aac", "pcmu", "pcma"] = Field(
        "aac", description="Codec of the audio track: AAC-LC 48 kHz, or G.711 µ-law/A-law 8 kHz."
    )
    username: str | None = Field(None, description="Require RTSP authentication with this user.")
    password: str | None = Field(None, description="Password for username (never logged).", repr=False)
    auth_scheme: Literal["any", "basic", "digest"] = Field("any", description="Accepted auth schemes.")
    loop_seconds: float | None = Field(
        None, gt=0, le=600, description="Pre-encode this many seconds once and replay them (benchmarks)."
    )
    mtu: int = Field(1400, ge=200, le=9000, description="Largest RTP packet, header included (bytes).")
    session_timeout_s: int = Field(60, ge=1, le=3600, description="Idle time after which a client is cut.")
    request_timeout_s: float = Field(10.0, gt=0, le=120, description="Time allowed to send one request.")
    max_connections: int = Field(256, ge=1, le=10_000, description="Simultaneous RTSP connections.")
    client_buffer_bytes: int = Field(
        1 << 20, ge=65_536, description="Per-client send backlog before it drops to the next keyframe."
    )
    send_buffer_bytes: int = Field(
        262_144, ge=16_384, le=16 << 20, description="Kernel send buffer per client (SO_SNDBUF)."
    )
    ready_timeout_s: float = Field(60.0, gt=0, description="How long DESCRIBE waits for a mount's stream.")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if len(set(self.mounts)) != len(self.mounts):
            raise ValueError("mount names must be unique")
        for name in self.mounts:
            if not _valid_mount(name):
                raise ValueError(f"invalid mount name {name!r}: use letters, digits, '_', '.', '-'")
        return self

    @property
    def video(self) -> VideoFormat:
        return VideoFormat(
            self.width, self.height, self.fps, self.bitrate_kbps, self.gop or self.fps, self.noise
        )

    @property
    def audio_format(self) -> AudioFormat | None:
        return AudioFormat.of(self.audio_codec) if self.audio else None

    @property
    def loop_key(self) -> LoopKey | None:
        if self.loop_seconds is None:
            return None
        return LoopKey(self.video, self.loop_seconds, self.mtu, self.audio_format)

    @property
    def limits(self) -> RtspLimits:
        return RtspLimits()


def _valid_mount(name: str) -> bool:
    return re.match(MOUNT_NAME, name) is not None and name not in (".", "..")


def mount_names(count: int) -> tuple[str, ...]:
    """``cam``, ``cam2``, … ``camN``: the names ``--mounts N`` serves."""
    return tuple("cam" if index == 1 else f"cam{index}" for index in range(1, count + 1))
