"""The pure parts of a recording plan: camera URLs with credentials, segment lengths."""

from __future__ import annotations

import pytest

from ova.recording.plan import duration_ms, with_credentials


@pytest.mark.parametrize(
    ("url", "username", "password", "expected"),
    [
        ("rtsp://cam:554/stream", "admin", "pw", "rtsp://admin:pw@cam:554/stream"),
        ("rtsp://cam/stream?x=1", "admin", None, "rtsp://admin@cam/stream?x=1"),
        ("rtsp://cam/stream", None, "pw", "rtsp://cam/stream"),
        ("rtsp://cam/stream", "", "pw", "rtsp://cam/stream"),
        ("rtsp://old:secret@cam:8554/s", "new", "pw", "rtsp://new:pw@cam:8554/s"),
        ("rtsp://cam/s", "a@b:c", "p@ss:w/rd?#", "rtsp://a%40b%3Ac:p%40ss%3Aw%2Frd%3F%23@cam/s"),
        ("rtsp://[::1]:8554/cam", "admin", "pw", "rtsp://admin:pw@[::1]:8554/cam"),
        ("rtsp://[fe80::1]/cam", "admin", None, "rtsp://admin@[fe80::1]/cam"),
    ],
)
def test_credentials_go_into_the_url_percent_encoded(
    url: str, username: str | None, password: str | None, expected: str
) -> None:
    assert with_credentials(url, username, password) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PT30S", 30_000),
        ("PT1M", 60_000),
        ("PT1M30S", 90_000),
        ("PT5M", 300_000),
        ("PT4S", 4_000),
        ("", 30_000),
        ("PT", 30_000),
        ("P1D", 30_000),
        ("PT1H", 30_000),
        ("30", 30_000),
    ],
)
def test_segment_lengths_are_iso_durations_with_a_default(value: str, expected: int) -> None:
    assert duration_ms(value) == expected
    assert duration_ms("nonsense", default_ms=6000) == 6000
