"""Acceptance: a Video Analyzer customer's playback flow against a real ``ova cloud``.

The operator sets up with Microsoft's SDK (``azure-mgmt-videoanalyzer``) exactly as for
Azure: an account, videos, and an access policy trusting the customer's own signing keys
with the portal's default audience. The customer's player then does what the original
widget did, over TLS with plain HTTP calls: list and get videos with a JWT from the
customer's issuer, obtain a content token, and read the archive's available media.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from azure.mgmt.videoanalyzer import VideoAnalyzer
from azure.mgmt.videoanalyzer import models as m

from support.client_api import available_media, bearer
from support.cloud_process import CloudProcess
from support.customer_issuer import BASE_RESOURCE_URL_PATTERN, CustomerIssuer
from support.postgres import PostgresServer
from support.tls import TlsFiles, write_tls_files

SUBSCRIPTION = "5f0b1c2d-0000-4000-8000-0000000000b2"
GROUP = "customer-flow"
API_VERSION = "2021-11-01-preview"
IDENTITY_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
    "/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ova-identity"
)
STORAGE_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/Microsoft.Storage/storageAccounts/s1"
)


class OperatorKeyCredential:
    """A ``TokenCredential`` that hands the SDK an operator API key as its bearer token."""

    def __init__(self, key: str) -> None:
        self._key = key

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._key, int(time.time()) + 3600)


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CloudProcess]:
    tls: TlsFiles = write_tls_files(tmp_path_factory.mktemp("tls"))
    database_url = None
    if request.param == "postgres":
        postgres: PostgresServer = request.getfixturevalue("postgres_server")
        database_url = postgres.create_database(f"ova_flow_{uuid.uuid4().hex[:12]}")
    process = CloudProcess(tmp_path_factory.mktemp(f"flow-{request.param}"), tls, database_url)
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def sdk(server: CloudProcess) -> Iterator[VideoAnalyzer]:
    client = VideoAnalyzer(
        OperatorKeyCredential(server.operator_key),
        SUBSCRIPTION,
        base_url=server.base_url,
        connection_verify=str(server.tls.ca_cert),
        polling_interval=0,
        retry_total=0,
    )
    yield client
    client.close()


@pytest.fixture(scope="module")
def http(server: CloudProcess) -> Iterator[httpx.Client]:
    with httpx.Client(verify=server.client_context(), timeout=10) as client:
        yield client


def sdk_policy(issuer: CustomerIssuer) -> m.AccessPolicyEntity:
    """The customer's issuer as the operator enters it: RSA and ECC keys, default audience."""
    rsa_key, ec_key = issuer.token_keys(["RS256", "ES256"])
    keys = [
        m.RsaTokenKey(kid=rsa_key["kid"], alg="RS256", n=rsa_key["n"], e=rsa_key["e"]),
        m.EccTokenKey(kid=ec_key["kid"], alg="ES256", x=ec_key["x"], y=ec_key["y"]),
    ]
    authentication = m.JwtAuthentication(
        issuers=[issuer.issuer], audiences=[BASE_RESOURCE_URL_PATTERN], keys=keys
    )
    return m.AccessPolicyEntity(role="Reader", authentication=authentication)


def operator_setup(sdk: VideoAnalyzer, issuer: CustomerIssuer) -> tuple[str, str]:
    """Create an account with videos ``lobby`` and ``garage`` and the policy; its name and endpoint."""
    name = f"flow{uuid.uuid4().hex[:12]}"
    body = m.VideoAnalyzer(
        location="westus2",
        identity=m.VideoAnalyzerIdentity(
            type="UserAssigned", user_assigned_identities={IDENTITY_ID: m.UserAssignedManagedIdentity()}
        ),
        storage_accounts=[
            m.StorageAccount(id=STORAGE_ID, identity=m.ResourceIdentity(user_assigned_identity=IDENTITY_ID))
        ],
    )
    account = sdk.video_analyzers.begin_create_or_update(GROUP, name, body).result()
    for video in ("lobby", "garage"):
        sdk.videos.create_or_update(GROUP, name, video, m.VideoEntity(title=video))
    sdk.access_policies.create_or_update(GROUP, name, "viewers", sdk_policy(issuer))
    (endpoint,) = account.endpoints
    assert endpoint.type == "ClientApi"
    return name, endpoint.endpoint_url


def media(http: httpx.Client, archive_base_url: str, token: str) -> httpx.Response:
    return http.get(available_media(archive_base_url, token))


@pytest.mark.parametrize(
    "server", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True, scope="module"
)
@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_a_customer_plays_a_video_with_its_own_tokens(
    server: CloudProcess, sdk: VideoAnalyzer, http: httpx.Client, alg: str
) -> None:
    issuer = CustomerIssuer.generate("contoso")
    account, endpoint = operator_setup(sdk, issuer)
    jwt = issuer.token(f"{endpoint}/videos/*", alg=alg)
    auth = bearer(jwt)
    query = {"api-version": API_VERSION}

    listed = http.get(f"{endpoint}/videos", params=query, headers=auth)
    assert listed.status_code == 200, listed.text
    assert sorted(video["name"] for video in listed.json()["value"]) == ["garage", "lobby"]
    lobby = http.get(f"{endpoint}/videos/lobby", params=query, headers=auth).json()
    archive = lobby["properties"]["contentUrls"]["archiveBaseUrl"]
    assert archive.startswith(f"{server.base_url}/streaming/")

    issued = http.post(f"{endpoint}/videos/lobby/listContentToken", params=query, headers=auth).json()
    assert issued["Token"] == issued["token"] and issued["ExpirationDate"] == issued["expirationDate"]
    token = issued["Token"]
    played = media(http, archive, token)
    assert played.status_code == 200, played.text
    assert played.json() == {"timeRanges": []}
    assert played.headers["referrer-policy"] == "no-referrer"

    garage = sdk.videos.get(GROUP, account, "garage").content_urls.archive_base_url
    assert media(http, garage, token).status_code == 403

    sdk.videos.delete(GROUP, account, "lobby")
    sdk.videos.create_or_update(GROUP, account, "lobby", m.VideoEntity(title="lobby, again"))
    recreated = sdk.videos.get(GROUP, account, "lobby").content_urls.archive_base_url
    assert recreated != archive
    assert media(http, archive, token).status_code == 403
    assert media(http, recreated, token).status_code == 403
    fresh = http.post(f"{endpoint}/videos/lobby/listContentToken", params=query, headers=auth).json()["token"]
    assert media(http, recreated, fresh).status_code == 200

    log = server.log_path.read_text(errors="replace")
    for secret in (jwt, token, fresh):
        assert secret not in log
    assert "Traceback" not in log
