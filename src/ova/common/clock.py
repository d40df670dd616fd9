"""Time as a dependency: services take a ``Clock`` so tests can move time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def isoformat(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix, as ARM writes times."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
