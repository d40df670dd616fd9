"""The picture: the wall-clock stamp survives compression and scaling; the object is where
``object_box`` says."""

from __future__ import annotations

import io

import av
import numpy as np
import pytest
from PIL import Image

from ova.camera.pattern import (
    WHITE,
    Picture,
    crc8,
    draw_stamp,
    object_box,
    object_rect,
    read_stamp,
    stamp_bits,
)

STAMP = 1_795_675_041_008


def rgb_of(frame: np.ndarray) -> np.ndarray:
    return av.VideoFrame.from_ndarray(frame, format="yuv420p").to_ndarray(format="rgb24")


def jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())))


@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080), (640, 360), (160, 96)])
def test_stamp_round_trips_through_rgb(width: int, height: int) -> None:
    frame = Picture(width, height).draw(3, STAMP)
    assert read_stamp(rgb_of(frame)) == STAMP
    assert read_stamp(frame[:height]) == STAMP


@pytest.mark.parametrize("value", [0, 1, 2**63 + 12345, 2**64 - 1])
def test_stamp_holds_any_64_bit_value(value: int) -> None:
    luma = np.full((96, 640), 90, np.uint8)
    draw_stamp(luma, value)
    assert read_stamp(luma) == value


def test_stamp_survives_heavy_jpeg_and_noise() -> None:
    rgb = rgb_of(Picture(1280, 720).draw(0, STAMP))
    assert read_stamp(jpeg(rgb, quality=10)) == STAMP
    noise = np.random.default_rng(1).normal(0, 25, rgb.shape)
    noisy = np.clip(rgb + noise, 0, 255).astype(np.uint8)
    assert read_stamp(jpeg(noisy, quality=30)) == STAMP


def test_stamp_survives_scaling_to_an_odd_width() -> None:
    rgb = rgb_of(Picture(1920, 1080).draw(0, STAMP))
    small = np.asarray(Image.fromarray(rgb).resize((416, 234), Image.Resampling.BILINEAR))
    assert read_stamp(small) == STAMP


def test_frames_without_a_stamp_read_as_none() -> None:
    assert read_stamp(np.full((720, 1280, 3), 128, np.uint8)) is None
    assert read_stamp(np.random.default_rng(2).integers(0, 256, (720, 1280, 3), np.uint8)) is None
    assert read_stamp(np.zeros((10, 50), np.uint8)) is None


def test_a_flipped_bit_fails_the_crc() -> None:
    luma = np.full((96, 640), 90, np.uint8)
    draw_stamp(luma, STAMP)
    cell = 640 // 80
    column = (3 + 40) * cell + cell // 2
    luma[:cell, column - 2 : column + 2] = 255 - luma[:cell, column - 2 : column + 2]
    assert read_stamp(luma) is None


def test_stamp_layout_is_references_value_and_crc() -> None:
    bits = stamp_bits(0x0102030405060708)
    assert len(bits) == 74 and bits[:2] == [1, 0]
    assert crc8(bytes(range(1, 9))) == int("".join(map(str, bits[66:])), 2)
    with pytest.raises(ValueError):
        stamp_bits(-1)


@pytest.mark.parametrize("t", [0.0, 1.3, 5.5, 1_795_675_041.008, 1_795_675_044.9])
def test_object_is_drawn_where_object_box_says(t: float) -> None:
    width, height = 1280, 720
    luma = rgb_of(Picture(width, height).draw(0, round(t * 1000))).mean(axis=2)
    left, top, box_width, box_height = object_box(round(t * 1000) / 1000, width, height)
    x0, y0 = round(left * width), round(top * height)
    x1, y1 = x0 + round(box_width * width), y0 + round(box_height * height)
    inside = luma[y0:y1, x0:x1]
    outside = luma.copy()
    outside[y0:y1, x0:x1] = np.nan
    assert inside.mean() > 240
    assert np.nanmean(outside[40:]) < 140


def test_object_moves_and_stays_inside_the_frame_below_the_band() -> None:
    boxes = [object_rect(t / 10, 1280, 720) for t in range(0, 600)]
    assert len(set(boxes)) > 100
    for left, top, width, height in boxes:
        assert left >= 0 and top > 16 and left + width <= 1280 and top + height <= 720
        assert width == height == 86


def test_object_pixels_are_white_in_the_luma_plane() -> None:
    picture = Picture(640, 360, noise=0)
    frame = picture.draw(0, 2_000)
    left, top, width, height = object_rect(2.0, 640, 360)
    assert (frame[top : top + height, left : left + width] == WHITE).all()


def test_picture_rejects_odd_sizes() -> None:
    with pytest.raises(ValueError):
        Picture(641, 360)
