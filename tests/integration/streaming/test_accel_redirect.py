"""Segment bytes that bypass the service: ``X-Accel-Redirect`` to nginx, or a signed storage URL.

With ``streaming.accel_redirect_prefix`` set, the streaming family still checks the content token
and the segment index, then answers an empty 200 whose ``X-Accel-Redirect`` names the blob under
the prefix; a fronting nginx (``location ^~ /ova-blobs/ { internal; alias DATA_DIR/blobs/; }``, see
docs/deployment-nginx.md) sends the file. Refusals and misses never carry the header. With
``streaming.redirect_to_signed_urls`` and the filesystem store, segments redirect to the storage
family with a short-lived SAS, which serves the same bytes.

The nginx round trip needs the ``nginx`` binary; the README's test command does not install it
(``apt-get install -y --no-install-recommends nginx``), so that test is skipped without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import ValidationError

from ova.cloud.domain import accounts, segment_index
from ova.cloud.domain.arm import AccountScope, Principal
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.resources import KindContext, put
from ova.cloud.runtime import Cloud
from ova.cloud.settings import ClientApiSettings, CloudSettings, ListenerSettings, StreamingSettings
from ova.recording import archive_layout
from support.listeners import serving
from support.management import arm_error
from support.postgres import free_port

PREFIX = "/ova-blobs/"
ACCEL = StreamingSettings(accel_redirect_prefix=PREFIX)
SIGNED = StreamingSettings(redirect_to_signed_urls=True)
NGINX_START_SECONDS = 10.0
ORIGIN = "https://app.contoso.example"
SCOPE = AccountScope("00000000-0000-0000-0000-000000000001", "rg", "acct1")
SEGMENT_MS = 4000
SEGMENT_BYTES = 300_000
CONFIG_HASH = "c0ffee0123456789"
# What the streaming family sets for browsers and nginx drops on X-Accel-Redirect (it keeps only
# Content-Type, Cache-Control and a few others); the documented config passes these on.
PASSED_HEADERS = [
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Credentials",
    "Vary",
    "Referrer-Policy",
]

accel = pytest.mark.parametrize("streaming", [ACCEL], ids=["accel"])


@dataclass(frozen=True)
class Archive:
    base: str  # path of the video's archiveBaseUrl: /streaming/<account key>/videos/<video id>
    container: str
    token: str  # content token of this video
    other_token: str  # content token of another video of the same account
    init_path: str  # URL path under base
    init_blob: str
    segments: list[tuple[str, str, bytes]]  # (URL path under base, blob name, bytes)
    unstored: str  # URL path of a segment that is indexed but whose blob is missing


@pytest.fixture
def streaming() -> StreamingSettings:
    """The cloud's streaming mode; each test picks its own with ``parametrize("streaming", ...)``."""
    return StreamingSettings()


@pytest.fixture
def cloud_settings(tmp_path: Path, database_url: str, streaming: StreamingSettings) -> CloudSettings:
    """One listener on a free loopback port (port 0), every family, CORS for ``ORIGIN``."""
    return CloudSettings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        listeners=[ListenerSettings(port=0)],
        streaming=streaming,
        client_api=ClientApiSettings(cors_origins=[ORIGIN]),
    )


@pytest.fixture
async def archive(cloud: Cloud) -> Archive:
    """Video ``lobby`` of account ``acct1``: an init segment and three media segments stored and
    indexed as the recorder does, a fourth indexed but not stored, and content tokens for it and
    for video ``garage``."""
    services = cloud.services
    async with services.sessions.begin() as session:
        account, _ = await accounts.put(services, session, SCOPE, {"location": "local"}, Principal("t"))
        ctx = KindContext(services=services, session=session, account=account, principal=Principal("t"))
        video, _ = await put(ctx, videos.KIND, "lobby", {"properties": {"title": "Lobby"}})
        await put(ctx, videos.KIND, "garage", {"properties": {"title": "Garage"}})
        token = (await videos.list_content_token(ctx, "lobby"))["token"]
        other_token = (await videos.list_content_token(ctx, "garage"))["token"]
    container = archive_layout.container_name(video.id)
    await services.blobs.create_container(container)
    init = segment_index.StoredInit(
        CONFIG_HASH, archive_layout.init_blob_name(CONFIG_HASH), "avc1.64001f", 1280, 720, 90000
    )
    await services.blobs.put(container, init.blob_name, os.urandom(800), "video/mp4")
    start = (int(time.time()) - 3600) * 1000
    segments: list[tuple[str, str, bytes]] = []
    unstored = ""
    async with services.sessions.begin() as session:
        await segment_index.add_init(session, video.id, init, services.clock.now())
        for sequence in range(4):
            start_ms = start + sequence * SEGMENT_MS
            name = archive_layout.segment_blob_name(start_ms, sequence)
            data = os.urandom(SEGMENT_BYTES)
            stored = segment_index.StoredSegment(
                start_ms, SEGMENT_MS, sequence, name, len(data), "", CONFIG_HASH, False
            )
            await segment_index.add_segment(session, video.id, stored, services.clock.now())
            path = f"segments/{start_ms}-{sequence}.m4s"
            if sequence < 3:
                await services.blobs.put(container, name, data, "video/iso.segment")
                segments.append((path, name, data))
            else:
                unstored = path
    base = f"/streaming/{account.id.replace('-', '')}/videos/{videos.video_id(video)}"
    return Archive(
        base, container, token, other_token, f"init/{CONFIG_HASH}.mp4", init.blob_name, segments, unstored
    )


@pytest.fixture
async def viewer(cloud: Cloud) -> AsyncIterator[httpx.AsyncClient]:
    """A player on loopback, without credentials of its own (ASGI transport, no socket)."""
    listener, app = cloud.listeners[0]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url=listener.base_url()) as client:
        yield client


def url(archive: Archive, path: str, token: str | None = None) -> str:
    return f"{archive.base}/{path}" + (f"?token={token}" if token is not None else "")


@accel
async def test_a_valid_token_gets_an_empty_200_that_names_the_blob(
    viewer: httpx.AsyncClient, archive: Archive
) -> None:
    cases = [(path, blob, "video/iso.segment") for path, blob, _ in archive.segments]
    cases.append((archive.init_path, archive.init_blob, "video/mp4"))
    for path, blob, media_type in cases:
        response = await viewer.get(url(archive, path, archive.token))
        assert response.status_code == 200, response.text
        assert response.headers["x-accel-redirect"] == f"{PREFIX}{archive.container}/{blob}"
        assert response.content == b""
        assert response.headers["content-length"] == "0"
        assert response.headers["content-type"] == media_type
        assert response.headers["cache-control"].startswith("private")
        assert response.headers["referrer-policy"] == "no-referrer"

    path, blob, _ = archive.segments[0]
    bearer = await viewer.get(url(archive, path), headers={"Authorization": f"Bearer {archive.token}"})
    assert bearer.status_code == 200
    assert bearer.headers["x-accel-redirect"] == f"{PREFIX}{archive.container}/{blob}"


@accel
async def test_a_missing_segment_is_404_without_a_redirect(
    viewer: httpx.AsyncClient, archive: Archive
) -> None:
    not_indexed = archive.segments[0][0].replace("-0.m4s", "-99.m4s")
    for path in (not_indexed, archive.unstored, "init/0123456789abcdef.mp4"):
        response = await viewer.get(url(archive, path, archive.token))
        arm_error(response, 404)
        assert "x-accel-redirect" not in response.headers, path


@accel
async def test_a_missing_or_invalid_token_is_refused_without_a_redirect(
    viewer: httpx.AsyncClient, archive: Archive
) -> None:
    path = archive.segments[0][0]
    tampered = archive.token[:-4] + ("AAAA" if not archive.token.endswith("AAAA") else "BBBB")
    refusals = {
        "absent": (url(archive, path), 401),
        "garbage": (url(archive, path, "not-a-token"), 401),
        "tampered": (url(archive, path, tampered), 401),
        "another video's": (url(archive, path, archive.other_token), 403),
    }
    for how, (target, status) in refusals.items():
        response = await viewer.get(target)
        assert response.status_code == status, (how, response.text)
        arm_error(response, status)
        assert "x-accel-redirect" not in response.headers, how
    # and a missing segment behind an invalid token says nothing about the index
    unknown = await viewer.get(url(archive, archive.unstored, "not-a-token"))
    arm_error(unknown, 401)


# -- through a real nginx --------------------------------------------------------------------


def nginx_config(work: Path, blobs: Path, ova_port: int, port: int) -> Path:
    """The deployment of docs/deployment-nginx.md, on loopback, with its files under ``work``."""
    passed = "\n            ".join(
        f"add_header {name} $upstream_http_{name.lower().replace('-', '_')} always;"
        for name in PASSED_HEADERS
    )
    # As root, workers would switch to nobody, who cannot enter pytest's 0700 temp folders.
    user = "user root;" if os.geteuid() == 0 else ""
    config = work / "nginx.conf"
    config.write_text(
        f"""{user}
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
    sendfile on;
    access_log off;
    default_type application/octet-stream;
    client_body_temp_path {work}/body; proxy_temp_path {work}/proxy; fastcgi_temp_path {work}/fcgi;
    uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
    upstream ova {{ server 127.0.0.1:{ova_port}; keepalive 8; }}
    server {{
        listen 127.0.0.1:{port};
        location ^~ {PREFIX} {{
            internal;
            alias {blobs}/;
            {passed}
        }}
        location / {{
            proxy_pass http://ova;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
        }}
    }}
}}
"""
    )
    return config


@contextlib.asynccontextmanager
async def nginx(config: Path, port: int) -> AsyncIterator[None]:
    """nginx in its own process group, ready on ``port``; stopped (SIGTERM, then SIGKILL) at exit."""
    work = config.parent
    process = await asyncio.create_subprocess_exec(
        "nginx",
        "-p",
        str(work),
        "-e",
        str(work / "error.log"),
        "-c",
        str(config),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        async with asyncio.timeout(NGINX_START_SECONDS):
            while True:
                if process.returncode is not None:
                    log = (work / "error.log").read_text() if (work / "error.log").exists() else ""
                    raise RuntimeError(f"nginx exited with {process.returncode}: {log}")
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", port)) == 0:
                        break
                await asyncio.sleep(0.05)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            async with asyncio.timeout(10):
                await process.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()


@accel
@pytest.mark.skipif(
    shutil.which("nginx") is None,
    reason="nginx is not installed (apt-get install -y --no-install-recommends nginx); "
    "the README's test command does not install it for this one test",
)
async def test_through_nginx_the_bytes_are_the_stored_blob(
    cloud: Cloud, archive: Archive, tmp_path: Path
) -> None:
    blobs = (cloud.settings.data_dir / "blobs").resolve()
    work = tmp_path / "nginx"
    work.mkdir()
    port = free_port()
    async with serving(cloud) as (ova_port,):
        config = nginx_config(work, blobs, ova_port, port)
        async with (
            nginx(config, port),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
        ):
            for path, blob, data in archive.segments:
                response = await client.get(url(archive, path, archive.token), headers={"Origin": ORIGIN})
                assert response.status_code == 200, response.text
                assert response.content == data == await cloud.services.blobs.get(archive.container, blob)
                assert response.headers["content-type"] == "video/iso.segment"
                assert response.headers["cache-control"].startswith("private")
                assert response.headers["access-control-allow-origin"] == ORIGIN
                assert response.headers["referrer-policy"] == "no-referrer"
                assert "x-accel-redirect" not in response.headers

            path, _, data = archive.segments[1]
            ranged = await client.get(url(archive, path, archive.token), headers={"Range": "bytes=100-199"})
            assert ranged.status_code == 206
            assert ranged.content == data[100:200]

            refused = await client.get(url(archive, path, "not-a-token"))
            arm_error(refused, 401)
            assert data[:64] not in refused.content
            missing = await client.get(url(archive, archive.unstored, archive.token))
            arm_error(missing, 404)
            # the blobs are reachable only through ova's redirect, never by their own path
            direct = await client.get(f"{PREFIX}{archive.container}/{archive.segments[0][1]}")
            assert direct.status_code == 404
            assert data[:64] not in direct.content


# -- signed blob URLs ------------------------------------------------------------------------


@pytest.mark.parametrize("streaming", [SIGNED], ids=["signed"])
async def test_signed_urls_redirect_to_the_storage_family_which_serves_the_same_bytes(
    viewer: httpx.AsyncClient, archive: Archive
) -> None:
    for path, blob, data in archive.segments:
        response = await viewer.get(url(archive, path, archive.token))
        assert response.status_code == 302, response.text
        assert response.headers["cache-control"] == "private, no-store"
        assert "x-accel-redirect" not in response.headers
        location = urlsplit(response.headers["location"])
        assert location.path == f"/storage/{archive.container}/{blob}"
        query = parse_qs(location.query)
        assert query["sig"] and query["sp"] == ["r"], query

        fetched = await viewer.get(response.headers["location"])
        assert fetched.status_code == 200, fetched.text
        assert fetched.content == data

    tampered = response.headers["location"].replace("sp=r", "sp=rw")
    assert (await viewer.get(tampered)).status_code == 403
    refused = await viewer.get(url(archive, archive.segments[0][0], "not-a-token"))
    arm_error(refused, 401)
    assert "location" not in refused.headers


@pytest.mark.parametrize("prefix", ["ova-blobs/", "@blobs", "/ova blobs/", "/blobs?x=1", "/blobs%2F"])
def test_the_accel_prefix_must_be_an_absolute_path(prefix: str) -> None:
    # nginx would resolve a relative one against the server root, outside the internal location
    with pytest.raises(ValidationError, match="accel_redirect_prefix"):
        StreamingSettings(accel_redirect_prefix=prefix)
