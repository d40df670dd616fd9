"""Acceptance: Microsoft's own SDK (``azure-mgmt-videoanalyzer==1.0.0b4``) drives a real ``ova cloud``.

The server runs as a subprocess on a loopback port with TLS from a test CA (the SDK refuses
bearer tokens over plain HTTP), once on SQLite and once on PostgreSQL. The operator key from
``ova admin create-key`` is the SDK's bearer token. Every management resource type goes
through create, read, update, list and delete with the SDK's models, pollers and pagers, so
a change that breaks what an existing Video Analyzer customer's code expects fails here.
"""

from __future__ import annotations

import base64
import gc
import re
import socket
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.mgmt.videoanalyzer import VideoAnalyzer
from azure.mgmt.videoanalyzer import models as m
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ova.cloud.settings import ContentTokenSettings
from support.cloud_process import CloudProcess
from support.postgres import PostgresServer
from support.tls import TlsFiles, legacy_client_context, legacy_server_handshake, write_tls_files

SUBSCRIPTION = "5f0b1c2d-0000-4000-8000-0000000000a1"
GROUP = "sdk-acceptance"
LOCATION = "westus2"
API_VERSION = "2021-11-01-preview"
ARM_TYPE = "Microsoft.Media/videoAnalyzers"
GROUP_ID = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}"
IDENTITY_ID = f"{GROUP_ID}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ova-identity"
STORAGE_ID = f"{GROUP_ID}/providers/Microsoft.Storage/storageAccounts/ovastore"
HEX32 = re.compile(r"^[0-9a-f]{32}$")


class OperatorKeyCredential:
    """A ``TokenCredential`` that hands the SDK an operator API key as its bearer token."""

    def __init__(self, key: str) -> None:
        self._key = key

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self._key, int(time.time()) + 365 * 24 * 3600)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return write_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tls_files: TlsFiles
) -> Iterator[CloudProcess]:
    """``ova cloud`` as a subprocess on each metadata store."""
    database_url = None
    if request.param == "postgres":
        postgres: PostgresServer = request.getfixturevalue("postgres_server")
        database_url = postgres.create_database(f"ova_sdk_{uuid.uuid4().hex[:12]}")
    process = CloudProcess(tmp_path_factory.mktemp(f"cloud-{request.param}"), tls_files, database_url)
    process.start()
    yield process
    # Exceptions the SDK raised (kept by pytest.raises) hold their responses, and with them
    # idle keep-alive sockets, in reference cycles; collect them so the server's graceful
    # shutdown does not wait out the TLS close timeout for peers that never answer.
    gc.collect()
    process.stop()


def sdk_client(server: CloudProcess, key: str) -> VideoAnalyzer:
    return VideoAnalyzer(
        OperatorKeyCredential(key),
        SUBSCRIPTION,
        base_url=server.base_url,
        connection_verify=str(server.tls.ca_cert),
        polling_interval=0,
        retry_total=0,
    )


@pytest.fixture(scope="module")
def sdk(server: CloudProcess) -> Iterator[VideoAnalyzer]:
    client = sdk_client(server, server.operator_key)
    yield client
    client.close()


@pytest.fixture
def account(sdk: VideoAnalyzer) -> Iterator[str]:
    """A fresh Video Analyzer account for one test, deleted afterwards."""
    name = f"acct{uuid.uuid4().hex[:12]}"
    sdk.video_analyzers.begin_create_or_update(GROUP, name, account_body()).result()
    yield name
    sdk.video_analyzers.delete(GROUP, name)


# --- request bodies ---------------------------------------------------------------------------


def account_body(**tags: str) -> m.VideoAnalyzer:
    return m.VideoAnalyzer(
        location=LOCATION,
        tags=tags or {"purpose": "acceptance"},
        identity=m.VideoAnalyzerIdentity(
            type="UserAssigned", user_assigned_identities={IDENTITY_ID: m.UserAssignedManagedIdentity()}
        ),
        storage_accounts=[
            m.StorageAccount(id=STORAGE_ID, identity=m.ResourceIdentity(user_assigned_identity=IDENTITY_ID))
        ],
    )


def b64url(value: int, length: int | None = None) -> str:
    raw = value.to_bytes(length or (value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def rsa_token_key(kid: str) -> m.RsaTokenKey:
    numbers = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers()
    return m.RsaTokenKey(kid=kid, alg="RS256", n=b64url(numbers.n), e=b64url(numbers.e))


def ecc_token_key(kid: str) -> m.EccTokenKey:
    numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    return m.EccTokenKey(kid=kid, alg="ES256", x=b64url(numbers.x, 32), y=b64url(numbers.y, 32))


def live_topology() -> m.PipelineTopology:
    """Record an RTSP camera into one archive video (the original cloud sample)."""
    credentials = m.UsernamePasswordCredentials(username="${rtspUserName}", password="${rtspPassword}")
    source = m.RtspSource(
        name="rtspSource",
        transport="Tcp",
        endpoint=m.UnsecuredEndpoint(url="${rtspUrl}", credentials=credentials),
    )
    sink = m.VideoSink(
        name="videoSink",
        inputs=[m.NodeInput(node_name="rtspSource")],
        video_name="sdk-camera-1",
        video_creation_properties=m.VideoCreationProperties(
            title="Parking lot", description="Continuous recording", segment_length="PT30S"
        ),
        video_publishing_options=m.VideoPublishingOptions(disable_rtsp_publishing="false"),
    )
    parameters = [
        m.ParameterDeclaration(name="rtspUrl", type="String", description="Camera URL"),
        m.ParameterDeclaration(name="rtspUserName", type="String", default="admin"),
        m.ParameterDeclaration(name="rtspPassword", type="SecretString", default="topology-default"),
    ]
    return m.PipelineTopology(
        kind="Live",
        sku=m.Sku(name="Live_S1"),
        description="RTSP camera to archive",
        parameters=parameters,
        sources=[source],
        sinks=[sink],
    )


def batch_topology() -> m.PipelineTopology:
    """Export a portion of an archive to an MP4 video."""
    source = m.VideoSource(
        name="videoSource",
        video_name="${sourceVideoName}",
        time_sequences=m.VideoSequenceAbsoluteTimeMarkers(ranges="${timeSequence}"),
    )
    encoder = m.EncoderProcessor(
        name="encoder",
        inputs=[m.NodeInput(node_name="videoSource")],
        preset=m.EncoderSystemPreset(name="SingleLayer_1080p_H264_AAC"),
    )
    sink = m.VideoSink(
        name="videoSink",
        inputs=[m.NodeInput(node_name="encoder")],
        video_name="${outputVideoName}",
        video_creation_properties=m.VideoCreationProperties(title="Export"),
    )
    names = ("sourceVideoName", "timeSequence", "outputVideoName")
    return m.PipelineTopology(
        kind="Batch",
        sku=m.Sku(name="Batch_S1"),
        parameters=[m.ParameterDeclaration(name=name, type="String") for name in names],
        sources=[source],
        processors=[encoder],
        sinks=[sink],
    )


def with_status(response: Any, model: Any, headers: Any) -> tuple[int, Any]:
    """``cls=`` hook: the HTTP status next to the deserialized model."""
    return response.http_response.status_code, model


def assert_system_data(resource: Any, created: bool = True) -> None:
    data = resource.system_data
    assert data.created_by == data.last_modified_by == "key:sdk-acceptance"
    assert data.created_by_type == data.last_modified_by_type == "Key"
    assert abs(data.created_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert (data.last_modified_at == data.created_at) is created


def assert_deletes(operations: Any, *path: str) -> None:
    """DELETE answers 200; the resource is gone (GET 404) and deleting it again answers 204."""
    assert operations.delete(GROUP, *path, cls=with_status) == (200, None)
    with pytest.raises(ResourceNotFoundError):
        operations.get(GROUP, *path)
    assert operations.delete(GROUP, *path, cls=with_status) == (204, None)


def refusal(call: Callable[[], Any]) -> tuple[int | None, str | None, str | None]:
    """The HTTP status and ARM error code and target with which the server refused ``call``."""
    with pytest.raises(HttpResponseError) as caught:
        call()
    error = caught.value.error
    if error is None:
        return caught.value.status_code, None, None
    return caught.value.status_code, error.code, error.target


# --- transport and authentication -------------------------------------------------------------


def handshake(server: CloudProcess, context: ssl.SSLContext) -> str | None:
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
        context.wrap_socket(sock, server_hostname="127.0.0.1") as tls,
    ):
        return tls.version()


def test_listener_refuses_tls_1_1_and_speaks_tls_1_2(server: CloudProcess) -> None:
    legacy = legacy_client_context(server.tls.ca_cert)
    assert legacy_server_handshake(server.tls, legacy) == "TLSv1.1"  # the client can do TLS 1.1
    with pytest.raises(OSError):  # an alert or a closed connection, depending on timing
        handshake(server, legacy)

    modern = server.client_context()
    modern.minimum_version = modern.maximum_version = ssl.TLSVersion.TLSv1_2
    assert handshake(server, modern) == "TLSv1.2"


def test_requests_without_a_valid_operator_key_get_401(server: CloudProcess) -> None:
    url = f"{server.base_url}/subscriptions/{SUBSCRIPTION}/providers/{ARM_TYPE}?api-version={API_VERSION}"
    key = server.operator_key
    wrong_secret = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    with httpx.Client(verify=server.client_context()) as http:
        anonymous = http.get(url)
        refused = [
            http.get(url, headers={"Authorization": f"Bearer {wrong}"})
            for wrong in ("ova_not-a-real-key", wrong_secret)
        ]
        good = http.get(url, headers={"Authorization": f"Bearer {key}"})
    for response in (anonymous, *refused):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["error"]["code"]
        assert key not in response.text
    assert good.status_code == 200

    stranger = sdk_client(server, "ova_wrongkey")
    with stranger, pytest.raises(ClientAuthenticationError):
        stranger.video_analyzers.list_by_subscription()


# --- provider level ---------------------------------------------------------------------------


def test_operations_list_the_provider_catalogue(sdk: VideoAnalyzer) -> None:
    names = {operation.name for operation in sdk.operations.list().value}
    assert {
        f"{ARM_TYPE}/read",
        f"{ARM_TYPE}/write",
        f"{ARM_TYPE}/delete",
        f"{ARM_TYPE}/videos/listContentToken/action",
        f"{ARM_TYPE}/livePipelines/activate/action",
        f"{ARM_TYPE}/pipelineJobs/cancel/action",
        f"{ARM_TYPE}/edgeModules/listProvisioningToken/action",
    } <= names


def test_check_name_availability(sdk: VideoAnalyzer, account: str) -> None:
    def check(name: str) -> m.CheckNameAvailabilityResponse:
        request = m.CheckNameAvailabilityRequest(name=name, type=ARM_TYPE)
        return sdk.locations.check_name_availability(LOCATION, request)

    taken = check(account)
    assert (taken.name_available, taken.reason) == (False, "AlreadyExists")
    invalid = check("Not_Valid!")
    assert (invalid.name_available, invalid.reason) == (False, "Invalid")
    assert check(f"free{uuid.uuid4().hex[:12]}").name_available is True


# --- accounts ---------------------------------------------------------------------------------


def assert_account_shape(server: CloudProcess, account: m.VideoAnalyzer, name: str) -> None:
    assert account.id == f"{GROUP_ID}/providers/{ARM_TYPE}/{name}"
    assert (account.name, account.type, account.location) == (name, ARM_TYPE, LOCATION)
    assert account.provisioning_state == "Succeeded"
    assert account.storage_accounts[0].id == STORAGE_ID
    assert account.identity.type == "UserAssigned"
    assert list(account.identity.user_assigned_identities) == [IDENTITY_ID]
    (endpoint,) = account.endpoints
    assert endpoint.type == "ClientApi"
    prefix = f"{server.base_url}/client/"
    assert endpoint.endpoint_url.startswith(prefix)
    assert HEX32.match(endpoint.endpoint_url.removeprefix(prefix))


def test_account_life_cycle(sdk: VideoAnalyzer, server: CloudProcess) -> None:
    name = f"acct{uuid.uuid4().hex[:12]}"
    statuses: list[int] = []

    def put(stage: str) -> m.VideoAnalyzer:
        hook = {"raw_response_hook": lambda response: statuses.append(response.http_response.status_code)}
        poller = sdk.video_analyzers.begin_create_or_update(GROUP, name, account_body(stage=stage), **hook)
        result = poller.result()
        assert poller.status() == "Succeeded"
        return result

    created = put("zero")
    assert_account_shape(server, created, name)
    assert created.tags == {"stage": "zero"}
    assert_system_data(created)
    assert put("one").tags == {"stage": "one"}
    assert statuses == [201, 200]

    patched = sdk.video_analyzers.begin_update(
        GROUP, name, m.VideoAnalyzerUpdate(tags={"stage": "two"}), polling_interval=0
    ).result()
    assert patched.tags == {"stage": "two"}
    assert_account_shape(server, patched, name)
    assert_system_data(patched, created=False)

    fetched = sdk.video_analyzers.get(GROUP, name)
    assert fetched.tags == {"stage": "two"}
    assert fetched.endpoints[0].endpoint_url == created.endpoints[0].endpoint_url
    assert name in {item.name for item in sdk.video_analyzers.list(GROUP).value}
    assert name in {item.name for item in sdk.video_analyzers.list_by_subscription().value}

    assert_deletes(sdk.video_analyzers, name)
    assert name not in {item.name for item in sdk.video_analyzers.list(GROUP).value}


# --- videos -----------------------------------------------------------------------------------


def test_video_life_cycle(sdk: VideoAnalyzer, server: CloudProcess, account: str) -> None:
    videos = sdk.videos
    body = m.VideoEntity(
        title="Lobby", description="Front desk", archival=m.VideoArchival(retention_period="P30D")
    )
    status, video = videos.create_or_update(GROUP, account, "lobby-cam", body, cls=with_status)
    assert status == 201
    assert (video.name, video.type) == ("lobby-cam", f"{ARM_TYPE}/videos")
    assert video.id.endswith(f"/videoAnalyzers/{account}/videos/lobby-cam")
    assert (video.title, video.description, video.archival.retention_period) == (
        "Lobby",
        "Front desk",
        "P30D",
    )
    assert video.type_properties_type == "Archive"
    assert (video.flags.can_stream, video.flags.has_data, video.flags.is_in_use) == (True, False, False)
    assert video.content_urls.archive_base_url.startswith(f"{server.base_url}/streaming/")
    assert video.content_urls.download_url is None
    assert video.media_info.segment_length == "PT30S"
    assert_system_data(video)

    status, _ = videos.create_or_update(GROUP, account, "lobby-cam", body, cls=with_status)
    assert status == 200
    updated = videos.update(GROUP, account, "lobby-cam", m.VideoEntity(description="Reception"))
    assert (updated.title, updated.description) == ("Lobby", "Reception")
    assert updated.content_urls.archive_base_url == video.content_urls.archive_base_url
    assert videos.get(GROUP, account, "lobby-cam").description == "Reception"

    token = videos.list_content_token(GROUP, account, "lobby-cam")
    assert token.token and token.token.count(".") == 2
    lifetime = timedelta(seconds=ContentTokenSettings().lifetime_seconds)
    assert lifetime - timedelta(minutes=2) < token.expiration_date - datetime.now(UTC) <= lifetime

    assert_deletes(videos, account, "lobby-cam")


def test_video_pages_follow_next_link(sdk: VideoAnalyzer, account: str) -> None:
    names = [f"clip-{index}" for index in range(7)]
    for name in names:
        sdk.videos.create_or_update(GROUP, account, name, m.VideoEntity(title=name))

    pages = [[video.name for video in page] for page in sdk.videos.list(GROUP, account, top=3).by_page()]
    assert pages == [names[0:3], names[3:6], names[6:7]]
    listed = [video.name for video in sdk.videos.list(GROUP, account, top=3)]
    assert listed == names
    assert len(list(sdk.videos.list(GROUP, account))) == 7


def test_video_names_and_bodies_are_validated(sdk: VideoAnalyzer, account: str) -> None:
    long_name = "x" * 300
    status, code, _ = refusal(lambda: sdk.videos.create_or_update(GROUP, account, long_name, m.VideoEntity()))
    assert (status, code) == (400, "InvalidResourceName")
    body = m.VideoEntity(archival=m.VideoArchival(retention_period="P0D"))
    status, _, target = refusal(lambda: sdk.videos.create_or_update(GROUP, account, "bad-retention", body))
    assert (status, target) == (400, "properties.archival.retentionPeriod")


# --- access policies --------------------------------------------------------------------------


def test_access_policy_life_cycle(sdk: VideoAnalyzer, account: str) -> None:
    policies = sdk.access_policies
    rsa_key, ecc_key = rsa_token_key("rsa-1"), ecc_token_key("ecc-1")
    authentication = m.JwtAuthentication(
        issuers=["https://issuer.example"],
        audiences=["https://audience.example"],
        claims=[m.TokenClaim(name="team", value="security")],
        keys=[rsa_key, ecc_key],
    )
    body = m.AccessPolicyEntity(role="Reader", authentication=authentication)
    status, policy = policies.create_or_update(GROUP, account, "viewers", body, cls=with_status)
    assert status == 201
    assert (policy.type, policy.role) == (f"{ARM_TYPE}/accessPolicies", "Reader")
    assert isinstance(policy.authentication, m.JwtAuthentication)
    rsa_back, ecc_back = policy.authentication.keys
    assert isinstance(rsa_back, m.RsaTokenKey) and isinstance(ecc_back, m.EccTokenKey)
    assert (rsa_back.kid, rsa_back.alg, rsa_back.n, rsa_back.e) == ("rsa-1", "RS256", rsa_key.n, rsa_key.e)
    assert (ecc_back.kid, ecc_back.alg, ecc_back.x, ecc_back.y) == ("ecc-1", "ES256", ecc_key.x, ecc_key.y)
    assert policy.authentication.claims[0].value == "security"
    assert_system_data(policy)

    authentication.audiences = ["https://other.example"]
    authentication.keys = [ecc_key]
    updated = policies.update(GROUP, account, "viewers", m.AccessPolicyEntity(authentication=authentication))
    assert updated.authentication.audiences == ["https://other.example"]
    assert [key.kid for key in updated.authentication.keys] == ["ecc-1"]
    assert [item.name for item in policies.list(GROUP, account)] == ["viewers"]

    authentication.keys = [m.RsaTokenKey(kid="weak", alg="RS256", n=b64url(2**1023 + 1), e="AQAB")]
    weak = m.AccessPolicyEntity(authentication=authentication)
    status, _, target = refusal(lambda: policies.create_or_update(GROUP, account, "weak", weak))
    assert (status, target) == (400, "properties.authentication.keys[0].n")

    assert_deletes(policies, account, "viewers")


# --- edge modules -----------------------------------------------------------------------------


def test_edge_module_life_cycle(sdk: VideoAnalyzer, account: str) -> None:
    modules = sdk.edge_modules
    status, module = modules.create_or_update(
        GROUP, account, "factory-edge", m.EdgeModuleEntity(), cls=with_status
    )
    assert status == 201
    assert module.type == f"{ARM_TYPE}/edgeModules"
    assert uuid.UUID(module.edge_module_id)
    again = modules.create_or_update(GROUP, account, "factory-edge", m.EdgeModuleEntity())
    assert again.edge_module_id == module.edge_module_id
    assert modules.get(GROUP, account, "factory-edge").edge_module_id == module.edge_module_id
    assert [item.name for item in modules.list(GROUP, account)] == ["factory-edge"]

    expires = (datetime.now(UTC) + timedelta(days=7)).replace(microsecond=0)
    token = modules.list_provisioning_token(
        GROUP, account, "factory-edge", m.ListProvisioningTokenInput(expiration_date=expires)
    )
    assert token.token and token.token.count(".") == 2
    assert token.expiration_date == expires

    assert_deletes(modules, account, "factory-edge")


# --- topologies and live pipelines ------------------------------------------------------------


def create_topologies(sdk: VideoAnalyzer, account: str) -> None:
    status, live = sdk.pipeline_topologies.create_or_update(
        GROUP, account, "record-camera", live_topology(), cls=with_status
    )
    assert status == 201
    assert (live.kind, live.sku.name, live.sku.tier) == ("Live", "Live_S1", "Standard")
    assert isinstance(live.sources[0], m.RtspSource)
    assert isinstance(live.sources[0].endpoint, m.UnsecuredEndpoint)
    assert isinstance(live.sinks[0], m.VideoSink)
    password = next(p for p in live.parameters if p.name == "rtspPassword")
    assert (password.type, password.default) == ("SecretString", None)
    batch = sdk.pipeline_topologies.create_or_update(GROUP, account, "export-clip", batch_topology())
    assert (batch.kind, batch.sku.name) == ("Batch", "Batch_S1")
    assert isinstance(batch.processors[0], m.EncoderProcessor)
    assert isinstance(batch.processors[0].preset, m.EncoderSystemPreset)
    assert isinstance(batch.sources[0].time_sequences, m.VideoSequenceAbsoluteTimeMarkers)

    updated = sdk.pipeline_topologies.update(
        GROUP, account, "record-camera", m.PipelineTopologyUpdate(description="Camera 1 to archive")
    )
    assert updated.description == "Camera 1 to archive"
    assert len(updated.sources) == 1
    names = [item.name for item in sdk.pipeline_topologies.list(GROUP, account)]
    assert names == ["export-clip", "record-camera"]


def camera_parameters(password: str) -> list[m.ParameterDefinition]:
    return [
        m.ParameterDefinition(name="rtspUrl", value="rtsp://camera.example:554/stream1"),
        m.ParameterDefinition(name="rtspPassword", value=password),
    ]


def create_live_pipeline(sdk: VideoAnalyzer, account: str) -> None:
    body = m.LivePipeline(
        topology_name="record-camera",
        description="Parking lot camera",
        bitrate_kbps=1500,
        parameters=camera_parameters("s3cret"),
    )
    status, pipeline = sdk.live_pipelines.create_or_update(GROUP, account, "camera-1", body, cls=with_status)
    assert status == 201
    assert (pipeline.state, pipeline.bitrate_kbps) == ("Inactive", 1500)
    by_name = {p.name: p.value for p in pipeline.parameters}
    assert by_name == {"rtspUrl": "rtsp://camera.example:554/stream1", "rtspPassword": None}
    assert_system_data(pipeline)

    updated = sdk.live_pipelines.update(
        GROUP, account, "camera-1", m.LivePipelineUpdate(bitrate_kbps=2000, description="Gate camera")
    )
    assert (updated.bitrate_kbps, updated.description, updated.state) == (2000, "Gate camera", "Inactive")
    assert [item.name for item in sdk.live_pipelines.list(GROUP, account)] == ["camera-1"]


def is_in_use(sdk: VideoAnalyzer, account: str) -> bool:
    return bool(sdk.videos.get(GROUP, account, "sdk-camera-1").flags.is_in_use)


def run_live_pipeline(sdk: VideoAnalyzer, account: str) -> None:
    with pytest.raises(ResourceNotFoundError):
        sdk.videos.get(GROUP, account, "sdk-camera-1")
    poller = sdk.live_pipelines.begin_activate(GROUP, account, "camera-1", polling_interval=0)
    poller.result()
    assert poller.status() == "Succeeded"
    assert sdk.live_pipelines.get(GROUP, account, "camera-1").state == "Active"
    video = sdk.videos.get(GROUP, account, "sdk-camera-1")
    assert (video.title, video.description) == ("Parking lot", "Continuous recording")
    assert (video.type_properties_type, video.flags.is_in_use) == ("Archive", True)

    faster = m.LivePipelineUpdate(bitrate_kbps=2500)
    status, code, _ = refusal(lambda: sdk.live_pipelines.update(GROUP, account, "camera-1", faster))
    assert (status, code) == (409, "OperationNotAllowedInState")
    status, code, _ = refusal(lambda: sdk.live_pipelines.delete(GROUP, account, "camera-1"))
    assert (status, code) == (409, "OperationNotAllowedInState")

    poller = sdk.live_pipelines.begin_deactivate(GROUP, account, "camera-1", polling_interval=0)
    poller.result()
    assert poller.status() == "Succeeded"
    assert sdk.live_pipelines.get(GROUP, account, "camera-1").state == "Inactive"
    assert is_in_use(sdk, account) is False


def test_topologies_and_live_pipeline(sdk: VideoAnalyzer, account: str) -> None:
    create_topologies(sdk, account)
    create_live_pipeline(sdk, account)
    run_live_pipeline(sdk, account)

    status, code, _ = refusal(lambda: sdk.pipeline_topologies.delete(GROUP, account, "record-camera"))
    assert (status, code) == (409, "PipelineTopologyInUse")

    assert_deletes(sdk.live_pipelines, account, "camera-1")
    assert_deletes(sdk.pipeline_topologies, account, "record-camera")
    assert_deletes(sdk.pipeline_topologies, account, "export-clip")


# --- pipeline jobs ----------------------------------------------------------------------------


def export_job() -> m.PipelineJob:
    ranges = '[["2021-10-05T03:30:00Z","2021-10-05T03:40:00Z"]]'
    return m.PipelineJob(
        topology_name="export-clip",
        description="Export ten minutes",
        parameters=[
            m.ParameterDefinition(name="sourceVideoName", value="sdk-camera-1"),
            m.ParameterDefinition(name="timeSequence", value=ranges),
            m.ParameterDefinition(name="outputVideoName", value="sdk-export-1"),
        ],
    )


def test_pipeline_job_life_cycle(sdk: VideoAnalyzer, account: str) -> None:
    sdk.pipeline_topologies.create_or_update(GROUP, account, "export-clip", batch_topology())
    jobs = sdk.pipeline_jobs
    status, job = jobs.create_or_update(GROUP, account, "export-1", export_job(), cls=with_status)
    assert status == 201
    assert (job.type, job.state, job.error) == (f"{ARM_TYPE}/pipelineJobs", "Processing", None)
    assert timedelta(days=6) < job.expiration - datetime.now(UTC) <= timedelta(days=7)
    assert_system_data(job)

    updated = jobs.update(GROUP, account, "export-1", m.PipelineJobUpdate(description="Renamed export"))
    assert (updated.description, updated.state) == ("Renamed export", "Processing")
    assert [item.name for item in jobs.list(GROUP, account)] == ["export-1"]
    status, code, _ = refusal(lambda: jobs.delete(GROUP, account, "export-1"))
    assert (status, code) == (409, "OperationNotAllowedInState")

    poller = jobs.begin_cancel(GROUP, account, "export-1", polling_interval=0)
    poller.result()
    assert poller.status() == "Succeeded"
    assert jobs.get(GROUP, account, "export-1").state == "Canceled"

    assert_deletes(jobs, account, "export-1")
    sdk.pipeline_topologies.delete(GROUP, account, "export-clip")


def test_server_left_no_errors_in_its_log(server: CloudProcess) -> None:
    """Every scenario above ran without a server-side traceback, and no key reached the log."""
    log = server.log_path.read_text(errors="replace")
    assert "Traceback" not in log, log[-4000:]
    assert server.operator_key not in log
