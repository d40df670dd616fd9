"""Refused credentials throttled per client address without locking valid ones out (issue 7, W8).

Customer JWTs on the client family, content tokens on streaming, operator keys on management.

The reproduction of the issue: 50 refused tokens from one address used to make the next
*valid* token from that address get 429, so behind a load balancer one viewer could lock
out everyone. Now a client past its budget still gets a valid token checked (when it was
seen valid recently, or within the per-second check budget), and only refused or unchecked
ones get 429, with the signature work bounded by that budget.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from ova.auth import customer_jwt
from ova.auth.token_key import TokenKey
from ova.cloud.runtime import Cloud
from support.client_api import Tenant, available_media, bearer, content_token
from support.customer_issuer import CustomerIssuer
from support.management import arm_error

Viewers = Callable[[str], httpx.AsyncClient]
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # no storage question


async def start_of_a_fresh_window(window: float) -> None:
    """Windows are fixed; wait out one about to close so a burst fits in one."""
    remaining = window - time.monotonic() % window
    if remaining < 3:
        await asyncio.sleep(remaining)


async def statuses(client: httpx.AsyncClient, url: str, tokens: list[str]) -> list[int]:
    return [(await client.get(url, headers=bearer(token))).status_code for token in tokens]


@pytest.fixture
def signature_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every signature verification the client family runs (a spy: the real check still runs)."""
    checked: list[str] = []
    real = customer_jwt._signature_valid

    def counted(token: str, key: TokenKey) -> bool:
        checked.append(token)
        return real(token, key)

    monkeypatch.setattr(customer_jwt, "_signature_valid", counted)
    return checked


@pytest.mark.cloud_settings(client_api={"failed_requests_per_address": 50, "rate_limit_window_seconds": 10})
async def test_fifty_bad_tokens_then_a_valid_one_from_the_same_address_is_served(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    await start_of_a_fresh_window(10)
    url = tenant.url("/videos/lobby")

    assert await statuses(viewer, url, ["x.y.z"] * 50) == [401] * 50
    assert (await viewer.get(url, headers=bearer(issuer.token(tenant.aud())))).status_code == 200
    throttled = await viewer.get(url, headers=bearer("x.y.z"))
    arm_error(throttled, 429, "TooManyRequests")
    assert 1 <= int(throttled.headers["retry-after"]) <= 10


@pytest.mark.cloud_settings(
    client_api={"failed_requests_per_address": 10, "rate_limit_window_seconds": 10},
    credential_throttle={"verifications_per_second": 5},
)
async def test_two_hundred_forgeries_in_ten_seconds_get_429_past_the_threshold_at_bounded_cost(
    viewer_at: Viewers,
    tenant: Tenant,
    issuer: CustomerIssuer,
    attacker: CustomerIssuer,
    signature_checks: list[str],
) -> None:
    guesser, neighbour = viewer_at("10.9.8.7"), viewer_at("10.9.8.8")
    url, forged = tenant.url("/videos/lobby"), attacker.token(tenant.aud())
    await start_of_a_fresh_window(10)
    started = time.monotonic()

    answered = await statuses(guesser, url, [forged] * 200)

    assert answered == [401] * 10 + [429] * 190
    seconds = time.monotonic() - started
    assert seconds < 10
    # Past the threshold only the budget's worth of forgeries reached a signature check.
    # (5 a second; the burst may straddle one more second boundary than its length.)
    assert len(signature_checks) <= 10 + 5 * (int(seconds) + 2)
    assert (await neighbour.get(url, headers=bearer(issuer.token(tenant.aud())))).status_code == 200


@pytest.mark.cloud_settings(
    client_api={"failed_requests_per_address": 3, "rate_limit_window_seconds": 10},
    credential_throttle={"verifications_per_second": 0},
)
async def test_a_token_seen_valid_keeps_working_from_a_throttled_address_and_a_new_one_waits(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer, attacker: CustomerIssuer
) -> None:
    url = tenant.url("/videos/lobby")
    watching, fresh = issuer.token(tenant.aud(), jti="a"), issuer.token(tenant.aud(), jti="b")
    await start_of_a_fresh_window(10)

    assert await statuses(viewer, url, [watching]) == [200]
    assert await statuses(viewer, url, [attacker.token(tenant.aud())] * 4) == [401] * 3 + [429]
    assert await statuses(viewer, url, [watching] * 3) == [200] * 3
    # With no budget left, a token never seen valid is not checked at all.
    arm_error(await viewer.get(url, headers=bearer(fresh)), 429, "TooManyRequests")


@pytest.mark.cloud_settings(credential_throttle={"failures_per_client": 5, "verifications_per_second": 0})
async def test_streaming_throttles_bad_content_tokens_but_keeps_playing_valid_ones(
    viewer_at: Viewers, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    player, guesser = viewer_at("10.1.1.1"), viewer_at("10.1.1.1")  # one NAT, two browsers
    archive = await tenant.archive_url("lobby")
    playing = await content_token(player, tenant, "lobby", issuer.token(tenant.aud()))
    assert (await player.get(available_media(archive, playing))).status_code == 200
    await start_of_a_fresh_window(10)

    bad = [(await guesser.get(available_media(archive, f"x{n}.y.z"))).status_code for n in range(6)]

    assert bad == [401] * 5 + [429]
    assert (await player.get(available_media(archive, playing))).status_code == 200


@pytest.mark.cloud_settings(credential_throttle={"failures_per_client": 5})
async def test_management_throttles_bad_operator_keys_and_the_valid_key_still_works(
    cloud: Cloud, api: httpx.AsyncClient, tenant: Tenant
) -> None:
    listener, app = cloud.listeners[0]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50002))
    guessed = "ova_" + "0" * 16 + "_" + "A" * 43  # well formed, so each one is looked up
    await start_of_a_fresh_window(10)
    async with httpx.AsyncClient(transport=transport, base_url=listener.base_url()) as guesser:
        answers = [
            (await guesser.get(tenant.arm.url("videos"), headers=bearer(guessed))).status_code
            for _ in range(7)
        ]

    assert answers == [401] * 5 + [429] * 2
    assert (await api.get(tenant.arm.url("videos"))).status_code == 200  # same address, known key


@pytest.mark.cloud_settings(
    client_api={"failed_requests_per_address": 3, "rate_limit_window_seconds": 10},
    credential_throttle={"verifications_per_second": 0},
    trusted_proxies=["10.0.0.0/8"],
)
async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(
    viewer_at: Viewers, tenant: Tenant, issuer: CustomerIssuer, attacker: CustomerIssuer
) -> None:
    balancer, stranger = viewer_at("10.0.0.2"), viewer_at("192.0.2.50")
    url, forged = tenant.url("/videos/lobby"), attacker.token(tenant.aud())
    await start_of_a_fresh_window(10)

    def via(address: str, token: str) -> dict[str, str]:
        return {**bearer(token), "X-Forwarded-For": f"198.51.100.99, {address}"}

    guessing = [(await balancer.get(url, headers=via("203.0.113.1", forged))).status_code for _ in range(4)]
    other_viewer = await balancer.get(url, headers=via("203.0.113.2", issuer.token(tenant.aud())))
    # Not from a trusted proxy: the header is ignored, so rotating it buys nothing.
    spoofing = [
        (await stranger.get(url, headers=via(f"203.0.113.{n}", forged))).status_code for n in range(10, 14)
    ]

    assert guessing == [401] * 3 + [429]
    assert other_viewer.status_code == 200
    assert spoofing == [401] * 3 + [429]
