"""The original's ``bitrateKbps`` rule: a camera sending more than allowed is disconnected."""

from __future__ import annotations

from collections import deque

# A camera may burst; only a sustained excess over this window (and tolerance) counts.
WINDOW_MS = 10_000
TOLERANCE = 1.25


class BitrateMeter:
    """Bytes received over a sliding window, judged against a limit in kbit/s."""

    def __init__(self, limit_kbps: int | None, window_ms: int = WINDOW_MS) -> None:
        self._limit, self._window = limit_kbps, window_ms
        self._samples: deque[tuple[int, int]] = deque()
        self._bytes = 0
        self._first_ms: int | None = None

    def add(self, now_ms: int, size: int) -> None:
        self._first_ms = now_ms if self._first_ms is None else self._first_ms
        self._samples.append((now_ms, size))
        self._bytes += size
        while self._samples and self._samples[0][0] <= now_ms - self._window:
            self._bytes -= self._samples.popleft()[1]

    def kbps(self, now_ms: int) -> float:
        first = now_ms if self._first_ms is None else self._first_ms  # 0 is a valid time
        span = min(self._window, max(1, now_ms - first))
        return self._bytes * 8 / span

    def exceeded(self, now_ms: int) -> bool:
        """True once a full window has been seen and its rate is over the limit (with tolerance)."""
        if self._limit is None or self._first_ms is None or now_ms - self._first_ms < self._window:
            return False
        return self.kbps(now_ms) > self._limit * TOLERANCE

    def reset(self) -> None:
        self._samples.clear()
        self._bytes, self._first_ms = 0, None
