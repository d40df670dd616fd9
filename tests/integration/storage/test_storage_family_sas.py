"""SAS rows S1 and S3-S7, S9 of the security matrix, against the storage family.

S2 (scope escape through the path) is in test_storage_family_paths.py, over a real socket.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from urllib.parse import parse_qsl, quote, urlencode

import httpx
import pytest
from azure.storage.blob import generate_blob_sas
from starlette.applications import Starlette
from starlette.routing import Mount

from ova.cloud.api.storage.app import create_app
from ova.common.clock import FrozenClock
from ova.storage.filesystem import FilesystemBlobStore
from ova.storage.sas import SasSigner
from support.azurite import ACCOUNT, ACCOUNT_KEY

BLOB = "segments/2030/01/01/12/1893499200000-1.m4s"
OTHER_KEY = "b3RoZXIga2V5IGZvciByb3RhdGlvbiB0ZXN0cyAtIDY0IGJ5dGVzIGxvbmcgLi4uLi4uLi4uLi4uLi4uLi4uLi4uLi4uLg=="


def sas(
    signer: SasSigner, clock: FrozenClock, container: str, blob: str | None, permissions: str
) -> list[tuple[str, str]]:
    return parse_qsl(signer.sign(container, blob, permissions, clock.now() + timedelta(hours=1)))


def path(container: str, blob: str | None, query: list[tuple[str, str]]) -> str:
    return f"/storage/{container}" + (f"/{blob}" if blob else "") + "?" + urlencode(query, quote_via=quote)


def replaced(query: list[tuple[str, str]], **changes: str) -> list[tuple[str, str]]:
    return [(name, changes.get(name, value)) for name, value in query]


@pytest.fixture
async def stored(fs_store: FilesystemBlobStore, family: httpx.AsyncClient, container: str) -> bytes:
    data = b"recorded media"
    await fs_store.put(container, BLOB, data, "video/mp4")
    return data


async def test_s1_any_edit_of_a_signed_field_is_refused(
    family: httpx.AsyncClient, signer: SasSigner, clock: FrozenClock, container: str, stored: bytes
) -> None:
    query = sas(signer, clock, container, None, "r")
    assert (await family.get(path(container, BLOB, query))).content == stored
    edits = [
        {"sp": "rl"},
        {"sp": "racwdl"},
        {"se": "2031-01-01T00:00:00Z"},
        {"st": "2029-01-01T00:00:00Z"},
        {"sv": "2021-08-06"},
        {"spr": "https,http"},
        {"sig": "A" + dict(query)["sig"][1:]},
    ]
    for edit in edits:
        response = await family.get(path(container, BLOB, replaced(query, **edit)))
        assert response.status_code == 403, edit
        assert response.headers["x-ms-error-code"] == "AuthenticationFailed"


async def test_s1_resource_type_and_signature_reuse_are_refused(
    family: httpx.AsyncClient, signer: SasSigner, clock: FrozenClock, container: str, stored: bytes
) -> None:
    blob_query = sas(signer, clock, container, BLOB, "r")
    assert (await family.get(path(container, BLOB, blob_query))).status_code == 200
    as_container = replaced(blob_query, sr="c")
    assert (await family.get(path(container, BLOB, as_container))).status_code == 403
    other = sas(signer, clock, container, "segments/other.m4s", "r")
    reused = replaced(blob_query, sig=dict(other)["sig"])
    assert (await family.get(path(container, BLOB, reused))).status_code == 403


async def test_s2_scope_is_the_signed_container_or_blob(
    family: httpx.AsyncClient,
    signer: SasSigner,
    clock: FrozenClock,
    container: str,
    stored: bytes,
    fs_store: FilesystemBlobStore,
) -> None:
    await fs_store.create_container("other-camera")
    await fs_store.put("other-camera", BLOB, b"secret", "video/mp4")
    container_query = sas(signer, clock, container, None, "rl")
    assert (await family.get(path("other-camera", BLOB, container_query))).status_code == 403
    listing = [*container_query, ("restype", "container"), ("comp", "list")]
    assert (await family.get(path("other-camera", None, listing))).status_code == 403
    blob_query = sas(signer, clock, container, BLOB, "r")
    assert (await family.get(path(container, BLOB + "x", blob_query))).status_code == 403
    assert (
        await family.get(path(container, None, [*blob_query, ("restype", "container"), ("comp", "list")]))
    ).status_code == 403


async def test_s3_create_only_sas_cannot_read_list_delete_or_overwrite(
    family: httpx.AsyncClient,
    signer: SasSigner,
    clock: FrozenClock,
    container: str,
    stored: bytes,
    fs_store: FilesystemBlobStore,
) -> None:
    create = sas(signer, clock, container, None, "c")
    assert (await family.put(path(container, "segments/new.m4s", create), content=b"n")).status_code == 201
    overwrite = await family.put(path(container, BLOB, create), content=b"tampered")
    assert overwrite.status_code == 409
    assert (await family.put(path(container, BLOB, create), content=stored)).status_code == 201
    assert (await family.get(path(container, BLOB, create))).status_code == 403
    assert (await family.head(path(container, BLOB, create))).status_code == 403
    assert (await family.delete(path(container, BLOB, create))).status_code == 403
    listing = [*create, ("restype", "container"), ("comp", "list")]
    denied = await family.get(path(container, None, listing))
    assert (denied.status_code, denied.headers["x-ms-error-code"]) == (403, "AuthorizationPermissionMismatch")
    writer = sas(signer, clock, container, None, "w")
    assert (await family.put(path(container, BLOB, writer), content=b"tampered")).status_code == 409
    read_only = sas(signer, clock, container, None, "r")
    assert (await family.put(path(container, "segments/r.m4s", read_only), content=b"x")).status_code == 403
    assert await fs_store.get(container, BLOB) == stored
    assert await fs_store.head(container, "segments/r.m4s") is None


async def test_s4_expiry_start_and_replay(
    family: httpx.AsyncClient, signer: SasSigner, clock: FrozenClock, container: str, stored: bytes
) -> None:
    now = clock.now()
    expired = parse_qsl(
        signer.sign(container, BLOB, "r", now + timedelta(minutes=5), now - timedelta(minutes=20))
    )
    query = sas(signer, clock, container, BLOB, "r")
    assert dict(query)["st"] == (now - timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
    future = parse_qsl(
        signer.sign(container, BLOB, "r", now + timedelta(hours=2), now + timedelta(minutes=1))
    )
    assert (await family.get(path(container, BLOB, future))).status_code == 403
    clock.advance(timedelta(minutes=5))  # exactly at se
    assert (await family.get(path(container, BLOB, expired))).status_code == 403
    assert (await family.get(path(container, BLOB, query))).status_code == 200
    clock.advance(timedelta(hours=1))  # replay after se
    assert (await family.get(path(container, BLOB, query))).status_code == 403


async def test_s5_https_only_sas_over_http_and_missing_spr(
    family_app: Starlette, signer: SasSigner, clock: FrozenClock, container: str, stored: bytes
) -> None:
    query = sas(signer, clock, container, BLOB, "r")
    transport = httpx.ASGITransport(app=family_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://media.example.test") as plain:
        denied = await plain.get(path(container, BLOB, query))
        assert (denied.status_code, denied.headers["x-ms-error-code"]) == (
            403,
            "AuthorizationProtocolMismatch",
        )
        expiry = clock.now() + timedelta(hours=1)
        no_spr = generate_blob_sas(
            ACCOUNT, container, BLOB, account_key=ACCOUNT_KEY, permission="r", expiry=expiry
        )
        assert (await plain.get(path(container, BLOB, parse_qsl(no_spr)))).status_code == 403
        http_ok = parse_qsl(signer.sign(container, BLOB, "r", expiry, allow_http=True))
        assert (await plain.get(path(container, BLOB, http_ok))).status_code == 200


async def test_s6_ambiguous_queries_are_refused(
    family: httpx.AsyncClient, signer: SasSigner, clock: FrozenClock, container: str, stored: bytes
) -> None:
    query = sas(signer, clock, container, BLOB, "r")
    fields = dict(query)
    variants = [
        [*query, ("sig", fields["sig"])],
        [*query, ("sp", "r")],
        [(name.upper() if name == "sig" else name, value) for name, value in query],
        [*query, ("SIG", fields["sig"])],
        [*query, ("si", "policy1")],
    ]
    for variant in variants:
        assert (await family.get(path(container, BLOB, variant))).status_code == 403, variant


async def test_s7_key_rollover(
    fs_store: FilesystemBlobStore, clock: FrozenClock, container: str, stored: bytes, signer: SasSigner
) -> None:
    old_primary = signer
    rotating = SasSigner.from_base64(ACCOUNT, OTHER_KEY, ACCOUNT_KEY, clock=clock)
    rotated = SasSigner.from_base64(ACCOUNT, OTHER_KEY, clock=clock)
    issued_before = sas(old_primary, clock, container, BLOB, "r")
    issued_during = sas(rotating, clock, container, BLOB, "r")

    async def status(verifier: SasSigner, query: list[tuple[str, str]]) -> int:
        app = Starlette(routes=[Mount("/storage", app=create_app(fs_store, verifier, ACCOUNT, clock))])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://h") as client:
            return (await client.get(path(container, BLOB, query))).status_code

    assert await status(rotating, issued_before) == 200  # both keys valid during the overlap
    assert await status(rotating, issued_during) == 200
    assert await status(old_primary, issued_during) == 403
    assert await status(rotated, issued_before) == 403  # the old key is gone
    assert await status(rotated, issued_during) == 200


async def test_s9_signatures_never_reach_logs_or_error_bodies(
    family: httpx.AsyncClient,
    signer: SasSigner,
    clock: FrozenClock,
    container: str,
    stored: bytes,
    caplog: pytest.LogCaptureFixture,
    fs_store: FilesystemBlobStore,
    monkeypatch: pytest.MonkeyPatch,
    family_app: Starlette,
) -> None:
    caplog.set_level(logging.DEBUG)
    query = sas(signer, clock, container, None, "rcl")
    signature = dict(query)["sig"]
    bodies: list[str] = []
    for request in [
        family.build_request("GET", path(container, BLOB, query)),
        family.build_request("GET", path(container, "missing", query)),
        family.build_request("PUT", path(container, BLOB, query), content=b"different"),
        family.build_request("DELETE", path(container, BLOB, query)),
        family.build_request("GET", path(container, BLOB, replaced(query, sp="rcwl"))),
        family.build_request("GET", path(container, "a/../b", query)),
        family.build_request("GET", path(container, BLOB, [*query, ("sig", signature)])),
    ]:
        bodies.append((await family.send(request)).text)

    async def broken(*_args: object) -> object:
        raise RuntimeError(f"disk on fire while serving ?sig={quote(signature)}")

    monkeypatch.setattr(fs_store, "local_file", broken)
    transport = httpx.ASGITransport(app=family_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://media.example.test") as client:
        failure = await client.get(path(container, BLOB, query))
    assert failure.status_code == 500
    bodies.append(failure.text)
    for text in bodies:
        assert signature not in text and quote(signature, safe="") not in text
        assert not re.search(r"sig=[^&\s<\"]", text)
    # The test's own client (httpx) logs the URLs it requests; everything on the server side must not.
    server_side = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    )
    assert "RuntimeError" in server_side  # the 500 was logged
    assert signature not in server_side and quote(signature, safe="") not in server_side
