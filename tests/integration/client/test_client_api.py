"""The client family over HTTP: customer JWTs against access policies (security.md J1-J17, W7-W10).

The evaluation rules themselves are unit-tested in tests/unit/auth; these tests check
what a viewer sees at the HTTP layer: the status, the one uniform 401, the audience
patterns matched against the account's real endpoint URL, revocation within the policy
cache time, rate limits per account, body limits and clean error bodies.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization

from ova.cloud.domain.kinds import videos
from ova.cloud.runtime import Cloud
from support.client_api import Tenant, available_media, bearer, open_tenant
from support.customer_issuer import CustomerIssuer, b64url, token_key
from support.management import API_VERSION, SUBSCRIPTION, arm_error

INVALID = {
    "error": {
        "code": "InvalidToken",
        "message": "The access token is invalid.",
        "target": None,
        "details": [],
    }
}


@pytest.fixture(scope="session")
def fabrikam() -> CustomerIssuer:
    """A second customer issuer, with its own keys and issuer name."""
    return CustomerIssuer.generate("fabrikam", issuer="https://login.fabrikam.example")


def assert_uniform_401(response: httpx.Response, token: str | None = None) -> None:
    assert response.status_code == 401, response.text
    assert response.json() == INVALID
    assert response.headers["www-authenticate"] == 'Bearer realm="ova"'
    if token:
        assert token not in response.text


# --- grants -------------------------------------------------------------------------------------


async def test_a_trusted_jwt_lists_gets_and_obtains_a_content_token(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer, subtests: pytest.Subtests
) -> None:
    for alg in ("RS256", "ES256", "ES384"):
        with subtests.test(msg=alg):
            jwt = issuer.token(tenant.aud("/videos/*"), alg=alg)

            listed = await viewer.get(tenant.url("/videos"), headers=bearer(jwt))
            assert listed.status_code == 200, listed.text
            assert sorted(video["name"] for video in listed.json()["value"]) == ["garage", "lobby"]

            got = await viewer.get(tenant.url("/videos/lobby"), headers=bearer(jwt))
            assert got.status_code == 200, got.text
            properties = got.json()["properties"]
            assert properties["flags"] == {"canStream": True, "hasData": False, "isInUse": False}
            assert properties["contentUrls"]["archiveBaseUrl"] == await tenant.archive_url("lobby")

            issued = await viewer.post(tenant.url("/videos/lobby/listContentToken"), headers=bearer(jwt))
            assert issued.status_code == 200, issued.text
            assert issued.headers["cache-control"] == "no-store"  # a token is never cached
            body = issued.json()
            assert body["token"] == body["Token"] and body["token"].count(".") == 2
            assert body["expirationDate"] == body["ExpirationDate"] and body["expirationDate"].endswith("Z")


async def test_a_granted_request_still_names_missing_videos_and_bad_api_versions(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    jwt = issuer.token(tenant.aud("/videos/*"))
    missing = await viewer.get(tenant.url("/videos/nosuchvideo"), headers=bearer(jwt))
    arm_error(missing, 404, "ResourceNotFound")
    old = await viewer.get(f"{tenant.endpoint_url}/videos?api-version=1999-01-01", headers=bearer(jwt))
    arm_error(old, 400, "InvalidApiVersionParameter")
    legacy = await viewer.get(
        f"{tenant.endpoint_url}/videos?api-version=2021-05-01-preview", headers=bearer(jwt)
    )
    assert legacy.status_code == 200


# --- J15: no policy -----------------------------------------------------------------------------


@pytest.mark.cloud_settings(client_api={"policy_cache_seconds": 0})
async def test_without_an_access_policy_everything_is_forbidden(
    viewer: httpx.AsyncClient, bare_tenant: Tenant, issuer: CustomerIssuer
) -> None:
    jwt = issuer.token(bare_tenant.aud("/videos/*"))
    calls = [("GET", "/videos"), ("GET", "/videos/lobby"), ("POST", "/videos/lobby/listContentToken")]
    for method, path in calls:
        response = await viewer.request(method, bare_tenant.url(path), headers=bearer(jwt))
        arm_error(response, 403, "AccessPolicyNotFound")

    await bare_tenant.arm.ok("PUT", "accessPolicies/viewers", issuer.policy())
    granted = await viewer.get(bare_tenant.url("/videos/lobby"), headers=bearer(jwt))
    assert granted.status_code == 200, granted.text


# --- J1-J5, J11: one uniform 401 ----------------------------------------------------------------


def hs256(secret: bytes, header: dict[str, Any], payload: dict[str, Any]) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(digest)}"


def unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}."


def _public(issuer: CustomerIssuer, encoding: serialization.Encoding) -> bytes:
    public_key = issuer.keys["RS256"].public_key()
    return public_key.public_bytes(encoding, serialization.PublicFormat.SubjectPublicKeyInfo)


def _header(issuer: CustomerIssuer, alg: str, kid_alg: str = "RS256", **extra: Any) -> dict[str, Any]:
    return {"alg": alg, "kid": issuer.kid(kid_alg), "typ": "JWT", **extra}


def forgeries(i: CustomerIssuer, attacker: CustomerIssuer, aud: str) -> dict[str, str]:
    """Tokens an attacker would try (security.md J1-J5, J11, and the ordinary failures), by label."""
    claims = i.claims(aud)
    rsa_jwk = token_key(i.keys["RS256"], i.kid(), "RS256")
    attacker_jwk = token_key(attacker.keys["RS256"], i.kid(), "RS256")
    pem, der = _public(i, serialization.Encoding.PEM), _public(i, serialization.Encoding.DER)
    return {
        "J1 alg none, signature removed": unsigned(_header(i, "none"), claims),
        "J1 alg None, signature kept": i.sign(_header(i, "None"), claims, sign_as="RS256"),
        "J2 HS256 keyed with the policy key as PEM": hs256(pem, _header(i, "HS256"), claims),
        "J2 HS256 keyed with the policy key as DER": hs256(der, _header(i, "HS256"), claims),
        "J2 HS256 keyed with the policy key as JWK JSON": hs256(
            json.dumps(rsa_jwk).encode(), _header(i, "HS256"), claims
        ),
        "J3 RS512 against an RS256 key": i.sign(
            _header(i, "RS512"), claims, sign_as="RS512", key=i.keys["RS256"]
        ),
        "J3 ES256 under the RSA key's kid": i.sign(_header(i, "ES256"), claims, sign_as="ES256"),
        "J3 PS256 with the RSA key": i.sign(
            _header(i, "PS256"), claims, sign_as="PS256", key=i.keys["RS256"]
        ),
        "J5 jku pointing at a loopback JWKS": attacker.sign(
            _header(i, "RS256", jku="http://127.0.0.2:9/jwks.json"), claims
        ),
        "J5 attacker key embedded as jwk": attacker.sign(
            _header(i, "RS256", jwk={"kty": "RSA", "n": attacker_jwk["n"], "e": attacker_jwk["e"]}), claims
        ),
        "J11 duplicate alg in the header": i.sign(
            '{"alg": "none", ' + json.dumps(_header(i, "RS256"))[1:], claims
        ),
        "J11 duplicate aud in the payload": i.sign(
            _header(i, "RS256"), json.dumps(claims)[:-1] + ', "aud": "https://elsewhere.example/videos/*"}'
        ),
        "signed by an untrusted key": attacker.token(aud),
        "expired an hour ago": i.token(aud, lifetime=-3600),
        "another issuer": i.sign(_header(i, "RS256"), {**claims, "iss": "https://evil.example"}),
        "unknown kid": i.sign(_header(i, "RS256", kid="who-knows"), claims),
        "JWE with five segments": "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d",
        "garbage": "not-a-token",
    }


async def test_every_rejected_token_gets_the_same_401_on_every_resource(
    viewer: httpx.AsyncClient,
    tenant: Tenant,
    issuer: CustomerIssuer,
    attacker: CustomerIssuer,
    subtests: pytest.Subtests,
) -> None:
    aud = tenant.aud("/videos/*")
    stranger_account = tenant.endpoint_url[:-32] + "0" * 32
    targets = [
        ("GET", tenant.url("/videos")),
        ("GET", tenant.url("/videos/lobby")),
        ("GET", tenant.url("/videos/nosuchvideo")),
        ("POST", tenant.url("/videos/lobby/listContentToken")),
        ("GET", f"{stranger_account}/videos/lobby?api-version={API_VERSION}"),
    ]
    for label, token in forgeries(issuer, attacker, aud).items():
        with subtests.test(msg=label):
            for method, url in targets:
                assert_uniform_401(await viewer.request(method, url, headers=bearer(token)), token)
    for label, headers in [
        ("no Authorization header", {}),
        ("Basic scheme", {"Authorization": "Basic dXNlcjpwYXNz"}),
        ("empty bearer", {"Authorization": "Bearer "}),
    ]:
        with subtests.test(msg=label):
            for method, url in targets:
                assert_uniform_401(await viewer.request(method, url, headers=headers))

    honest = issuer.token(aud)
    assert (await viewer.get(tenant.url("/videos/lobby"), headers=bearer(honest))).status_code == 200


# --- audiences: the resource-URL placeholder (ava.md §2.4) --------------------------------------

AUDIENCE_TABLE = [
    ("GET", "/videos", "/videos/*", 200),
    ("GET", "/videos", "/videos/lobby", 401),
    ("GET", "/videos/lobby", "/vid*", 200),
    ("GET", "/videos/lobby", "/videos/*", 200),
    ("GET", "/videos/lobby", "/videos/lob*", 200),
    ("GET", "/videos/lobby", "/videos/lobby", 200),
    ("GET", "/videos/lobbySuffix", "/videos/lobby", 401),
    ("GET", "/videos/garage", "/videos/lobby", 401),
    ("POST", "/videos/lobby/listContentToken", "/videos/lobby", 200),
    ("POST", "/videos/lobby/listContentToken", "/videos/lob*", 200),
    ("POST", "/videos/garage/listContentToken", "/videos/lobby", 401),
]


async def test_resource_url_audiences_follow_the_pattern_table(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer, subtests: pytest.Subtests
) -> None:
    await tenant.video("lobbySuffix")
    for method, path, pattern, expected in AUDIENCE_TABLE:
        with subtests.test(msg=f"{method} {path} with aud {pattern}"):
            token = issuer.token(tenant.aud(pattern))
            response = await viewer.request(method, tenant.url(path), headers=bearer(token))
            assert response.status_code == expected, response.text


async def test_a_literal_policy_audience_must_equal_the_token_aud(
    viewer: httpx.AsyncClient, bare_tenant: Tenant, issuer: CustomerIssuer
) -> None:
    policy = issuer.policy(audiences=["https://videos.contoso.example"])
    await bare_tenant.arm.ok("PUT", "accessPolicies/literal", policy)
    good = issuer.token("https://videos.contoso.example")
    bad = issuer.token("https://videos.contoso.example/")
    pattern = issuer.token(bare_tenant.aud("/videos/*"))
    assert (await viewer.get(bare_tenant.url("/videos/lobby"), headers=bearer(good))).status_code == 200
    assert_uniform_401(await viewer.get(bare_tenant.url("/videos/lobby"), headers=bearer(bad)))
    assert_uniform_401(await viewer.get(bare_tenant.url("/videos/lobby"), headers=bearer(pattern)))


# --- J16: each policy judged whole ---------------------------------------------------------------


async def test_a_key_from_one_policy_never_combines_with_another_policys_rules(
    viewer: httpx.AsyncClient, bare_tenant: Tenant, issuer: CustomerIssuer, fabrikam: CustomerIssuer
) -> None:
    alpha = issuer.policy(algorithms=["RS256"], claims={"team": "alpha"})
    beta = fabrikam.policy(algorithms=["RS256"], claims={"team": "beta"})
    await bare_tenant.arm.ok("PUT", "accessPolicies/alpha", alpha)
    await bare_tenant.arm.ok("PUT", "accessPolicies/beta", beta)
    aud = bare_tenant.aud("/videos/*")
    url = bare_tenant.url("/videos/lobby")

    for token in (issuer.token(aud, team="alpha"), fabrikam.token(aud, team="beta")):
        assert (await viewer.get(url, headers=bearer(token))).status_code == 200
    mixes = [
        issuer.sign(_header(issuer, "RS256"), {**fabrikam.claims(aud), "team": "beta"}),
        issuer.sign(_header(issuer, "RS256"), {**issuer.claims(aud), "team": "beta"}),
        issuer.sign(_header(issuer, "RS256"), {**fabrikam.claims(aud), "team": "alpha"}),
    ]
    for token in mixes:
        assert_uniform_401(await viewer.get(url, headers=bearer(token)), token)


# --- J17: revocation within the policy cache time -------------------------------------------------


@pytest.mark.cloud_settings(client_api={"policy_cache_seconds": 0})
async def test_removed_keys_and_deleted_policies_stop_working_at_once_without_a_cache(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    aud, url = tenant.aud("/videos/*"), tenant.url("/videos/lobby")
    rsa_token, ec_token = issuer.token(aud, alg="RS256"), issuer.token(aud, alg="ES256")
    for token in (rsa_token, ec_token):
        assert (await viewer.get(url, headers=bearer(token))).status_code == 200

    await tenant.arm.ok("PUT", "accessPolicies/viewers", issuer.policy(algorithms=["ES256"]))
    assert_uniform_401(await viewer.get(url, headers=bearer(rsa_token)), rsa_token)
    assert (await viewer.get(url, headers=bearer(ec_token))).status_code == 200

    await tenant.arm.ok("DELETE", "accessPolicies/viewers")
    arm_error(await viewer.get(url, headers=bearer(ec_token)), 403, "AccessPolicyNotFound")


@pytest.mark.cloud_settings(client_api={"policy_cache_seconds": 1})
async def test_a_deleted_policy_is_refused_within_the_cache_time(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    token, url = issuer.token(tenant.aud("/videos/*")), tenant.url("/videos/lobby")
    assert (await viewer.get(url, headers=bearer(token))).status_code == 200
    await tenant.arm.ok("DELETE", "accessPolicies/viewers")
    deleted_at = time.monotonic()
    while (await viewer.get(url, headers=bearer(token))).status_code == 200:
        assert time.monotonic() - deleted_at < 1.5, "still granted after the 1 s policy cache time"
        await asyncio.sleep(0.05)
    arm_error(await viewer.get(url, headers=bearer(token)), 403, "AccessPolicyNotFound")


# --- W7: wrong family, wrong account ------------------------------------------------------------


async def test_a_customer_jwt_is_no_operator_credential(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    token = issuer.token(tenant.aud("/videos/*"))
    accounts = (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Media/videoAnalyzers?api-version={API_VERSION}"
    )
    for method, url in [
        ("GET", accounts),
        ("GET", tenant.arm.url("videos/lobby")),
        ("DELETE", tenant.arm.url("videos/lobby")),
    ]:
        response = await viewer.request(method, url, headers=bearer(token))
        arm_error(response, 401)
        assert token not in response.text
    assert (await tenant.arm.get("videos/lobby"))["name"] == "lobby"


@pytest.mark.cloud_settings(client_api={"policy_cache_seconds": 0})
async def test_a_token_for_one_account_is_refused_by_another(
    cloud: Cloud,
    api: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
    tenant: Tenant,
    issuer: CustomerIssuer,
    fabrikam: CustomerIssuer,
) -> None:
    other = await open_tenant(api, cloud, "acct2")
    await other.video("lobby")
    await other.arm.ok("PUT", "accessPolicies/viewers", fabrikam.policy())
    own_token = issuer.token(tenant.aud("/videos/*"))
    assert_uniform_401(await viewer.get(other.url("/videos/lobby"), headers=bearer(own_token)), own_token)

    # Even when the other account trusts the same keys, the audience names the first account.
    await other.arm.ok("PUT", "accessPolicies/contoso", issuer.policy())
    assert_uniform_401(await viewer.get(other.url("/videos/lobby"), headers=bearer(own_token)), own_token)
    other_token = issuer.token(other.aud("/videos/*"))
    assert (await viewer.get(other.url("/videos/lobby"), headers=bearer(other_token))).status_code == 200


# --- W8: rate limits per account ----------------------------------------------------------------


async def start_of_a_fresh_window(window: float) -> None:
    """Rate-limit windows are fixed; wait out a window about to close so a burst fits in one."""
    remaining = window - time.monotonic() % window
    if remaining < 2:
        await asyncio.sleep(remaining)


@pytest.mark.cloud_settings(client_api={"rate_limit_requests": 5, "rate_limit_window_seconds": 10})
async def test_the_sixth_admitted_request_in_ten_seconds_gets_429_for_that_account_only(
    cloud: Cloud,
    api: httpx.AsyncClient,
    viewer: httpx.AsyncClient,
    tenant: Tenant,
    issuer: CustomerIssuer,
    attacker: CustomerIssuer,
) -> None:
    other = await open_tenant(api, cloud, "acct2")
    await other.video("lobby")
    await other.arm.ok("PUT", "accessPolicies/viewers", issuer.policy())
    good, bad = issuer.token(tenant.aud("/videos/*")), attacker.token(tenant.aud("/videos/*"))
    await start_of_a_fresh_window(10)

    # Refused tokens do not use the account's quota: a stranger cannot lock its viewers out.
    statuses = [
        (await viewer.get(tenant.url("/videos/lobby"), headers=bearer(t))).status_code
        for t in [bad] * 4 + [good] * 5
    ]
    assert statuses == [401] * 4 + [200] * 5
    limited = await viewer.get(tenant.url("/videos/lobby"), headers=bearer(good))
    arm_error(limited, 429, "TooManyRequests")
    assert 1 <= int(limited.headers["retry-after"]) <= 10
    other_token = issuer.token(other.aud("/videos/*"))
    assert (await viewer.get(other.url("/videos/lobby"), headers=bearer(other_token))).status_code == 200


# --- W9, W10: body limits and error hygiene ------------------------------------------------------


@pytest.mark.cloud_settings(max_request_body_bytes=4096)
async def test_oversized_bodies_get_413_before_any_token_check(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer
) -> None:
    token = issuer.token(tenant.aud("/videos/*"))
    archive = await tenant.archive_url("lobby")
    for method, url in [
        ("POST", tenant.url("/videos/lobby/listContentToken")),
        ("GET", available_media(archive)),
    ]:
        response = await viewer.request(method, url, content=b"x" * 8192, headers=bearer(token))
        arm_error(response, 413, "RequestEntityTooLarge")
    fits = await viewer.post(
        tenant.url("/videos/lobby/listContentToken"), content=b"{}", headers=bearer(token)
    )
    assert fits.status_code == 200


async def test_an_internal_error_shows_no_trace_secret_or_token(
    viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = issuer.token(tenant.aud("/videos/*"))

    async def broken(*_args: Any) -> dict[str, str]:
        raise RuntimeError(f"signing failed: password=hunter2 token={token}")

    monkeypatch.setattr(videos, "list_content_token", broken)
    response = await viewer.post(tenant.url("/videos/lobby/listContentToken"), headers=bearer(token))
    error = arm_error(response, 500, "InternalServerError")
    assert error["message"].startswith("An internal error occurred. Correlation id: ")
    for leak in ("hunter2", token, "RuntimeError", "signing failed", "videos.py"):
        assert leak not in response.text
