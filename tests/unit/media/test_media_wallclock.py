"""WallClockMapper: media time placed on UTC, redrawn when the source's clock misbehaves."""

from __future__ import annotations

from fractions import Fraction

from ova.media.wallclock import ClockAnchor, WallClockMapper


class FakeClock:
    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


def test_the_first_sample_anchors_and_later_ones_follow_media_time() -> None:
    clock = FakeClock(1_000_000)
    mapper = WallClockMapper(clock)
    first = mapper.place("video", Fraction(50))
    clock.now_ms += 7_000  # reading late changes nothing: media time rules
    later = mapper.place("video", Fraction(52))
    assert first.reanchored is None and later.reanchored is None
    assert later.anchor == first.anchor == ClockAnchor(1_000_000, Fraction(50), 0)
    assert later.anchor.wall_time_ms(Fraction(52)) == 1_002_000


def test_timestamps_going_back_redraw_the_anchor() -> None:
    clock = FakeClock(1_000_000)
    mapper = WallClockMapper(clock)
    mapper.place("video", Fraction(50))
    clock.now_ms = 1_000_100
    placement = mapper.place("video", Fraction(1))
    assert placement.reanchored is not None and "back" in placement.reanchored
    assert placement.anchor == ClockAnchor(1_000_100, Fraction(1), 1)


def test_a_forward_jump_beyond_the_threshold_redraws_the_anchor() -> None:
    mapper = WallClockMapper(FakeClock(0), jump_ms=5_000)
    mapper.place("video", Fraction(0))
    assert mapper.place("video", Fraction(4)).reanchored is None
    jumped = mapper.place("video", Fraction(10))
    assert jumped.reanchored is not None and "forward" in jumped.reanchored
    assert jumped.anchor.epoch == 1


def test_audio_follows_the_video_anchor_and_never_redraws_it() -> None:
    mapper = WallClockMapper(FakeClock(0))
    video = mapper.place("video", Fraction(10))
    audio = mapper.follow("audio", Fraction(9))  # audio a bit behind video is not a jump
    assert audio.reanchored is None and audio.anchor is video.anchor
    jumped = mapper.follow("audio", Fraction(100))
    assert jumped.reanchored is not None and jumped.anchor is video.anchor
    assert mapper.place("video", Fraction(10, 1) + Fraction(1, 30)).anchor is video.anchor


def test_drift_from_the_wall_clock_redraws_the_anchor() -> None:
    clock = FakeClock(0)
    mapper = WallClockMapper(clock, max_drift_ms=30_000)
    mapper.place("video", Fraction(0))
    clock.now_ms = 100_000
    drifted = mapper.place("video", Fraction(1))
    assert drifted.reanchored is not None and "drifted" in drifted.reanchored
    assert drifted.anchor.wall_ms == 100_000


def test_drift_is_ignored_when_disabled() -> None:
    clock = FakeClock(0)
    mapper = WallClockMapper(clock, max_drift_ms=None)
    mapper.place("video", Fraction(0))
    clock.now_ms = 10**9
    assert mapper.place("video", Fraction(1)).reanchored is None


def test_a_restart_starts_a_new_epoch_on_the_next_sample() -> None:
    clock = FakeClock(0)
    mapper = WallClockMapper(clock)
    mapper.place("video", Fraction(0))
    mapper.restart()
    clock.now_ms = 5_000
    placement = mapper.place("video", Fraction(0))
    assert placement.reanchored == "the source was reconnected"
    assert placement.anchor == ClockAnchor(5_000, Fraction(0), 1)
    assert mapper.place("video", Fraction(1, 30)).reanchored is None


def test_media_that_runs_ahead_of_the_wall_clock_is_re_anchored_and_never_maps_into_the_future() -> None:
    """Frames that arrive slower than their timestamps (1.5 media s per wall s, issue 7 item 14)."""
    clock = FakeClock(1_000_000)
    mapper = WallClockMapper(clock, max_drift_ms=30_000, max_ahead_ms=1_000)
    ahead = 0
    for frame in range(300):
        clock.now_ms = 1_000_000 + frame * 100
        placement = mapper.place("video", Fraction(frame * 150, 1000))
        assert placement.anchor.wall_time(Fraction(frame * 150, 1000)) <= clock.now_ms + 1_000
        ahead += placement.ahead
    assert ahead >= 10


def test_without_the_ahead_bound_the_same_source_maps_into_the_future() -> None:
    clock = FakeClock(1_000_000)
    mapper = WallClockMapper(clock, max_drift_ms=30_000)
    for frame in range(300):
        clock.now_ms = 1_000_000 + frame * 100
        placement = mapper.place("video", Fraction(frame * 150, 1000))
    assert placement.reanchored is None
    assert placement.anchor.wall_time(Fraction(299 * 150, 1000)) - clock.now_ms == 299 * 50


def test_a_sender_report_puts_a_new_anchor_on_the_camera_clock_only_when_it_is_not_ahead() -> None:
    clock = FakeClock(1_000_000)
    mapper = WallClockMapper(clock)
    mapper.refer(Fraction(10), 999_700)  # the camera drew media time 10 s at 999.7 s
    assert mapper.place("video", Fraction(10)).anchor.wall_ms == 999_700
    ahead = WallClockMapper(clock)
    ahead.refer(Fraction(10), 1_000_500)  # a camera clock in the future is not believed
    assert ahead.place("video", Fraction(10)).anchor.wall_ms == 1_000_000
    stale = WallClockMapper(clock)
    stale.refer(Fraction(10), 900_000)  # nor one further behind than jump_ms
    assert stale.place("video", Fraction(10)).anchor.wall_ms == 1_000_000
