"""Manifest URLs and the time-range rules of archive playback (400 for every malformed request)."""

from __future__ import annotations

import pytest

from ova.cloud.domain.time_range import (
    DEFAULT_WINDOW_MS,
    HOUR_MS,
    MAX_WINDOW_MS,
    ManifestRequest,
    Window,
    parse_manifest,
    resolve_window,
)
from ova.common.errors import ValidationFailed

T0 = 1_640_073_600_000  # 2021-12-21T08:00:00.000Z
NEWEST = T0 + 2 * HOUR_MS


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("manifest(format=m3u8-cmaf)", ManifestRequest("m3u8-cmaf", None, None)),
        ("manifest(format=m3u8-cmaf).m3u8", ManifestRequest("m3u8-cmaf", None, None)),
        ("manifest(format=m3u8-aapl).m3u8", ManifestRequest("m3u8-aapl", None, None)),
        ("manifest(format=mpd-time-cmaf).mpd", ManifestRequest("mpd-time-cmaf", None, None)),
        (
            "manifest(format=mpd-time-cmaf,starttime=2021-12-21T08:00:00Z,endtime=2021-12-21T10:00:00Z).mpd",
            ManifestRequest("mpd-time-cmaf", T0, T0 + 2 * HOUR_MS),
        ),
        (
            "manifest(format=m3u8-cmaf,startTime=2021-12-21T08:00:00.250Z,EndTime=2021-12-21T08:00:01Z)",
            ManifestRequest("m3u8-cmaf", T0 + 250, T0 + 1000),
        ),
        ("manifest(format=m3u8-cmaf,starttime=2021-12-21T08:00:00)", ManifestRequest("m3u8-cmaf", T0, None)),
        (
            "manifest(format=m3u8-cmaf,starttime=2021-12-21T09:00:00+01:00)",
            ManifestRequest("m3u8-cmaf", T0, None),
        ),
        ("manifest(format=m3u8-cmaf,endtime=2021-12-21T08:00:00Z)", ManifestRequest("m3u8-cmaf", None, T0)),
    ],
)
def test_manifest_urls_parse_with_keys_in_any_case(resource: str, expected: ManifestRequest) -> None:
    assert parse_manifest(resource) == expected


@pytest.mark.parametrize(
    "resource",
    [
        "manifest",
        "manifest()",
        "manifest(format=hls)",
        "manifest(format=M3U8-CMAF)",
        "manifest(format=m3u8-cmaf).mpd",
        "manifest(format=mpd-time-cmaf).m3u8",
        "manifest(format=m3u8-cmaf).mp4",
        "manifest(format=m3u8-cmaf,format=m3u8-aapl)",
        "manifest(format=m3u8-cmaf,starttime)",
        "manifest(format=m3u8-cmaf,zoom=2)",
        "manifest(format=m3u8-cmaf,starttime=yesterday)",
        "manifest(format=m3u8-cmaf,starttime=)",
        "manifest(format=m3u8-cmaf,endtime=2021-13-01T00:00:00Z)",
        "manifest(format=m3u8-cmaf,starttime=2021-12-21T08:00:00Z" + "0" * 300 + ")",
        "manifest(format=(m3u8-cmaf))",
        "xmanifest(format=m3u8-cmaf)",
        "init(format=m3u8-cmaf)",
    ],
)
def test_malformed_manifest_urls_are_refused(resource: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_manifest(resource)


def test_no_range_is_the_newest_four_hours_and_may_be_live() -> None:
    assert resolve_window(None, None, NEWEST) == Window(NEWEST - DEFAULT_WINDOW_MS, NEWEST, open_ended=True)


def test_start_only_runs_to_the_newest_media_when_that_is_within_a_day() -> None:
    assert resolve_window(T0, None, NEWEST) == Window(T0, NEWEST, open_ended=True)
    assert resolve_window(NEWEST - MAX_WINDOW_MS, None, NEWEST) == Window(
        NEWEST - MAX_WINDOW_MS, NEWEST, open_ended=True
    )


def test_start_only_after_the_newest_media_is_an_empty_window() -> None:
    window = resolve_window(NEWEST + 1000, None, NEWEST)
    assert window.start_ms == window.end_ms == NEWEST + 1000


def test_start_only_more_than_a_day_before_the_newest_media_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="24 hours"):
        resolve_window(NEWEST - MAX_WINDOW_MS - 1, None, NEWEST)


def test_end_only_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="starttime"):
        resolve_window(None, T0, NEWEST)


def test_both_bounds_are_video_on_demand_up_to_a_day() -> None:
    assert resolve_window(T0, T0 + 1, NEWEST) == Window(T0, T0 + 1, open_ended=False)
    assert resolve_window(T0, T0 + MAX_WINDOW_MS, NEWEST) == Window(T0, T0 + MAX_WINDOW_MS, open_ended=False)
    assert resolve_window(T0 - 30 * MAX_WINDOW_MS, T0 - 29 * MAX_WINDOW_MS, NEWEST).open_ended is False


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (T0, T0, "after"),
        (T0, T0 - 1, "after"),
        (T0, T0 + MAX_WINDOW_MS + 1, "24 hours"),
        (T0, T0 + 7 * MAX_WINDOW_MS, "24 hours"),
    ],
)
def test_empty_reversed_and_over_long_ranges_are_refused(start: int, end: int, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        resolve_window(start, end, NEWEST)
