"""The refused-credential throttle: budgets per client, and valid credentials never locked out."""

from __future__ import annotations

import pytest

from ova.cloud.domain.client_access import RateLimiter
from ova.cloud.domain.credential_throttle import (
    CredentialsThrottled,
    CredentialThrottle,
    RecentlyValid,
    VerificationBudget,
)
from ova.common.errors import Forbidden, Unauthenticated

VALID, FORGED = "valid.token.sig", "forged.token.sig"


class FakeMonotonic:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def throttle(clock: FakeMonotonic, *, limit: int = 3, per_second: int = 1) -> CredentialThrottle:
    return CredentialThrottle(
        RateLimiter(limit, 10, monotonic=clock),
        VerificationBudget(per_second, monotonic=clock),
        RecentlyValid(60, monotonic=clock),
        well_formed=lambda token: token.count(".") == 2,
    )


def attempt(guard: CredentialThrottle, credential: str, client: str = "203.0.113.7") -> str:
    """What the client sees: 200, 401 or 429 (the check passes only for ``VALID``)."""
    try:
        with guard.guard(client, credential):
            if credential != VALID:
                raise Unauthenticated("no")
    except CredentialsThrottled as throttled:
        assert 1 <= int(throttled.headers["Retry-After"]) <= 10
        return "429"
    except Unauthenticated:
        return "401"
    return "200"


def test_under_the_budget_refusals_are_401_and_past_it_429() -> None:
    guard = throttle(FakeMonotonic(), per_second=0)
    assert [attempt(guard, FORGED) for _ in range(5)] == ["401"] * 3 + ["429"] * 2


def test_a_valid_credential_still_gets_in_past_the_budget_within_the_check_budget() -> None:
    guard = throttle(FakeMonotonic(), per_second=1)
    assert [attempt(guard, FORGED) for _ in range(3)] == ["401"] * 3
    assert attempt(guard, VALID) == "200"  # checked with the one check of this second
    assert attempt(guard, FORGED) == "429"  # the budget is spent: not even checked


def test_a_credential_seen_valid_needs_no_check_budget() -> None:
    clock = FakeMonotonic()
    guard = throttle(clock, per_second=0)
    assert attempt(guard, VALID) == "200"
    assert [attempt(guard, FORGED) for _ in range(4)] == ["401"] * 3 + ["429"]
    assert [attempt(guard, VALID) for _ in range(3)] == ["200"] * 3
    clock.now += 61  # forgotten; the failure window has also moved on
    assert attempt(guard, VALID) == "200"


def test_a_throttled_and_refused_credential_is_429_not_401() -> None:
    guard = throttle(FakeMonotonic(), per_second=100)
    assert [attempt(guard, FORGED) for _ in range(5)] == ["401"] * 3 + ["429"] * 2


def test_malformed_credentials_past_the_budget_never_use_the_check_budget() -> None:
    clock = FakeMonotonic()
    guard = throttle(clock, per_second=1)
    assert [attempt(guard, "x") for _ in range(10)] == ["401"] * 3 + ["429"] * 7
    assert attempt(guard, VALID) == "200"  # the second's one check was still there


def test_clients_are_counted_apart_and_the_window_ends() -> None:
    clock = FakeMonotonic(1000.0)
    guard = throttle(clock, per_second=0)
    assert [attempt(guard, FORGED, "a") for _ in range(4)] == ["401"] * 3 + ["429"]
    assert attempt(guard, FORGED, "b") == "401"
    clock.now += 10
    assert attempt(guard, FORGED, "a") == "401"


def test_forbidden_counts_as_refused_and_other_errors_do_not() -> None:
    guard = throttle(FakeMonotonic(), limit=1, per_second=0)
    with pytest.raises(Forbidden), guard.guard("c", FORGED):
        raise Forbidden("not this video")
    with pytest.raises(CredentialsThrottled), guard.guard("c", FORGED):
        raise AssertionError("never runs")
    other = throttle(FakeMonotonic(), limit=1, per_second=0)
    with pytest.raises(KeyError), other.guard("d", FORGED):
        raise KeyError("not about the credential")
    assert attempt(other, FORGED, "d") == "401"


def test_the_check_budget_refills_each_second() -> None:
    clock = FakeMonotonic(5.0)
    budget = VerificationBudget(2, monotonic=clock)
    assert [budget.take() for _ in range(3)] == [True, True, False]
    clock.now += 1
    assert budget.take()


def test_the_memory_of_valid_credentials_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ova.cloud.domain.credential_throttle.MAX_REMEMBERED", 2)
    recent = RecentlyValid(60, monotonic=FakeMonotonic())
    for digest in (b"a", b"b", b"c"):
        recent.add(digest)
    assert [d in recent for d in (b"a", b"b", b"c")] == [False, True, True]
