"""Audio placed on the video clock: from RTP-Info, from sender reports, or by arrival."""

from __future__ import annotations

import pytest

from ova.media.rtsp.handshake import rtp_info
from ova.media.rtsp.rtp import TimestampUnwrapper
from ova.media.rtsp.track_sync import TrackSync

VIDEO_RATE, AUDIO_RATE = 90_000, 48_000
URLS = {0: "rtsp://cam/stream/trackID=0", 2: "rtsp://cam/stream/trackID=1"}


def clocks(video_first: int, audio_first: int) -> tuple[TimestampUnwrapper, TimestampUnwrapper]:
    video, audio = TimestampUnwrapper(), TimestampUnwrapper()
    video.extend(video_first)
    audio.extend(audio_first)
    return video, audio


def test_rtp_info_puts_the_first_audio_sample_at_the_same_instant_as_the_video() -> None:
    # Playback starts at video 1,000,000 and audio 4,000,000,000 (random origins); the first
    # audio packet is 0.5 s after the start.
    video, audio = clocks(1_000_000 + 9000, 4_000_000_000 + 24_000)
    sync = TrackSync((VIDEO_RATE, AUDIO_RATE), (video.peek, audio.peek), (1_000_000, 4_000_000_000))
    first = audio.latest or 0
    placed = first + sync.shift(first, 0)
    assert placed / AUDIO_RATE == pytest.approx(1_000_000 / VIDEO_RATE + 0.5, abs=1 / AUDIO_RATE)
    assert sync.source == "rtp-info"


def test_rtp_info_across_the_32_bit_wrap() -> None:
    video, audio = clocks(500, 100)
    rtptimes = (0xFFFFFFFF - 8499, 0xFFFFFFFF - 47_899)
    sync = TrackSync((VIDEO_RATE, AUDIO_RATE), (video.peek, audio.peek), rtptimes)
    first = audio.latest or 0
    # The tracks started 9,000 and 48,000 units (0.1 s, 1 s) before their first packets.
    placed = (first + sync.shift(first, 0)) / AUDIO_RATE
    assert placed - 500 / VIDEO_RATE == pytest.approx(1.0 - 0.1, abs=1 / AUDIO_RATE)


def test_sender_reports_relate_the_tracks_when_rtp_info_is_missing() -> None:
    video, audio = clocks(90_000, 7_000)
    sync = TrackSync((VIDEO_RATE, AUDIO_RATE), (video.peek, audio.peek))
    sync.video_report(90_000, 1_700_000_000_000)
    sync.audio_report(7_000, 1_700_000_000_250)  # the audio sample was taken 250 ms later
    first = audio.latest or 0
    assert (first + sync.shift(first, 0)) / AUDIO_RATE == 1.25
    assert sync.source == "sender-reports"


def test_arrival_is_the_guess_until_sender_reports_arrive() -> None:
    video, audio = clocks(180_000, 3_000)
    sync = TrackSync((VIDEO_RATE, AUDIO_RATE), (video.peek, audio.peek))
    first = audio.latest or 0
    assert (first + sync.shift(first, newest_video=180_000)) / AUDIO_RATE == 2.0
    assert sync.source == "arrival"
    sync.video_report(180_000, 10_000)
    sync.audio_report(3_000, 10_040)
    assert (first + sync.shift(first, newest_video=0)) / AUDIO_RATE == 2.04
    assert sync.source == "sender-reports"


def test_rtp_info_entries_are_matched_to_tracks_by_url() -> None:
    value = "url=rtsp://cam/stream/trackID=0;seq=17;rtptime=123456, url=trackID=1;seq=9;rtptime=42"
    assert rtp_info(value, URLS) == {0: 123456, 2: 42}


def test_malformed_rtp_info_is_ignored() -> None:
    for value in ("", "garbage", "url=trackID=0;rtptime=-5", "url=trackID=0;rtptime=²", "url=;rtptime=1"):
        assert rtp_info(value, URLS) == {}
    assert rtp_info("url=trackID=0;rtptime=99999999999", URLS) == {}
    assert rtp_info(",".join(["url=x;rtptime=1"] * 10_000), URLS) == {}
