"""Does a media segment open with a picture a player can show?

The recorder never decodes the stream. It decodes one picture per segment: the keyframe the
segment opens with, read back from the bytes a player fetches (init segment + media segment),
as cheap as making a preview image. A segment whose keyframe does not decode into an intact
picture (a camera sending noise, a stream damaged on its way) is not worth storing: no player
could start it, and the index must never name media that cannot play.

The bytes come from a camera, so the decode is hostile input to FFmpeg: ``ova cloud`` and
``ova record`` run ``check_keyframe`` in a ``KeyframePool`` child process (``keyframe_pool``);
``InProcessKeyframeCheck`` is for tests and media the caller made itself.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

import av
import av.video

from ova.media.cmaf import InitSegment, MediaSegment
from ova.media.preview import PreviewImage, images_of

# Only the segmenter's own fMP4 is read, from memory: no probing, no protocol may be opened.
CONTAINER_FORMAT = "mp4"
CONTAINER_OPTIONS = {"protocol_whitelist": "none", "enable_drefs": "0"}


@dataclass(frozen=True)
class KeyframeVerdict:
    """What checking one segment found: why it does not play, or its preview images.

    ``checked`` is false when no check ran (the pool was busy): the segment is kept, unchecked
    and without previews. ``check_failed`` says the check itself crashed, timed out or ran
    out of a limit (``defect`` says which): the segment is treated as not playable.
    """

    defect: str | None = None
    images: tuple[PreviewImage, ...] = ()
    checked: bool = True
    check_failed: bool = False


UNCHECKED = KeyframeVerdict(checked=False)


def first_picture(init: InitSegment, segment: MediaSegment) -> av.video.VideoFrame | str:
    """The picture ``segment`` (played after ``init``) opens with, or why there is none.

    The same picture makes the segment's preview images, so a segment costs one decode.
    """
    source = io.BytesIO(init.data + segment.data)
    try:
        with av.open(source, "r", format=CONTAINER_FORMAT, options=CONTAINER_OPTIONS) as container:
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            packet = next(packet for packet in container.demux(stream) if packet.size)
            frames = stream.codec_context.decode(packet) + stream.codec_context.decode(None)
    except av.FFmpegError as error:
        return f"its first keyframe does not decode ({error.strerror or type(error).__name__})"
    except (IndexError, StopIteration):
        return "it holds no video sample"
    if not frames:
        return "its first keyframe decodes to no picture"
    if frames[0].is_corrupt:
        return "its first keyframe decodes to a damaged picture"
    return frames[0]


def check_keyframe(init: InitSegment, segment: MediaSegment, previews: bool) -> KeyframeVerdict:
    """Decode the opening keyframe and, when ``previews``, make its preview images."""
    found = first_picture(init, segment)
    if isinstance(found, str):
        return KeyframeVerdict(defect=found)
    return KeyframeVerdict(images=tuple(images_of(found)) if previews else ())


class InProcessKeyframeCheck:
    """``check_keyframe`` in a thread of this process: for tests and trusted media only."""

    async def check(self, init: InitSegment, segment: MediaSegment, previews: bool) -> KeyframeVerdict:
        return await asyncio.to_thread(check_keyframe, init, segment, previews)

    async def close(self) -> None:
        return None
