"""Who may use an account's client API: cached access policies and per-account rate limits.

Policies are read from the store at most every ``policy_cache_seconds`` (5 s or less) per
account and replica, so a changed or deleted policy takes effect everywhere within that
time. Rate limits are counted per replica in fixed windows, as documented.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ova.auth.customer_jwt import MAX_LIFETIME, AccessPolicySet
from ova.cloud.db.models import ResourceRow
from ova.common.errors import TooManyRequests

MAX_CACHED_ACCOUNTS = 10_000
Monotonic = Callable[[], float]


class RateLimited(TooManyRequests):
    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many requests for this account; retry later.", code="TooManyRequests")
        self.headers["Retry-After"] = str(retry_after)


@dataclass
class _Cached:
    loaded_at: float
    policies: AccessPolicySet


class PolicyCache:
    def __init__(
        self,
        ttl_seconds: float,
        monotonic: Monotonic = time.monotonic,
        max_lifetime: timedelta = MAX_LIFETIME,
    ) -> None:
        self._ttl, self._monotonic, self._max_lifetime = ttl_seconds, monotonic, max_lifetime
        self._entries: OrderedDict[str, _Cached] = OrderedDict()

    async def policies(self, session: AsyncSession, account_id: str) -> AccessPolicySet:
        now = self._monotonic()
        cached = self._entries.get(account_id)
        if cached is not None and now - cached.loaded_at < self._ttl:
            self._entries.move_to_end(account_id)
            return cached.policies
        statement = select(ResourceRow.name, ResourceRow.document).where(
            ResourceRow.account_id == account_id, ResourceRow.kind == "accessPolicies"
        )
        rows = (await session.execute(statement)).all()
        policies = AccessPolicySet(
            ((name, document.get("properties", {})) for name, document in rows),
            max_lifetime=self._max_lifetime,
        )
        self._entries[account_id] = _Cached(loaded_at=now, policies=policies)
        self._entries.move_to_end(account_id)
        while len(self._entries) > MAX_CACHED_ACCOUNTS:
            self._entries.popitem(last=False)
        return policies


class RateLimiter:
    """At most ``limit`` requests per ``window_seconds`` per key (fixed windows)."""

    def __init__(self, limit: int, window_seconds: float, monotonic: Monotonic = time.monotonic) -> None:
        self._limit, self._window, self._monotonic = limit, window_seconds, monotonic
        self._windows: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def _used(self, key: str) -> tuple[float, int, int]:
        now = self._monotonic()
        window = int(now // self._window)
        current, used = self._windows.get(key, (window, 0))
        return now, window, used if current == window else 0

    def retry_after(self, key: str) -> int | None:
        """Seconds until ``key`` may go on when it has used up this window, else None."""
        now, window, used = self._used(key)
        if used < self._limit:
            return None
        return max(1, int((window + 1) * self._window - now + 0.999))

    def check(self, key: str) -> None:
        """Raise ``RateLimited`` when ``key`` has used up this window, without counting."""
        retry_after = self.retry_after(key)
        if retry_after is not None:
            raise RateLimited(retry_after=retry_after)

    def record(self, key: str) -> None:
        """Count one request of ``key``."""
        _, window, used = self._used(key)
        self._windows[key] = (window, used + 1)
        self._windows.move_to_end(key)
        while len(self._windows) > MAX_CACHED_ACCOUNTS:
            self._windows.popitem(last=False)

    def hit(self, key: str) -> None:
        """``check`` then ``record``."""
        self.check(key)
        self.record(key)
