"""Where a video's media lives in blob storage: one container per video, names that never collide.

Both recorders write this layout (the cloud's straight into the store, the edge's through a
container SAS) and the streaming family reads it back:

- ``video-<id without dashes>``: the container of one video.
- ``init/<config-hash>.mp4``: one init segment per codec configuration.
- ``segments/YYYY/MM/DD/HH/<start-ms>-<sequence>.m4s``: media segments; the sequence keeps
  rising across restarts (``recording.sequences``), so even a clock that jumps back never
  produces a name twice.
- ``preview/<at-ms>/{small,medium,large}.jpg``: a new name per refresh, the video remembers
  the newest.
"""

from __future__ import annotations

from datetime import UTC, datetime

MP4 = "video/mp4"
M4S = "video/iso.segment"
JPEG = "image/jpeg"
PREVIEW_SIZES = ("small", "medium", "large")


def container_name(video_id: str) -> str:
    """The blob container holding one video's media."""
    return f"video-{video_id.replace('-', '')}"


def init_blob_name(config_hash: str) -> str:
    return f"init/{config_hash}.mp4"


def segment_blob_name(start_ms: int, sequence: int) -> str:
    moment = datetime.fromtimestamp(start_ms / 1000, tz=UTC)
    return f"segments/{moment:%Y/%m/%d/%H}/{start_ms}-{sequence}.m4s"


def preview_blob_name(at_ms: int, size: str) -> str:
    return f"preview/{at_ms}/{size}.jpg"
