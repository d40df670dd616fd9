"""BitrateMeter: a sustained rate over the limit (with tolerance), judged over a full window."""

from __future__ import annotations

from ova.recording.bitrate import TOLERANCE, WINDOW_MS, BitrateMeter


def feed(meter: BitrateMeter, kbps: float, from_ms: int, to_ms: int, step_ms: int = 100) -> None:
    """Packets every ``step_ms`` at ``kbps`` (1 kbit/s = 1 bit per ms = 1/8 byte per ms)."""
    for now in range(from_ms, to_ms, step_ms):
        meter.add(now, int(kbps * step_ms / 8))


def test_nothing_is_judged_before_a_full_window() -> None:
    meter = BitrateMeter(500)
    feed(meter, 10_000, 0, WINDOW_MS - 100)
    assert not meter.exceeded(WINDOW_MS - 100)
    assert meter.kbps(WINDOW_MS - 100) > 9000


def test_a_sustained_rate_over_the_limit_and_tolerance_is_exceeded() -> None:
    meter = BitrateMeter(500)
    feed(meter, 2000, 0, WINDOW_MS + 100)
    assert meter.exceeded(WINDOW_MS)
    assert 1900 < meter.kbps(WINDOW_MS) < 2100


def test_a_rate_within_the_tolerance_is_allowed() -> None:
    meter = BitrateMeter(1000)
    feed(meter, 1000 * TOLERANCE * 0.95, 0, 3 * WINDOW_MS)
    assert not meter.exceeded(3 * WINDOW_MS)
    feed(meter, 1000 * TOLERANCE * 1.2, 3 * WINDOW_MS, 5 * WINDOW_MS)
    assert meter.exceeded(5 * WINDOW_MS)


def test_the_window_slides_so_an_old_burst_is_forgotten() -> None:
    meter = BitrateMeter(500)
    feed(meter, 8000, 0, 2000)  # a two-second burst
    feed(meter, 100, 2000, 3 * WINDOW_MS)
    assert not meter.exceeded(3 * WINDOW_MS)
    assert meter.kbps(3 * WINDOW_MS) < 150


def test_no_limit_is_never_exceeded_and_reset_starts_over() -> None:
    unlimited = BitrateMeter(None)
    feed(unlimited, 50_000, 0, 2 * WINDOW_MS)
    assert not unlimited.exceeded(2 * WINDOW_MS)

    meter = BitrateMeter(500)
    feed(meter, 2000, 0, WINDOW_MS + 100)
    meter.reset()
    assert not meter.exceeded(WINDOW_MS + 100)
    feed(meter, 2000, WINDOW_MS + 100, WINDOW_MS + 5000)
    assert not meter.exceeded(WINDOW_MS + 5000)  # a new window has to fill first
    assert meter.kbps(WINDOW_MS + 5000) > 1900
