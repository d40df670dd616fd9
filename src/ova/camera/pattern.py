"""The simulated camera's picture: a background, a wall-clock stamp band and a moving object.

**Stamp band.** The capture time, a 64-bit count of UTC milliseconds since the Unix epoch, is
drawn across the top of every frame as a row of square cells, black or white. The layout is
proportional to the frame width, so a scaled copy of the frame still reads:

- cell size ``c = width / 80`` pixels (16 px at 1280, 24 px at 1920), band height ``c``
  from the top edge;
- cell ``i`` spans ``x = (3 + i) * c`` to ``(4 + i) * c``, for ``i`` in ``0..73``;
- cells 0 and 1 are references, white then black; cells 2..65 are the 64 bits of the stamp,
  most significant first (white = 1); cells 66..73 are a CRC-8 (polynomial 0x07, initial 0)
  of the stamp's 8 big-endian bytes.

``read_stamp`` samples the middle half of each cell, thresholds halfway between the two
references and returns ``None`` when the references lack contrast or the CRC fails.

**Moving object.** A white square whose side is 12 % of the frame height; its centre moves
on a Lissajous path driven by the wall-clock time ``t`` in seconds (``x`` period 7 s,
``y`` period 4.3 s). ``object_box(t, width, height)`` gives the box drawn at ``t`` in
normalized coordinates; for any decoded frame use ``object_box(read_stamp(frame) / 1000, ...)``.

Frames are drawn straight into yuv420p planes with numpy (no colour conversion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

Plane = npt.NDArray[np.uint8]

CELLS_PER_WIDTH = 80
FIRST_CELL = 3
STAMP_BITS = 64
CRC_BITS = 8
STAMP_CELLS = 2 + STAMP_BITS + CRC_BITS
BLACK = 16
WHITE = 235
OBJECT_SIDE = 0.12
NOISE_FRAMES = 8
MIN_CONTRAST = 48


def crc8(data: bytes) -> int:
    """CRC-8 with polynomial 0x07 and initial value 0 (the stamp's check bits)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def stamp_bits(value: int) -> list[int]:
    """The 74 cells of a stamp: references, 64 value bits, 8 CRC bits (1 = white)."""
    if not 0 <= value < 1 << STAMP_BITS:
        raise ValueError("a stamp is an unsigned 64-bit value")
    crc = crc8(value.to_bytes(8, "big"))
    bits = [(value >> (STAMP_BITS - 1 - i)) & 1 for i in range(STAMP_BITS)]
    return [1, 0, *bits, *[(crc >> (CRC_BITS - 1 - i)) & 1 for i in range(CRC_BITS)]]


def _cell_span(index: int, cell: float) -> tuple[int, int]:
    return round((FIRST_CELL + index) * cell), round((FIRST_CELL + index + 1) * cell)


def draw_stamp(luma: Plane, value: int) -> None:
    """Draw ``value`` into the stamp band of a luma plane (limited-range black and white)."""
    cell = luma.shape[1] / CELLS_PER_WIDTH
    band = max(1, round(cell))
    luma[:band, :] = (BLACK + WHITE) // 2
    for index, bit in enumerate(stamp_bits(value)):
        left, right = _cell_span(index, cell)
        luma[:band, left:right] = WHITE if bit else BLACK


def _luma_of(frame: npt.NDArray[np.generic]) -> npt.NDArray[np.float64]:
    if frame.ndim == 3:
        luma: npt.NDArray[np.float64] = np.asarray(frame[..., :3], dtype=np.float64).mean(axis=2)
        return luma
    if frame.ndim == 2:
        return np.asarray(frame, dtype=np.float64)
    raise ValueError("expected an (H, W) or (H, W, 3) image")


def _cell_levels(luma: npt.NDArray[np.float64]) -> list[float]:
    cell = luma.shape[1] / CELLS_PER_WIDTH
    top, bottom = round(cell / 4), max(round(cell * 3 / 4), round(cell / 4) + 1)
    levels = []
    for index in range(STAMP_CELLS):
        left, right = _cell_span(index, cell)
        inset = (right - left) // 4
        levels.append(float(luma[top:bottom, left + inset : max(right - inset, left + inset + 1)].mean()))
    return levels


def read_stamp(frame: npt.NDArray[np.generic]) -> int | None:
    """The UTC milliseconds stamped on a frame (RGB ``(H, W, 3)`` or luma ``(H, W)``), or ``None``."""
    if frame.ndim < 2 or frame.shape[1] < CELLS_PER_WIDTH * 2 or frame.shape[0] < 4:
        return None
    luma = _luma_of(frame[: math.ceil(frame.shape[1] / CELLS_PER_WIDTH) + 1])
    levels = _cell_levels(luma)
    white, black = levels[0], levels[1]
    if white - black < MIN_CONTRAST:
        return None
    threshold = (white + black) / 2
    bits = [1 if level > threshold else 0 for level in levels[2:]]
    value = int("".join(map(str, bits[:STAMP_BITS])), 2)
    crc = int("".join(map(str, bits[STAMP_BITS:])), 2)
    return value if crc8(value.to_bytes(8, "big")) == crc else None


def object_rect(t: float, width: int, height: int) -> tuple[int, int, int, int]:
    """The moving object's box at time ``t`` (seconds) in pixels: left, top, width, height."""
    side = 2 * round(OBJECT_SIDE * height / 2)
    centre_x = 0.5 + 0.35 * math.sin(2 * math.pi * (t % 7.0) / 7.0)
    centre_y = 0.55 + 0.28 * math.sin(2 * math.pi * (t % 4.3) / 4.3)
    left = 2 * round((centre_x * width - side / 2) / 2)
    top = 2 * round((centre_y * height - side / 2) / 2)
    left = min(max(left, 0), width - side)
    top = min(max(top, 0), height - side)
    return left, top, side, side


def object_box(t: float, width: int, height: int) -> tuple[float, float, float, float]:
    """The moving object's box at time ``t`` (seconds), normalized 0-1: left, top, width, height."""
    left, top, box_width, box_height = object_rect(t, width, height)
    return left / width, top / height, box_width / width, box_height / height


@dataclass(frozen=True)
class Picture:
    """Draws frames of one size as flat yuv420p arrays of shape ``(height * 3 // 2, width)``."""

    width: int
    height: int
    noise: int = 4

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or self.width < 160 or self.height < 96:
            raise ValueError("width and height must be even, at least 160x96")

    @cached_property
    def _backgrounds(self) -> list[Plane]:
        """``NOISE_FRAMES`` full yuv420p backgrounds with sensor-like noise, cycled frame by frame."""
        w, h = self.width, self.height
        ys, xs = np.ogrid[0:h, 0:w]
        luma = (40 + 42 * xs / w + 28 * ys / h + 12 * ((xs // 64 + ys // 64) % 2)).astype(np.int16)
        cy, cx = np.ogrid[0 : h // 2, 0 : w // 2]
        u = 128 + 24 * np.cos(2 * np.pi * cx / (w / 2)) + 0 * cy
        v = 128 + 24 * np.sin(2 * np.pi * cy / (h / 2)) + 0 * cx
        chroma = np.concatenate([u.ravel(), v.ravel()]).astype(np.uint8)
        rng = np.random.default_rng(7)
        frames = []
        for _ in range(NOISE_FRAMES):
            noise = rng.integers(-self.noise, self.noise + 1, size=luma.shape, dtype=np.int16)
            noisy = np.clip(luma + noise, 0, 255).astype(np.uint8)
            frames.append(np.concatenate([noisy.ravel(), chroma]).reshape(h * 3 // 2, w))
        return frames

    def draw(self, index: int, stamp_ms: int) -> Plane:
        """Frame number ``index`` captured at ``stamp_ms`` (UTC milliseconds)."""
        w, h = self.width, self.height
        frame = self._backgrounds[index % NOISE_FRAMES].copy()
        luma = frame[:h]
        left, top, side, _ = object_rect(stamp_ms / 1000, w, h)
        luma[top : top + side, left : left + side] = WHITE
        _grey_chroma(frame, w, h, (top, top + side), (left, left + side))
        draw_stamp(luma, stamp_ms)
        _grey_chroma(frame, w, h, (0, max(1, round(w / CELLS_PER_WIDTH)) + 1), (0, w))
        return frame


def _grey_chroma(frame: Plane, width: int, height: int, rows: tuple[int, int], cols: tuple[int, int]) -> None:
    """Set the chroma of a luma-pixel rectangle to neutral, so it shows pure greys."""
    flat = frame.reshape(-1)
    quarter = (width // 2) * (height // 2)
    for start in (width * height, width * height + quarter):
        plane = flat[start : start + quarter].reshape(height // 2, width // 2)
        plane[rows[0] // 2 : (rows[1] + 1) // 2, cols[0] // 2 : (cols[1] + 1) // 2] = 128
