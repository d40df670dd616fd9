"""Flapping bans (M6): by client id, username and IP, temporary, with bounded memory."""

from __future__ import annotations

from ova.hub.flood_guard import FloodGuard


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _guard(
    clock: Clock, *, per_minute: int = 3, ip_per_minute: int = 100, max_keys: int = 1000
) -> FloodGuard:
    return FloodGuard(
        per_minute=per_minute, ip_per_minute=ip_per_minute, ban_seconds=60, max_keys=max_keys, clock=clock
    )


def test_a_client_id_over_its_limit_is_banned_until_the_ban_ends() -> None:
    clock = Clock()
    guard = _guard(clock)
    admitted = [guard.admit("dev", f"user-{i}", "10.0.0.1") for i in range(5)]
    clock.now += 59
    still_banned = guard.admit("dev", "user-x", "10.0.0.1")
    clock.now += 2
    after = guard.admit("dev", "user-y", "10.0.0.1")

    assert admitted == [True, True, True, False, False]
    assert not still_banned
    assert after
    assert guard.bans == 1


def test_a_username_is_banned_across_client_ids() -> None:
    guard = _guard(Clock())
    admitted = [guard.admit(f"dev-{i}", "same-user", "10.0.0.1") for i in range(4)]
    assert admitted == [True, True, True, False]
    assert guard.admit("dev-9", "other-user", "10.0.0.1")


def test_rotating_ids_and_users_from_one_ip_ban_the_ip() -> None:
    guard = _guard(Clock(), ip_per_minute=10)
    admitted = [guard.admit(f"dev-{i}", f"user-{i}", "10.0.0.9") for i in range(12)]
    assert admitted == [True] * 10 + [False, False]
    assert guard.admit("fresh", "fresh", "10.0.0.8")


def test_connects_spread_over_more_than_a_minute_are_never_banned() -> None:
    clock = Clock()
    guard = _guard(clock)
    results = []
    for _ in range(10):
        results.append(guard.admit("steady", "steady", "10.0.0.1"))
        clock.now += 21
    assert all(results)


def test_memory_stays_bounded_under_200_rotating_identities() -> None:
    guard = _guard(Clock(), ip_per_minute=1000, max_keys=50)
    for index in range(200):
        guard.admit(f"dev-{index}", f"user-{index}", f"10.0.{index}.1")
    assert len(guard) == 50


def test_huge_client_ids_are_tracked_by_digest_and_still_banned() -> None:
    guard = _guard(Clock())
    huge = "d" * 60_000
    admitted = [guard.admit(huge, "user", "10.0.0.1") for _ in range(4)]
    assert admitted == [True, True, True, False]
    assert all(len(value) <= 128 for _, value in guard._tracks)
