"""``availableMedia``: which times of a video hold media, at year, month, day or full precision.

As the original: values are ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or full ISO 8601 with
milliseconds and ``Z``, all UTC; spans are capped (month ≤ 12 months, day ≤ 31 days,
full ≤ 25 h) and start/end are optional only for ``year``. Gaps split the ranges.

Full precision reads the segments of the window; year, month and day precision read only the
per-day coverage (``coverage``), a row per day with media, whatever the span.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.domain import coverage, segment_index
from ova.cloud.domain.segment_index import StoredSegment
from ova.common.errors import ValidationFailed
from ova.media.timeline import GAP_TOLERANCE_MS

PRECISIONS = ("year", "month", "day", "full")
MAX_SPAN = {"month": timedelta(days=366), "day": timedelta(days=31), "full": timedelta(hours=25)}
FORMATS = {
    "year": (re.compile(r"^\d{4}$"), "%Y"),
    "month": (re.compile(r"^\d{4}-\d{2}$"), "%Y-%m"),
    "day": (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
}
FAR_PAST, FAR_FUTURE = datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Query:
    precision: str
    start: datetime
    end: datetime  # exclusive


def parse_bound(value: str, precision: str, name: str) -> datetime:
    if precision == "full":
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed(
                f"{name} must be a full ISO 8601 time such as 2021-12-21T08:00:00.000Z."
            ) from None
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    pattern, fmt = FORMATS[precision]
    shape = fmt.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")
    try:
        if not pattern.fullmatch(value):
            raise ValueError(value)
        return datetime.strptime(value, fmt).replace(tzinfo=UTC)
    except ValueError:  # the wrong shape, or no such date (month 13, year 0)
        raise ValidationFailed(f"{name} must be a valid date shaped {shape}.") from None


def parse_query(precision: str | None, start: str | None, end: str | None) -> Query:
    if precision not in PRECISIONS:
        raise ValidationFailed("precision must be one of year, month, day, full.", target="precision")
    if precision != "year" and (start is None or end is None):
        raise ValidationFailed("startTime and endTime are required unless precision=year.")
    lower = parse_bound(start, precision, "startTime") if start else FAR_PAST
    last = parse_bound(end, precision, "endTime") if end else None
    upper = FAR_FUTURE if last is None else period_end(last, precision)
    if upper <= lower:
        raise ValidationFailed("endTime must not be before startTime.")
    # The span lies between the two values as written: 2021-01 to 2022-01 is 12 months.
    if last is not None and precision in MAX_SPAN and last - lower > MAX_SPAN[precision]:
        raise ValidationFailed(f"The span is too long for precision={precision}.")
    return Query(precision, lower, upper)


def period_end(moment: datetime, precision: str) -> datetime:
    """Where the period starting at ``moment`` ends (``moment`` itself at full precision)."""
    try:
        return next_period(moment, precision)
    except (ValueError, OverflowError):  # the period after one in year 9999
        return datetime.max.replace(tzinfo=UTC)


def next_period(moment: datetime, precision: str) -> datetime:
    if precision == "year":
        return moment.replace(year=moment.year + 1)
    if precision == "month":
        return moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)
    if precision == "day":
        return moment + timedelta(days=1)
    return moment


def period_start(moment: datetime, precision: str) -> datetime:
    if precision == "year":
        return moment.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if precision == "month":
        return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def continuous(segments: Sequence[StoredSegment]) -> Iterator[tuple[int, int]]:
    """Merged ``[start, end)`` spans of media, split at gaps."""
    span: list[int] | None = None
    for segment in segments:
        end = segment.start_ms + segment.duration_ms
        if span and not segment.gap_before and segment.start_ms - span[1] <= GAP_TOLERANCE_MS:
            span[1] = max(span[1], end)
            continue
        if span:
            yield span[0], span[1]
        span = [segment.start_ms, end]
    if span:
        yield span[0], span[1]


def iso_ms(epoch_ms: int) -> str:
    return (
        datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def periods(spans: Iterator[tuple[int, int]], precision: str) -> list[dict[str, str]]:
    """Consecutive periods (years, months, days) touched by media, as inclusive label ranges."""
    _, fmt = FORMATS[precision]
    ranges: list[list[datetime]] = []
    for start_ms, end_ms in spans:
        first = period_start(datetime.fromtimestamp(start_ms / 1000, tz=UTC), precision)
        last = period_start(datetime.fromtimestamp((end_ms - 1) / 1000, tz=UTC), precision)
        if ranges and next_period(ranges[-1][1], precision) >= first:
            ranges[-1][1] = max(ranges[-1][1], last)
        else:
            ranges.append([first, last])
    return [{"start": a.strftime(fmt), "end": b.strftime(fmt)} for a, b in ranges]


async def available_media(
    session: AsyncSession, video_id: str, query: Query
) -> dict[str, list[dict[str, str]]]:
    start_ms = int(max(query.start, FAR_PAST).timestamp() * 1000)
    end_ms = int(min(query.end, FAR_FUTURE).timestamp() * 1000)
    if query.precision != "full":
        days = await coverage.days_with_media(session, video_id, start_ms, end_ms)
        touched = ((max(day, start_ms), min(day + coverage.DAY_MS, end_ms)) for day in days)
        return {"timeRanges": periods(touched, query.precision)}
    segments = await segment_index.window(session, video_id, start_ms, end_ms)
    spans = ((max(a, start_ms), min(b, end_ms)) for a, b in continuous(segments))
    return {"timeRanges": [{"start": iso_ms(a), "end": iso_ms(b)} for a, b in spans]}
