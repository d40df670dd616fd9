"""Per-account rate limits and the access-policy cache of the client family, on a fake clock."""

from __future__ import annotations

from typing import Any

import pytest

from ova.cloud.domain import client_access
from ova.cloud.domain.client_access import PolicyCache, RateLimited, RateLimiter
from support.customer_issuer import CustomerIssuer


class FakeMonotonic:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeSession:
    """Answers the cache's one query from ``policies[account_id]`` and counts the queries."""

    def __init__(self) -> None:
        self.policies: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.loads: list[str] = []

    async def execute(self, statement: Any) -> FakeSession._Result:
        params = statement.compile().params
        account_id = next(value for key, value in params.items() if key.startswith("account_id"))
        assert "accessPolicies" in params.values()
        self.loads.append(account_id)
        return self._Result(self.policies.get(account_id, []))

    class _Result:
        def __init__(self, rows: list[tuple[str, dict[str, Any]]]) -> None:
            self._rows = rows

        def all(self) -> list[tuple[str, dict[str, Any]]]:
            return list(self._rows)


@pytest.fixture(scope="module")
def policy() -> dict[str, Any]:
    return CustomerIssuer.generate("contoso").policy(algorithms=["ES256"])


# --- RateLimiter -------------------------------------------------------------------------------


def hits_allowed(limiter: RateLimiter, key: str, attempts: int) -> int:
    allowed = 0
    for _ in range(attempts):
        try:
            limiter.hit(key)
        except RateLimited:
            continue
        allowed += 1
    return allowed


def test_the_limit_holds_within_a_window_and_resets_with_the_next() -> None:
    clock = FakeMonotonic(1000.0)
    limiter = RateLimiter(5, 10, monotonic=clock)
    assert hits_allowed(limiter, "a", 8) == 5
    clock.now = 1009.99
    assert hits_allowed(limiter, "a", 1) == 0
    clock.now = 1010.0
    assert hits_allowed(limiter, "a", 8) == 5


def test_accounts_are_limited_separately() -> None:
    limiter = RateLimiter(2, 10, monotonic=FakeMonotonic())
    assert hits_allowed(limiter, "a", 5) == 2
    assert hits_allowed(limiter, "b", 5) == 2


@pytest.mark.parametrize(
    ("now", "retry_after"), [(1000.0, "10"), (1000.5, "10"), (1005.0, "5"), (1009.2, "1"), (1009.999, "1")]
)
def test_429_says_when_the_window_ends_in_whole_seconds(now: float, retry_after: str) -> None:
    clock = FakeMonotonic(now)
    limiter = RateLimiter(1, 10, monotonic=clock)
    limiter.hit("a")
    with pytest.raises(RateLimited) as caught:
        limiter.hit("a")
    assert (caught.value.status, caught.value.code) == (429, "TooManyRequests")
    assert caught.value.headers == {"Retry-After": retry_after}


def test_the_counters_are_bounded_forgetting_the_least_recent_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(client_access, "MAX_CACHED_ACCOUNTS", 2)
    limiter = RateLimiter(1, 10, monotonic=FakeMonotonic())
    for key in ("a", "b", "c"):
        limiter.hit(key)
    assert hits_allowed(limiter, "c", 1) == 0
    assert hits_allowed(limiter, "a", 1) == 1  # "a" was forgotten when "c" arrived


# --- PolicyCache -------------------------------------------------------------------------------


async def test_policies_are_reloaded_once_the_cache_time_has_passed(policy: dict[str, Any]) -> None:
    clock, session = FakeMonotonic(), FakeSession()
    cache = PolicyCache(5, monotonic=clock)
    session.policies["acct"] = [("viewers", policy)]
    assert len(await cache.policies(session, "acct")) == 1  # type: ignore[arg-type]

    session.policies["acct"] = []  # the policy is deleted
    clock.now += 4.99
    assert len(await cache.policies(session, "acct")) == 1  # type: ignore[arg-type]
    clock.now += 0.01
    assert len(await cache.policies(session, "acct")) == 0  # type: ignore[arg-type]
    assert session.loads == ["acct", "acct"]


async def test_a_zero_cache_time_reads_the_store_every_time(policy: dict[str, Any]) -> None:
    session = FakeSession()
    cache = PolicyCache(0, monotonic=FakeMonotonic())
    for _ in range(3):
        await cache.policies(session, "acct")  # type: ignore[arg-type]
    assert session.loads == ["acct"] * 3


async def test_each_account_has_its_own_policies(policy: dict[str, Any]) -> None:
    session = FakeSession()
    session.policies["with"] = [("viewers", policy), ("broken", {"properties": {}})]
    cache = PolicyCache(5, monotonic=FakeMonotonic())
    loaded = await cache.policies(session, "with")  # type: ignore[arg-type]
    assert (len(loaded), loaded.skipped) == (1, ["broken"])
    assert len(await cache.policies(session, "without")) == 0  # type: ignore[arg-type]
    assert session.loads == ["with", "without"]


async def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_access, "MAX_CACHED_ACCOUNTS", 2)
    session = FakeSession()
    cache = PolicyCache(5, monotonic=FakeMonotonic())
    for account in ("a", "b", "a", "c", "a", "b"):
        await cache.policies(session, account)  # type: ignore[arg-type]
    assert session.loads == ["a", "b", "c", "b"]  # "a" stayed recent; "b" was evicted by "c"


def test_check_does_not_count_and_record_does_not_refuse() -> None:
    limiter = RateLimiter(2, 10, monotonic=FakeMonotonic())
    for _ in range(5):
        limiter.check("10.0.0.1")  # looking costs nothing
    limiter.record("10.0.0.1")
    limiter.record("10.0.0.1")
    limiter.record("10.0.0.1")  # counting past the limit is allowed; refusing is check's job
    with pytest.raises(RateLimited):
        limiter.check("10.0.0.1")
    limiter.check("10.0.0.2")
