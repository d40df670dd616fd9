"""Preview images: one keyframe decoded, three JPEG sizes, aspect ratio kept, never upscaled."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from media_streams import config_of, demux_units
from PIL import Image

from ova.media.errors import InvalidMedia
from ova.media.preview import fit_size, preview_images
from ova.media.synthetic import StreamSpec, write_stream


def sizes_for(path: Path, codec: str) -> dict[str, tuple[int, int]]:
    keyframe = demux_units(path)[0]
    images = preview_images(keyframe.data, config_of(codec, keyframe))
    result = {}
    for image in images:
        with Image.open(io.BytesIO(image.jpeg)) as decoded:
            assert decoded.format == "JPEG"
            assert decoded.size == (image.width, image.height)
        result[image.name] = decoded.size
    return result


def test_a_1080p_keyframe_gives_video_analyzer_sizes(media_dir: Path) -> None:
    path = write_stream(media_dir / "1080.ts", StreamSpec(width=1920, height=1080, frames=1))
    assert sizes_for(path, "h264") == {"small": (320, 180), "medium": (640, 360), "large": (1280, 720)}


def test_a_small_source_is_never_upscaled(media_dir: Path) -> None:
    path = write_stream(media_dir / "hevc360.ts", StreamSpec(codec="hevc", width=640, height=360, frames=1))
    assert sizes_for(path, "hevc") == {"small": (320, 180), "medium": (640, 360), "large": (640, 360)}


@pytest.mark.parametrize(
    ("source", "box", "expected"),
    [
        ((1440, 1080), (320, 180), (240, 180)),
        ((1080, 1920), (1280, 720), (405, 720)),
        ((1920, 1080), (640, 360), (640, 360)),
        ((100, 50), (640, 360), (100, 50)),
    ],
)
def test_sizes_fit_the_box_with_the_aspect_ratio_kept(
    source: tuple[int, int], box: tuple[int, int], expected: tuple[int, int]
) -> None:
    assert fit_size(source, box) == expected


def test_an_access_unit_that_is_not_a_picture_is_refused(media_dir: Path) -> None:
    keyframe = demux_units(write_stream(media_dir / "one.ts", StreamSpec(frames=1)))[0]
    with pytest.raises(InvalidMedia):
        preview_images(b"\x00\x00\x01\x09\xf0", config_of("h264", keyframe))
