"""Driving the management (ARM) API in tests: URLs, request bodies, the error envelope, state snapshots.

``Arm`` wraps the ``api`` client for one account; ``Arm.snapshot`` reads every row a
management request may write, so a test can prove that a refused request changed nothing.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import select

from ova.cloud.db.models import (
    AccountRow,
    ApiKeyRow,
    OperationRow,
    ProvisioningTokenRow,
    ResourceRow,
    SigningKeyRow,
)
from ova.cloud.runtime import Cloud

API_VERSION = "2021-11-01-preview"
SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"
GROUP = "rg1"
LOCATION = "westus"
P = "#Microsoft.VideoAnalyzer."
COLLECTIONS = (
    "videos",
    "accessPolicies",
    "edgeModules",
    "pipelineTopologies",
    "livePipelines",
    "pipelineJobs",
)
Json = dict[str, Any]
UNSET: Any = object()
STORED_TABLES = [
    model.__table__
    for model in (AccountRow, ResourceRow, ProvisioningTokenRow, OperationRow, ApiKeyRow, SigningKeyRow)
]


def account_path(name: str, group: str = GROUP, subscription: str = SUBSCRIPTION) -> str:
    group_path = f"/subscriptions/{subscription}/resourceGroups/{group}"
    return f"{group_path}/providers/Microsoft.Media/videoAnalyzers/{name}"


def with_version(path: str, api_version: str | None = API_VERSION, **query: str) -> str:
    params = {"api-version": api_version, **query} if api_version is not None else query
    return str(httpx.URL(path, params=params)) if params else path


def account_body(location: str = LOCATION, **extra: Any) -> Json:
    storage = {"id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{GROUP}/providers/x/storageAccounts/s"}
    return {"location": location, "properties": {"storageAccounts": [storage]}, **extra}


@dataclass
class Arm:
    """The management API of one account, as one operator sees it."""

    client: httpx.AsyncClient
    cloud: Cloud
    account: str = "acct1"
    group: str = GROUP

    @property
    def base(self) -> str:
        return account_path(self.account, self.group)

    def url(self, path: str = "", api_version: str | None = API_VERSION, **query: str) -> str:
        """``path`` relative to the account (``videos/v1``), or absolute when it starts with ``/``."""
        full = path if path.startswith("/") else f"{self.base}/{path}".rstrip("/")
        return with_version(full, api_version, **query)

    async def call(
        self,
        method: str,
        path: str = "",
        body: Any = UNSET,
        *,
        content: bytes | None = None,
        api_version: str | None = API_VERSION,
        **query: str,
    ) -> httpx.Response:
        kwargs: dict[str, Any] = {}
        if body is not UNSET:
            kwargs["json"] = body
        elif content is not None:
            kwargs["content"] = content
            kwargs["headers"] = {"Content-Type": "application/json"}
        return await self.client.request(method, self.url(path, api_version, **query), **kwargs)

    async def ok(self, method: str, path: str = "", body: Any = UNSET, **query: str) -> Json:
        """Send a request that must succeed; its JSON body (``{}`` when empty)."""
        response = await self.call(method, path, body, **query)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        return response.json() if response.content and response.text != "null" else {}

    async def create_account(self, location: str = LOCATION) -> Json:
        return await self.ok("PUT", "", account_body(location))

    async def get(self, path: str) -> Json:
        return await self.ok("GET", path)

    async def list_all(self, collection: str) -> list[Json]:
        """Every item of a collection, following ``@nextLink``."""
        page = await self.ok("GET", collection)
        items = list(page["value"])
        while "@nextLink" in page:
            response = await self.client.get(page["@nextLink"])
            assert response.status_code == 200, response.text
            page = response.json()
            items += page["value"]
        return items

    async def snapshot(self) -> Json:
        """Every row a management request may write, read straight from the metadata store.

        Stronger than reading through the API: it also sees provisioning tokens, operation
        records and server-owned fields that responses never show.
        """
        state: Json = {}
        async with self.cloud.services.sessions() as session:
            for table in STORED_TABLES:
                rows = (await session.execute(select(table))).mappings()
                state[table.name] = sorted((dict(row) for row in rows), key=repr)
        return state


# --- the error envelope ---------------------------------------------------------------------------


def arm_error(
    response: httpx.Response, status: int, code: str | None = None, target: str | None = None
) -> Json:
    """Check that ``response`` is an ARM error of ``status`` (and ``code``/``target``); its ``error``."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert list(body) == ["error"], body
    error: Json = body["error"]
    assert set(error) == {"code", "message", "target", "details"}, error
    assert isinstance(error["message"], str) and error["message"], error
    assert isinstance(error["details"], list), error
    for leak in ("Traceback", 'File "', "sqlalchemy", "psycopg", "sqlite3"):
        assert leak not in response.text, response.text
    if code is not None:
        assert error["code"] == code, error
    if target is not None:
        assert error["target"] == target, error
    return error


@dataclass(frozen=True)
class Refused:
    """A request the API must refuse with ``status`` (and ``code``) without changing anything.

    ``body`` is sent as JSON; ``raw`` as bytes (for bodies that are not JSON at all).
    """

    id: str
    method: str
    path: str
    body: Any = UNSET
    status: int = 400
    code: str | None = None
    target: str | None = None
    raw: bytes | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    api_version: str | None = API_VERSION

    async def send(self, arm: Arm) -> httpx.Response:
        return await arm.call(
            self.method, self.path, self.body, content=self.raw, api_version=self.api_version, **self.query
        )


async def check_refused(arm: Arm, subtests: Any, cases: Iterable[Refused]) -> None:
    """Send each case and require its error, then require the observable state to be unchanged."""
    before = await arm.snapshot()
    for case in cases:
        with subtests.test(msg=case.id):
            arm_error(await case.send(arm), case.status, case.code, case.target)
            assert await arm.snapshot() == before, f"{case.id} changed the state"


# --- request bodies ------------------------------------------------------------------------------


def credentials() -> Json:
    return {
        "@type": f"{P}UsernamePasswordCredentials",
        "username": "${rtspUserName}",
        "password": "${rtspPassword}",
    }


def live_topology(*extra_parameters: Json, video_name: str = "${videoName}", **sink_extra: Any) -> Json:
    """RTSP camera -> video sink, as in the original cloud samples."""
    source = {
        "@type": f"{P}RtspSource",
        "name": "rtspSource",
        "transport": "Tcp",
        "endpoint": {"@type": f"{P}UnsecuredEndpoint", "url": "${rtspUrl}", "credentials": credentials()},
    }
    sink = {
        "@type": f"{P}VideoSink",
        "name": "videoSink",
        "videoName": video_name,
        "videoCreationProperties": {
            "title": "Parking lot",
            "description": "Continuous recording",
            "segmentLength": "PT30S",
            "retentionPeriod": "P30D",
        },
        "inputs": [{"nodeName": "rtspSource"}],
        **sink_extra,
    }
    parameters = [
        {"name": "rtspUrl", "type": "String"},
        {"name": "rtspUserName", "type": "String", "default": "admin"},
        {"name": "rtspPassword", "type": "SecretString", "default": "topology-default-pw"},
        {"name": "videoName", "type": "String", "default": "camera-video"},
        *extra_parameters,
    ]
    return {
        "kind": "Live",
        "sku": {"name": "Live_S1"},
        "properties": {
            "description": "Record one camera",
            "parameters": parameters,
            "sources": [source],
            "sinks": [sink],
        },
    }


def batch_topology() -> Json:
    """Archived video -> encoder -> MP4 video."""
    source = {
        "@type": f"{P}VideoSource",
        "name": "videoSource",
        "videoName": "${sourceVideoName}",
        "timeSequences": {"@type": f"{P}VideoSequenceAbsoluteTimeMarkers", "ranges": "${timeSequence}"},
    }
    encoder = {
        "@type": f"{P}EncoderProcessor",
        "name": "encoder",
        "preset": {"@type": f"{P}EncoderSystemPreset", "name": "SingleLayer_1080p_H264_AAC"},
        "inputs": [{"nodeName": "videoSource"}],
    }
    sink = {
        "@type": f"{P}VideoSink",
        "name": "videoSink",
        "videoName": "${outputVideoName}",
        "inputs": [{"nodeName": "encoder"}],
    }
    names = ("sourceVideoName", "timeSequence", "outputVideoName")
    return {
        "kind": "Batch",
        "sku": {"name": "Batch_S1"},
        "properties": {
            "parameters": [{"name": name, "type": "String"} for name in names],
            "sources": [source],
            "processors": [encoder],
            "sinks": [sink],
        },
    }


def live_pipeline(
    topology: str = "live", bitrate: int = 1500, description: str | None = None, **parameters: str
) -> Json:
    values = {"rtspUrl": "rtsp://camera.example/stream", **parameters}
    properties: Json = {
        "topologyName": topology,
        "bitrateKbps": bitrate,
        "parameters": [{"name": name, "value": value} for name, value in values.items()],
    }
    if description is not None:
        properties["description"] = description
    return {"properties": properties}


def pipeline_job(topology: str = "batch", description: str | None = None, **parameters: str) -> Json:
    values = {
        "sourceVideoName": "camera-video",
        "timeSequence": '[["2021-10-05T03:30:00Z","2021-10-05T03:45:00Z"]]',
        "outputVideoName": "export-1",
        **parameters,
    }
    properties: Json = {
        "topologyName": topology,
        "parameters": [{"name": name, "value": value} for name, value in values.items()],
    }
    if description is not None:
        properties["description"] = description
    return {"properties": properties}


# --- access-policy keys ---------------------------------------------------------------------------


def b64url(value: int, length: int | None = None) -> str:
    raw = value.to_bytes(length or (value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@functools.cache
def rsa_numbers(bits: int = 2048) -> rsa.RSAPublicNumbers:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key().public_numbers()


@functools.cache
def ec_numbers(alg: str = "ES256") -> ec.EllipticCurvePublicNumbers:
    curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[alg]
    return ec.generate_private_key(curve).public_key().public_numbers()


def rsa_key(kid: str = "rsa-1", bits: int = 2048, alg: str = "RS256", e: int | None = None) -> Json:
    numbers = rsa_numbers(bits)
    return {
        "@type": f"{P}RsaTokenKey",
        "kid": kid,
        "alg": alg,
        "n": b64url(numbers.n),
        "e": b64url(numbers.e if e is None else e),
    }


def ec_key(kid: str = "ec-1", alg: str = "ES256", curve_alg: str | None = None, y_delta: int = 0) -> Json:
    numbers = ec_numbers(curve_alg or alg)
    size = (numbers.curve.key_size + 7) // 8
    return {
        "@type": f"{P}EccTokenKey",
        "kid": kid,
        "alg": alg,
        "x": b64url(numbers.x, size),
        "y": b64url(numbers.y + y_delta, size),
    }


def access_policy(*keys: Json, issuer: str = "https://issuer.example") -> Json:
    return {
        "properties": {
            "role": "Reader",
            "authentication": {
                "@type": f"{P}JwtAuthentication",
                "issuers": [issuer],
                "audiences": ["https://audience.example"],
                "keys": list(keys) or [rsa_key()],
            },
        }
    }


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()
