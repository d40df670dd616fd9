"""Time-range rules of archive playback, as the original documented them.

- No range: the newest four hours, live while recording continues.
- Start only: allowed when the result spans at most 24 h. End only: an error.
- Both: video on demand, at most 24 h, start before end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ova.common.errors import ValidationFailed

HOUR_MS = 3_600_000
DEFAULT_WINDOW_MS = 4 * HOUR_MS
MAX_WINDOW_MS = 24 * HOUR_MS
MANIFEST = re.compile(r"^manifest\((?P<args>[^()]*)\)(?P<suffix>\.m3u8|\.mpd)?$")
FORMATS = {"m3u8-cmaf", "m3u8-aapl", "mpd-time-cmaf"}


@dataclass(frozen=True)
class ManifestRequest:
    format: str
    start_ms: int | None
    end_ms: int | None


def parse_time(value: str, name: str) -> int:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            f"{name} must be an ISO 8601 date and time, e.g. 2021-12-21T08:00:00Z."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def parse_manifest(segment: str) -> ManifestRequest:
    """Parse ``manifest(format=…,starttime=…,endtime=…)[.m3u8|.mpd]`` (keys in any case)."""
    match = MANIFEST.fullmatch(segment)
    if match is None or len(segment) > 256:
        raise ValidationFailed(
            "Manifest URLs look like manifest(format=m3u8-cmaf[,starttime=…,endtime=…]).m3u8."
        )
    fields: dict[str, str] = {}
    for part in filter(None, match.group("args").split(",")):
        key, sep, value = part.partition("=")
        if not sep or key.strip().lower() in fields:
            raise ValidationFailed(f"Malformed manifest argument '{part[:40]}'.")
        fields[key.strip().lower()] = value.strip()
    unknown = set(fields) - {"format", "starttime", "endtime"}
    if unknown:
        raise ValidationFailed(f"Unknown manifest argument '{sorted(unknown)[0][:40]}'.")
    fmt = fields.get("format", "")
    if fmt not in FORMATS:
        raise ValidationFailed(f"format must be one of {', '.join(sorted(FORMATS))}.")
    suffix = match.group("suffix")
    if suffix and (suffix == ".mpd") != fmt.startswith("mpd"):
        raise ValidationFailed(f"The suffix {suffix} does not match format={fmt}.")
    start = parse_time(fields["starttime"], "starttime") if "starttime" in fields else None
    end = parse_time(fields["endtime"], "endtime") if "endtime" in fields else None
    return ManifestRequest(format=fmt, start_ms=start, end_ms=end)


@dataclass(frozen=True)
class Window:
    start_ms: int
    end_ms: int
    open_ended: bool


def resolve_window(start_ms: int | None, end_ms: int | None, newest_end_ms: int) -> Window:
    """The window a request asks for; ``open_ended`` windows may play live."""
    if start_ms is None and end_ms is not None:
        raise ValidationFailed("endtime needs a starttime.")
    if start_ms is None:
        return Window(newest_end_ms - DEFAULT_WINDOW_MS, newest_end_ms, open_ended=True)
    if end_ms is None:
        if newest_end_ms - start_ms > MAX_WINDOW_MS:
            raise ValidationFailed(
                "From starttime to the newest media is more than 24 hours; add an endtime."
            )
        return Window(start_ms, max(newest_end_ms, start_ms), open_ended=True)
    if end_ms <= start_ms:
        raise ValidationFailed("endtime must be after starttime.")
    if end_ms - start_ms > MAX_WINDOW_MS:
        raise ValidationFailed("A manifest spans at most 24 hours.")
    return Window(start_ms, end_ms, open_ended=False)
