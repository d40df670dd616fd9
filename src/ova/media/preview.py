"""Preview images from one keyframe: decode only that access unit, scale, encode JPEG.

Video Analyzer's preview sizes are 320x180, 640x360 and 1280x720 for a 1080p source. Each
image here fits its box with the source's aspect ratio kept and is never larger than the
source. Decoding blocks for tens of milliseconds at 1080p, and a camera's keyframe is hostile
input to the decoder: the services' recorders run these in a limited child process
(``ova.recording.keyframe_pool``), never on the event loop or in the service's own process.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import av.video
from PIL import Image

from ova.media.codec import CodecParameters
from ova.media.errors import InvalidMedia

PREVIEW_SIZES: dict[str, tuple[int, int]] = {
    "small": (320, 180),
    "medium": (640, 360),
    "large": (1280, 720),
}


@dataclass(frozen=True)
class PreviewImage:
    name: str
    width: int
    height: int
    jpeg: bytes


def fit_size(source: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """The largest size inside ``box`` with ``source``'s aspect ratio, never above ``source``."""
    width, height = source
    scale = min(box[0] / width, box[1] / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def decode_keyframe(access_unit: bytes, codec: CodecParameters) -> av.video.VideoFrame:
    """The picture of one keyframe (Annex B access unit), decoded on its own."""
    context = av.CodecContext.create(codec.codec, "r")
    assert isinstance(context, av.VideoCodecContext)
    context.extradata = codec.annexb_extradata
    try:
        frames = context.decode(av.Packet(access_unit)) + context.decode(None)
    except av.FFmpegError as error:
        raise InvalidMedia(f"the keyframe could not be decoded ({error.strerror})") from None
    if not frames:
        raise InvalidMedia("the access unit did not decode to a picture")
    return frames[0]


def preview_images(access_unit: bytes, codec: CodecParameters, *, quality: int = 80) -> list[PreviewImage]:
    """``small``, ``medium`` and ``large`` JPEGs of a keyframe."""
    return images_of(decode_keyframe(access_unit, codec), quality=quality)


def images_of(frame: av.video.VideoFrame, *, quality: int = 80) -> list[PreviewImage]:
    """``small``, ``medium`` and ``large`` JPEGs of a decoded picture."""
    images = []
    for name, box in PREVIEW_SIZES.items():
        width, height = fit_size((frame.width, frame.height), box)
        scaled = frame.reformat(width=width, height=height, format="rgb24", interpolation="AREA")
        buffer = io.BytesIO()
        image: Image.Image = scaled.to_image()  # type: ignore[no-untyped-call]
        image.save(buffer, format="JPEG", quality=quality)
        images.append(PreviewImage(name, width, height, buffer.getvalue()))
    return images
