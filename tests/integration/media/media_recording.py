"""Record a source through RtspIngest + CmafSegmenter, lay the result out, and ask ffmpeg about it."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ova.media.cmaf import CmafSegmenter, InitSegment, MediaSegment, Segment, SegmenterSettings
from ova.media.ingest_events import IngestEvent
from ova.media.ingest_settings import IngestSettings
from ova.media.packet import IngestPacket
from ova.media.rtsp_ingest import RtspIngest
from ova.media.wallclock import system_time_ms

FILE_SOURCE = IngestSettings(max_drift_ms=None, keep_final_access_unit=True, local_file=True)
"""A complete file, read faster than real time: no drift check, and its last frame is whole."""


@dataclass
class Recording:
    ingest: RtspIngest
    segmenter: CmafSegmenter
    inits: dict[str, InitSegment] = field(default_factory=dict)
    segments: list[MediaSegment] = field(default_factory=list)
    events: list[IngestEvent] = field(default_factory=list)
    packets: list[IngestPacket] = field(default_factory=list)

    def take(self, produced: list[Segment]) -> None:
        for item in produced:
            if isinstance(item, InitSegment):
                self.inits[item.config_hash] = item
            else:
                self.segments.append(item)


async def record(
    url: str,
    ingest_settings: IngestSettings = FILE_SOURCE,
    segmenter_settings: SegmenterSettings | None = None,
    *,
    video_packets: int | None = None,
    now_ms: Callable[[], int] = system_time_ms,
) -> Recording:
    """One ingest session of ``url`` segmented to the end (or to ``video_packets`` packets)."""
    ingest = RtspIngest(url, ingest_settings, now_ms=now_ms)
    result = Recording(ingest, CmafSegmenter(segmenter_settings))
    async with contextlib.aclosing(result.ingest.session()) as items:
        async for item in items:
            if not isinstance(item, IngestPacket):
                result.events.append(item)
                continue
            result.packets.append(item)
            result.take(result.segmenter.push(item))
            video = [p for p in result.packets if p.kind == "video"]
            if video_packets is not None and len(video) >= video_packets:
                break
    result.take(result.segmenter.flush())
    return result


def write_archive(directory: Path, recording: Recording) -> list[Path]:
    """The storage layout: ``init/<hash>.mp4`` and ``segments/<start-ms>-<seq>.m4s``; returns segments."""
    (directory / "init").mkdir(parents=True, exist_ok=True)
    (directory / "segments").mkdir(exist_ok=True)
    for init in recording.inits.values():
        (directory / "init" / f"{init.config_hash}.mp4").write_bytes(init.data)
    paths = []
    for segment in recording.segments:
        path = directory / "segments" / f"{segment.start_ms}-{segment.sequence}.m4s"
        path.write_bytes(segment.data)
        paths.append(path)
    return paths


def joined(directory: Path, recording: Recording, segment: MediaSegment) -> Path:
    """A playable file: the segment's init segment followed by the segment."""
    path = directory / f"joined-{segment.sequence}.mp4"
    path.write_bytes(recording.inits[segment.config_hash].data + segment.data)
    return path


def write_hls(directory: Path, recording: Recording) -> Path:
    """A VOD media playlist (RFC 8216, version 7) over the archive written by ``write_archive``."""
    write_archive(directory, recording)
    target = max(segment.duration_ms for segment in recording.segments) // 1000 + 1
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", f"#EXT-X-TARGETDURATION:{target}", "#EXT-X-PLAYLIST-TYPE:VOD"]
    previous: MediaSegment | None = None
    for segment in recording.segments:
        if previous is not None and (segment.gap_before or segment.config_hash != previous.config_hash):
            lines.append("#EXT-X-DISCONTINUITY")
        if previous is None or segment.config_hash != previous.config_hash:
            lines.append(f'#EXT-X-MAP:URI="init/{segment.config_hash}.mp4"')
        moment = datetime.fromtimestamp(segment.start_ms / 1000, UTC).isoformat(timespec="milliseconds")
        lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{moment.replace('+00:00', 'Z')}")
        lines.append(f"#EXTINF:{segment.duration_ms / 1000:.3f},")
        lines.append(f"segments/{segment.start_ms}-{segment.sequence}.m4s")
        previous = segment
    lines.append("#EXT-X-ENDLIST")
    playlist = directory / "index.m3u8"
    playlist.write_text("\n".join(lines) + "\n")
    return playlist


def _run(command: list[str], *, check: bool) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=check)


def decode_errors(path: Path) -> str:
    """What ``ffmpeg -v error`` says while decoding every frame of ``path`` (empty: clean)."""
    result = _run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"], check=False)
    return result.stderr.strip() + ("" if result.returncode == 0 else f" (exit {result.returncode})")


def decoded_frames(path: Path) -> int:
    """How many frames ffmpeg decodes from ``path`` (a file or a playlist), none dropped for timing."""
    output = ["-map", "0:v", "-fps_mode", "passthrough", "-f", "framecrc", "-"]
    result = _run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), *output], check=True)
    return sum(1 for line in result.stdout.splitlines() if line and not line.startswith("#"))


def frame_times(path: Path) -> list[float]:
    """Presentation times (seconds) of the frames ffprobe reads from ``path``, in order."""
    entries = ["-select_streams", "v:0", "-show_entries", "frame=pts_time", "-of", "csv=p=0"]
    result = _run(["ffprobe", "-v", "error", *entries, str(path)], check=True)
    return [float(line.strip().rstrip(",")) for line in result.stdout.splitlines() if line.strip()]
