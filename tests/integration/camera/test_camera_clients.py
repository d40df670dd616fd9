"""``ova camera`` as ffprobe and PyAV see it: the same way they see a real IP camera."""

from __future__ import annotations

import itertools
import json
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field

import av
import numpy as np
from camera_process import CameraProcess

from ova.camera.pattern import object_rect, read_stamp

OPTIONS = {"rtsp_transport": "tcp", "timeout": "5000000"}


def ffprobe(url: str) -> subprocess.CompletedProcess[str]:
    command = ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_streams", "-of", "json", url]
    return subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)


def test_ffprobe_sees_h264_1280x720_at_30_fps(camera: CameraProcess) -> None:
    result = ffprobe(camera.url)
    assert result.returncode == 0, result.stderr
    (stream,) = json.loads(result.stdout)["streams"]
    assert (stream["codec_name"], stream["profile"]) == ("h264", "Constrained Baseline")
    assert (stream["width"], stream["height"]) == (1280, 720)
    assert stream["r_frame_rate"] == "30/1"
    assert stream["avg_frame_rate"] == "30/1"


def test_pyav_decodes_live_frames_stamped_with_the_wall_clock(camera: CameraProcess) -> None:
    pts, lags, frame_rgb = [], [], None
    with av.open(camera.urls[1], options=OPTIONS, timeout=(10, 10)) as container:
        for frame in container.decode(video=0):
            assert (frame.width, frame.height) == (1280, 720)
            frame_rgb = frame.to_ndarray(format="rgb24")
            stamp = read_stamp(frame_rgb)
            assert stamp is not None
            lags.append(time.time() * 1000 - stamp)
            if frame.pts is not None:
                pts.append(frame.pts)
            if len(lags) >= 75:
                break
    assert all(later > earlier for earlier, later in itertools.pairwise(pts))
    assert len(pts) >= 60
    assert max(lags[-15:]) < 500, lags[-15:]  # past the probe burst: real time
    assert min(lags) > -50  # no stamp from the future
    left, top, width, height = object_rect(stamp / 1000, 1280, 720)
    luma = frame_rgb.mean(axis=2)
    inside = luma[top : top + height, left : left + width].mean()
    mask = np.ones(luma.shape, bool)
    mask[top : top + height, left : left + width] = False
    mask[:20] = False
    assert inside > 230 and luma[mask].mean() < 130


@dataclass
class Reader:
    url: str
    times: list[float] = field(default_factory=list)
    error: BaseException | None = None

    def run(self, seconds: float) -> None:
        try:
            with av.open(self.url, options=OPTIONS, timeout=(10, 10)) as container:
                started = time.monotonic()
                for packet in container.demux(video=0):
                    if packet.size:
                        self.times.append(time.monotonic())
                    if time.monotonic() - started > seconds:
                        return
        except BaseException as exc:  # reported by the test
            self.error = exc

    def rate(self, skip: float) -> float:
        """Packets per second after the first ``skip`` seconds (the probe burst)."""
        start = self.times[0] + skip
        kept = [t for t in self.times if t >= start]
        return (len(kept) - 1) / (kept[-1] - kept[0])


def rtsp_request(sock: socket.socket, cseq: int, method: str, uri: str, *headers: str) -> str:
    lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {cseq}", *headers]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    reply = sock.recv(65536).decode("latin-1")
    assert reply.startswith("RTSP/1.0 200"), reply
    return reply


def abrupt_client(url: str) -> None:
    """PLAY over a raw socket, take a little data, then reset the connection."""
    host, port = url.removeprefix("rtsp://").split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        rtsp_request(sock, 1, "DESCRIBE", url)
        setup = rtsp_request(sock, 2, "SETUP", f"{url}/trackID=0", "Transport: RTP/AVP/TCP;interleaved=0-1")
        session = setup.split("Session: ")[1].split(";")[0]
        rtsp_request(sock, 3, "PLAY", f"{url}/", f"Session: {session}")
        sock.recv(65536)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_eight_clients_on_two_mounts_get_real_time_frames(camera: CameraProcess) -> None:
    readers = [Reader(camera.urls[index % 2]) for index in range(8)]
    threads = [threading.Thread(target=reader.run, args=(4.0,)) for reader in readers]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    abrupt_client(camera.url)
    for thread in threads:
        thread.join(30)
    assert [reader.error for reader in readers] == [None] * 8
    rates = [reader.rate(skip=1.5) for reader in readers]
    assert min(rates) > 26, rates
    assert max(rates) < 34, rates
    assert ffprobe(camera.url).returncode == 0


def test_credentials_are_required(auth_camera: CameraProcess) -> None:
    refused = ffprobe(auth_camera.url)
    assert refused.returncode != 0
    assert "401" in refused.stderr
    wrong = ffprobe(auth_camera.url.replace("rtsp://", "rtsp://admin:nope@"))
    assert wrong.returncode != 0
    accepted = ffprobe(auth_camera.url.replace("rtsp://", "rtsp://admin:s3cret@"))
    assert accepted.returncode == 0, accepted.stderr
    streams = json.loads(accepted.stdout)["streams"]
    assert [(s["codec_name"], s.get("width"), s.get("sample_rate")) for s in streams] == [
        ("h264", 640, None),
        ("aac", None, "48000"),
    ]


def test_loop_mode_streams_continuously_across_passes(loop_camera: CameraProcess) -> None:
    dts, keyframes, times = [], 0, []
    with av.open(loop_camera.urls[1], options=OPTIONS, timeout=(10, 10)) as container:
        started = time.monotonic()
        for packet in container.demux(video=0):
            if packet.dts is not None:
                dts.append(packet.dts)
                keyframes += packet.is_keyframe
                times.append(time.monotonic())
            if time.monotonic() - started > 3.0:
                break
    assert all(later > earlier for earlier, later in itertools.pairwise(dts))
    assert dts[-1] - dts[0] > 1.5 * 90_000  # more than one 1 s pass
    assert keyframes >= 5  # every 15 frames
    late = [t for t in times if t > times[0] + 1.5]
    assert 26 < (len(late) - 1) / (late[-1] - late[0]) < 34
