"""Temporary bans for flapping clients (security matrix M6).

Every CONNECT is counted under its client id, its username and its peer's IP address over a
sliding minute. A key over its limit is banned for ``ban_seconds``; while any of a CONNECT's keys
is banned the gateway refuses it without asking the identity registry. Memory is bounded: at
most ``max_keys`` keys are tracked, least recently seen first out.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW_SECONDS = 60.0
MAX_KEY_LENGTH = 128
"""Longer client ids and usernames are tracked by their SHA-256, so each key costs little memory."""


@dataclass
class _Track:
    times: deque[float] = field(default_factory=deque)
    banned_until: float = 0.0


class FloodGuard:
    """Counts CONNECTs per key; ``admit`` says whether one may go on."""

    def __init__(
        self,
        *,
        per_minute: int,
        ip_per_minute: int,
        ban_seconds: float,
        max_keys: int,
        clock: Callable[[], float],
    ) -> None:
        self._limits = {"id": per_minute, "user": per_minute, "ip": ip_per_minute}
        self._ban_seconds = ban_seconds
        self._max_keys = max_keys
        self._clock = clock
        self._tracks: OrderedDict[tuple[str, str], _Track] = OrderedDict()
        self.bans = 0
        """Bans imposed so far."""

    def __len__(self) -> int:
        return len(self._tracks)

    def admit(self, client_id: str, username: str, ip: str) -> bool:
        """Count one CONNECT; False when a key is (or becomes) banned."""
        now = self._clock()
        admitted = True
        for kind, value in (("id", client_id), ("user", username), ("ip", ip)):
            if len(value) > MAX_KEY_LENGTH:
                value = hashlib.sha256(value.encode(errors="replace")).hexdigest()
            admitted &= self._count((kind, value), self._limits[kind], now)
        return admitted

    def _count(self, key: tuple[str, str], limit: int, now: float) -> bool:
        track = self._tracks.pop(key, None) or _Track()
        self._tracks[key] = track
        while len(self._tracks) > self._max_keys:
            self._tracks.popitem(last=False)
        if track.banned_until > now:
            return False
        while track.times and track.times[0] <= now - WINDOW_SECONDS:
            track.times.popleft()
        track.times.append(now)
        if len(track.times) > limit:
            track.times.clear()
            track.banned_until = now + self._ban_seconds
            self.bans += 1
            return False
        return True
