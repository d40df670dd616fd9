"""availableMedia's pure parts: query rules, precisions, spans, and how media merges into ranges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ova.cloud.domain.available_media import continuous, iso_ms, parse_query, periods
from ova.cloud.domain.segment_index import StoredSegment
from ova.common.errors import ValidationFailed


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def utc(year: int, month: int = 1, day: int = 1, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def stored(start_ms: int, duration_ms: int, gap: bool = False) -> StoredSegment:
    return StoredSegment(start_ms, duration_ms, 0, "b", 1, "s", "c", gap)


@pytest.mark.parametrize(
    ("precision", "start", "end", "lower", "upper"),
    [
        ("year", None, None, utc(1970, 1, 1), utc(9999, 1, 1)),
        ("year", "2021", None, utc(2021, 1, 1), utc(9999, 1, 1)),
        ("year", None, "2021", utc(1970, 1, 1), utc(2022, 1, 1)),
        ("year", "2020", "2021", utc(2020, 1, 1), utc(2022, 1, 1)),
        ("month", "2021-12", "2021-12", utc(2021, 12, 1), utc(2022, 1, 1)),
        ("month", "2021-01", "2022-01", utc(2021, 1, 1), utc(2022, 2, 1)),
        ("month", "2023-03", "2024-03", utc(2023, 3, 1), utc(2024, 4, 1)),
        ("day", "2021-12-31", "2021-12-31", utc(2021, 12, 31), utc(2022, 1, 1)),
        ("day", "2021-01-01", "2021-02-01", utc(2021, 1, 1), utc(2021, 2, 2)),
        ("full", "2021-12-21T08:00:00Z", "2021-12-21T08:00:00.001Z", utc(2021, 12, 21, 8), None),
        (
            "full",
            "2021-12-21T08:00:00.000Z",
            "2021-12-22T09:00:00.000Z",
            utc(2021, 12, 21, 8),
            utc(2021, 12, 22, 9),
        ),
    ],
)
def test_queries_cover_whole_periods_up_to_the_maximum_span(
    precision: str, start: str | None, end: str | None, lower: datetime, upper: datetime | None
) -> None:
    query = parse_query(precision, start, end)
    assert (query.precision, query.start) == (precision, lower)
    if upper is not None:
        assert query.end == upper


def test_the_last_possible_year_does_not_overflow() -> None:
    assert parse_query("year", None, "9999").end > utc(9999, 12, 31)
    assert parse_query("day", "9999-12-31", "9999-12-31").end > utc(9999, 12, 31)


@pytest.mark.parametrize(
    ("precision", "start", "end"),
    [
        (None, None, None),
        ("hour", None, None),
        ("YEAR", None, None),
        ("month", None, "2021-01"),
        ("month", "2021-01", None),
        ("day", "2021-01-01", None),
        ("full", None, "2021-01-01T00:00:00Z"),
        ("year", "21", None),
        ("year", "2021-01", None),
        ("year", "0000", None),
        ("month", "2021-1", "2021-02"),
        ("month", "2021-13", "2021-12"),
        ("month", "2021-00", "2021-12"),
        ("day", "2021-02-30", "2021-03-01"),
        ("day", "2021-01-01T00:00:00Z", "2021-01-02"),
        ("full", "yesterday", "2021-01-01T00:00:00Z"),
        ("year", "2021", "2020"),
        ("month", "2021-02", "2021-01"),
        ("day", "2021-01-02", "2021-01-01"),
        ("full", "2021-01-01T00:00:00Z", "2021-01-01T00:00:00Z"),
        ("full", "2021-01-01T00:00:01Z", "2021-01-01T00:00:00Z"),
    ],
)
def test_malformed_queries_are_refused(precision: str | None, start: str | None, end: str | None) -> None:
    with pytest.raises(ValidationFailed):
        parse_query(precision, start, end)


@pytest.mark.parametrize(
    ("precision", "start", "end"),
    [
        ("month", "2021-01", "2022-02"),
        ("month", "2020-01", "2021-12"),
        ("day", "2021-01-01", "2021-02-02"),
        ("day", "2021-01-01", "2021-12-31"),
        ("full", "2021-01-01T00:00:00.000Z", "2021-01-02T01:00:00.001Z"),
        ("full", "2021-01-01T00:00:00Z", "2021-01-02T23:00:00Z"),
    ],
)
def test_spans_beyond_the_maximum_are_refused(precision: str, start: str, end: str) -> None:
    with pytest.raises(ValidationFailed, match="too long"):
        parse_query(precision, start, end)


def test_contiguous_segments_merge_and_gaps_split() -> None:
    t0 = ms("2021-12-21T08:00:00Z")
    segments = [
        stored(t0, 6000),
        stored(t0 + 6000, 6000),
        stored(t0 + 12_300, 6000),  # jitter: still one span
        stored(t0 + 30_000, 6000),  # a hole
        stored(t0 + 36_000, 6000, gap=True),  # a recorded gap without a hole
    ]
    assert list(continuous(segments)) == [
        (t0, t0 + 18_300),
        (t0 + 30_000, t0 + 36_000),
        (t0 + 36_000, t0 + 42_000),
    ]
    assert list(continuous([])) == []


def test_full_precision_values_are_utc_with_milliseconds() -> None:
    assert iso_ms(ms("2021-12-21T08:00:00.007Z")) == "2021-12-21T08:00:00.007Z"
    assert iso_ms(0) == "1970-01-01T00:00:00.000Z"


def test_periods_touched_by_media_merge_when_consecutive() -> None:
    spans = [
        (ms("2021-12-31T23:00:00Z"), ms("2022-01-01T01:00:00Z")),  # crosses a year, a month and a day
        (ms("2022-01-03T10:00:00Z"), ms("2022-01-03T11:00:00Z")),
        (ms("2022-03-01T00:00:00Z"), ms("2022-03-02T00:00:00Z")),  # ends exactly at midnight
    ]
    assert periods(iter(spans), "year") == [{"start": "2021", "end": "2022"}]
    assert periods(iter(spans), "month") == [
        {"start": "2021-12", "end": "2022-01"},
        {"start": "2022-03", "end": "2022-03"},
    ]
    assert periods(iter(spans), "day") == [
        {"start": "2021-12-31", "end": "2022-01-01"},
        {"start": "2022-01-03", "end": "2022-01-03"},
        {"start": "2022-03-01", "end": "2022-03-01"},
    ]
