"""Content tokens on the streaming family (security.md W1, W2, W5, J18).

A content token comes from the client API's ``listContentToken`` and opens one video's
``archiveBaseUrl`` and nothing else: not another video, not the same name re-created,
not another endpoint family. Streaming answers are private and never leak the token
through caches, referrers or logs; CORS trusts exact origins only.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import ValidationError

from ova.auth.service_tokens import CONTENT, PROVISIONING
from ova.cloud.runtime import Cloud
from ova.cloud.settings import ClientApiSettings
from support.client_api import Tenant, available_media, bearer, content_token, open_tenant
from support.customer_issuer import CustomerIssuer
from support.management import API_VERSION, SUBSCRIPTION, arm_error

ALLOWED_ORIGIN = "https://app.contoso.example"


def assert_private(response: httpx.Response) -> None:
    cache_control = [part.strip() for part in response.headers["cache-control"].split(",")]
    assert cache_control[0] == "private" and "no-store" in cache_control
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_the_content_token_opens_its_video_by_query_header_or_cookie(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    jwt = issuer.token(tenant.aud("/videos/lobby"))
    video = (await viewer.get(tenant.url("/videos/lobby"), headers=bearer(jwt))).json()
    archive = video["properties"]["contentUrls"]["archiveBaseUrl"]
    issued = (await viewer.post(tenant.url("/videos/lobby/listContentToken"), headers=bearer(jwt))).json()
    token = issued["Token"]
    assert token == issued["token"]

    media = available_media(archive)
    presentations = {
        "query": (available_media(archive, token), {}),
        "bearer": (media, bearer(token)),
        "cookie": (media, {"Cookie": f"ova_content={token}"}),
    }
    for how, (url, headers) in presentations.items():
        response = await viewer.get(url, headers=headers)
        assert response.status_code == 200, (how, response.text)
        assert response.json() == {"timeRanges": []}
        assert_private(response)

    absent = await viewer.get(media)
    arm_error(absent, 401)
    assert_private(absent)
    twice = await viewer.get(f"{available_media(archive, token)}&token={token}")
    arm_error(twice, 401)


async def test_a_content_token_opens_no_other_video(
    cloud: Cloud, api: httpx.AsyncClient, viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    jwt = issuer.token(tenant.aud("/videos/*"))
    token = await content_token(viewer, tenant, "lobby", jwt)
    lobby, garage = await tenant.archive_url("lobby"), await tenant.archive_url("garage")
    other = await open_tenant(api, cloud, "acct2")
    await other.video("lobby")
    elsewhere = await other.archive_url("lobby")
    forged_path = lobby.replace(tenant.key, (await other.archive_url("lobby")).split("/")[-3])

    assert (await viewer.get(available_media(lobby, token))).status_code == 200
    for url in (garage, elsewhere, forged_path):
        response = await viewer.get(available_media(url, token))
        arm_error(response, 403)
        assert_private(response)


async def test_a_video_recreated_under_the_same_name_refuses_the_old_token(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    jwt = issuer.token(tenant.aud("/videos/*"))
    old_url = await tenant.archive_url("lobby")
    old_token = await content_token(viewer, tenant, "lobby", jwt)

    await tenant.arm.ok("DELETE", "videos/lobby")
    gone = await viewer.get(available_media(old_url, old_token))
    arm_error(gone, 403)
    await tenant.video("lobby")
    new_url = await tenant.archive_url("lobby")
    assert new_url != old_url
    for url in (old_url, new_url):
        arm_error(await viewer.get(available_media(url, old_token)), 403)
    new_token = await content_token(viewer, tenant, "lobby", jwt)
    assert (await viewer.get(available_media(new_url, new_token))).status_code == 200


@pytest.mark.cloud_settings(content_token={"lifetime_seconds": 120})
async def test_content_tokens_live_as_configured_and_expired_ones_are_refused(
    cloud: Cloud, viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    jwt = issuer.token(tenant.aud("/videos/*"))
    issued = (await viewer.post(tenant.url("/videos/lobby/listContentToken"), headers=bearer(jwt))).json()
    expires = datetime.fromisoformat(issued["ExpirationDate"].replace("Z", "+00:00"))
    assert timedelta(seconds=100) < expires - datetime.now(UTC) <= timedelta(seconds=120)

    url = await tenant.archive_url("lobby")
    claims = {"sub": url.split("/")[-1], "acct": tenant.key}
    expired = cloud.services.tokens.issue(CONTENT, claims, datetime.now(UTC) - timedelta(seconds=1))
    arm_error(await viewer.get(available_media(url, expired)), 401)
    fresh = cloud.services.tokens.issue(CONTENT, claims, datetime.now(UTC) + timedelta(seconds=60))
    assert (await viewer.get(available_media(url, fresh))).status_code == 200


async def test_no_token_kind_passes_for_another(
    cloud: Cloud,
    api: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
    tenant: Tenant,
    issuer: CustomerIssuer,
    operator_key: str,
    subtests: pytest.Subtests,
) -> None:
    jwt = issuer.token(tenant.aud("/videos/*"))
    content = await content_token(viewer, tenant, "lobby", jwt)
    archive = await tenant.archive_url("lobby")
    media = available_media(archive)
    await tenant.arm.ok("PUT", "edgeModules/edge1", {})
    expiry = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    provisioning = (
        await tenant.arm.ok("POST", "edgeModules/edge1/listProvisioningToken", {"expirationDate": expiry})
    )["token"]
    # Signed by the same key, for this very video: only the kind is wrong.
    claims = {"sub": archive.split("/")[-1], "acct": tenant.key}
    provisioning_for_video = cloud.services.tokens.issue(
        PROVISIONING, claims, datetime.now(UTC) + timedelta(hours=1)
    )
    accounts = (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Media/videoAnalyzers?api-version={API_VERSION}"
    )

    swaps = [
        ("content token on the client API", "GET", tenant.url("/videos/lobby"), content),
        ("content token on listContentToken", "POST", tenant.url("/videos/lobby/listContentToken"), content),
        ("customer JWT on streaming", "GET", media, jwt),
        ("operator key on streaming", "GET", media, operator_key),
        ("provisioning token on streaming", "GET", media, provisioning),
        ("provisioning token for this video on streaming", "GET", media, provisioning_for_video),
        ("content token on management", "GET", accounts, content),
        ("provisioning token on management", "GET", accounts, provisioning),
    ]
    for label, method, url, token in swaps:
        with subtests.test(msg=label):
            response = await viewer.request(method, url, headers=bearer(token))
            arm_error(response, 401)
            assert token not in response.text
            if url == media:
                arm_error(await viewer.request(method, available_media(archive, token)), 401)


async def test_nothing_logged_on_the_server_holds_a_token(
    viewer: httpx.AsyncClient,
    tenant: Tenant,
    issuer: CustomerIssuer,
    attacker: CustomerIssuer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    jwt = issuer.token(tenant.aud("/videos/*"))
    forged = attacker.token(tenant.aud("/videos/*"))
    expired = issuer.token(tenant.aud("/videos/*"), lifetime=-600)
    token = await content_token(viewer, tenant, "lobby", jwt)
    lobby, garage = await tenant.archive_url("lobby"), await tenant.archive_url("garage")
    await viewer.get(tenant.url("/videos"), headers=bearer(jwt))
    await viewer.get(tenant.url("/videos/lobby"), headers=bearer(forged))
    await viewer.get(tenant.url("/videos/lobby"), headers=bearer(expired))
    await viewer.get(tenant.url("/videos/lobby"), headers=bearer(token))
    await viewer.get(available_media(lobby, token))
    await viewer.get(available_media(garage, token))
    await viewer.get(available_media(lobby, token[:-4] + "AAAA"))
    await viewer.get(available_media(lobby), headers=bearer(jwt))

    # The test's own HTTP client logs the URLs it requests; the server's records are what count.
    server_records = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    assert any(r.name.startswith("ova") for r in server_records), "the flow should have logged rejections"
    for record in server_records:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        for secret in (jwt, forged, expired, token):
            assert secret not in text and secret.split(".")[2] not in text, record.name


# --- W5: CORS ----------------------------------------------------------------------------------


@pytest.mark.cloud_settings(client_api={"cors_origins": [ALLOWED_ORIGIN]})
async def test_cors_trusts_exactly_the_configured_origins(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer, subtests: pytest.Subtests
) -> None:
    jwt = issuer.token(tenant.aud("/videos/*"))
    urls = {
        "client": tenant.url("/videos/lobby"),
        "streaming": available_media(await tenant.archive_url("lobby")),
    }
    for family, url in urls.items():
        with subtests.test(msg=f"{family}: allowed origin"):
            preflight = await viewer.options(url, headers=preflight_headers(ALLOWED_ORIGIN))
            assert preflight.status_code == 200
            assert preflight.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
            assert preflight.headers["access-control-allow-credentials"] == "true"
            assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
            assert "origin" in preflight.headers["vary"].lower()
        for origin in ("https://evil.example", "null", "https://app.contoso.example.evil.example"):
            with subtests.test(msg=f"{family}: origin {origin}"):
                preflight = await viewer.options(url, headers=preflight_headers(origin))
                assert preflight.status_code == 400
                assert "access-control-allow-origin" not in preflight.headers
                simple = await viewer.get(url, headers={"Origin": origin, **bearer(jwt)})
                assert "access-control-allow-origin" not in simple.headers
    simple = await viewer.get(urls["client"], headers={"Origin": ALLOWED_ORIGIN, **bearer(jwt)})
    assert simple.status_code == 200
    assert simple.headers["access-control-allow-origin"] == ALLOWED_ORIGIN


async def test_without_configured_origins_no_origin_is_trusted(
    viewer: httpx.AsyncClient, tenant: Tenant
) -> None:
    preflight = await viewer.options(tenant.url("/videos/lobby"), headers=preflight_headers(ALLOWED_ORIGIN))
    assert "access-control-allow-origin" not in preflight.headers


@pytest.mark.parametrize(
    "origin", ["*", "null", "https://app.contoso.example/", "app.contoso.example", "https://a.example/x"]
)
def test_settings_refuse_anything_but_exact_origins(origin: str) -> None:
    with pytest.raises(ValidationError):
        ClientApiSettings(cors_origins=[ALLOWED_ORIGIN, origin])


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }


def expiry_of(issued: dict[str, str]) -> datetime:
    return datetime.fromisoformat(issued["ExpirationDate"].replace("Z", "+00:00"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_content_token_is_short_and_never_outlives_the_customer_jwt(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    url = tenant.url("/videos/lobby/listContentToken")
    hour_jwt, minute_jwt = issuer.token(tenant.aud(), lifetime=3600), issuer.token(tenant.aud(), lifetime=90)

    long_asked = (await viewer.post(url, headers=bearer(hour_jwt))).json()
    short_asked = (await viewer.post(url, headers=bearer(minute_jwt))).json()

    assert expiry_of(long_asked) - datetime.now(UTC) <= timedelta(minutes=10)  # the default lifetime
    jwt_expiry = datetime.fromtimestamp(issuer.claims(tenant.aud(), 90)["exp"], UTC)
    assert expiry_of(short_asked) <= jwt_expiry + timedelta(seconds=1)
    assert expiry_of(short_asked) - datetime.now(UTC) <= timedelta(seconds=90)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_customer_jwt_that_never_expires_is_refused(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    forever = issuer.token(tenant.aud(), lifetime=10**30)
    day_and_a_bit = issuer.token(tenant.aud(), lifetime=24 * 3600 + 120)

    for token in (forever, day_and_a_bit):
        arm_error(await viewer.get(tenant.url("/videos/lobby"), headers=bearer(token)), 401, "InvalidToken")
    assert (
        await viewer.get(
            tenant.url("/videos/lobby"), headers=bearer(issuer.token(tenant.aud(), lifetime=3600))
        )
    ).status_code == 200
