"""Does a media segment open with a picture a player can show?

The recorder never decodes the stream. It decodes one picture per segment: the keyframe the
segment opens with, read back from the bytes a player fetches (init segment + media segment),
as cheap as making a preview image. A segment whose keyframe does not decode into an intact
picture (a camera sending noise, a stream damaged on its way) is not worth storing: no player
could start it, and the index must never name media that cannot play.
"""

from __future__ import annotations

import io

import av
import av.video

from ova.media.cmaf import InitSegment, MediaSegment


def first_picture(init: InitSegment, segment: MediaSegment) -> av.video.VideoFrame | str:
    """The picture ``segment`` (played after ``init``) opens with, or why there is none.

    The same picture makes the segment's preview images, so a segment costs one decode.
    """
    try:
        with av.open(io.BytesIO(init.data + segment.data), "r") as container:
            stream = container.streams.video[0]
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
