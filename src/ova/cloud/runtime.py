"""Composition root of ``ova cloud``: builds the store, services, family apps and listeners once."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp

from ova.auth.service_tokens import ServiceTokenSigner
from ova.cloud import data_dir, key_encryption
from ova.cloud.api.client.app import create_app as client_app
from ova.cloud.api.edge.app import create_app as edge_app
from ova.cloud.api.management.app import create_app as management_app
from ova.cloud.api.storage.app import create_app as storage_app
from ova.cloud.api.streaming.app import create_app as streaming_app
from ova.cloud.api.telemetry.app import create_app as telemetry_app
from ova.cloud.db import migrate
from ova.cloud.db.engine import create_engine, session_factory, sqlite_database_path
from ova.cloud.domain import signing_keys, telemetry
from ova.cloud.domain.edge_link.link import EdgeLink
from ova.cloud.domain.operator_keys import ApiKeyAuthenticator, OperatorAuthenticator
from ova.cloud.domain.services import CloudServices, PublicUrls
from ova.cloud.families import empty_family, listener_app
from ova.cloud.guards import front_door
from ova.cloud.metrics import CloudMetrics
from ova.cloud.player import default_player_dir
from ova.cloud.recording.host import PipelineHost, keyframe_pool
from ova.cloud.retention_worker import RetentionWorker
from ova.cloud.settings import CloudSettings, Family, ListenerSettings
from ova.common.clock import Clock, SystemClock
from ova.contracts.iot_hub import ConnectionString
from ova.hub.metrics import HubCollector
from ova.hub.runtime import Hub
from ova.hub.service_auth import ServiceAuthenticator, parse_rights
from ova.media.camera_networks import CameraNetworks
from ova.storage.blob_store import BlobStore
from ova.storage.filesystem import FilesystemBlobStore
from ova.storage.keys import load_or_create_keys
from ova.storage.registry import open_blob_store
from ova.storage.sas import SasSigner


@dataclass
class Cloud:
    """A built cloud service: what the server runs and what tests drive directly."""

    settings: CloudSettings
    engine: AsyncEngine
    services: CloudServices
    apps: dict[Family, FastAPI]
    pipelines: PipelineHost | None = None
    retention: RetentionWorker | None = None
    listeners: list[tuple[ListenerSettings, ASGIApp]] = field(default_factory=list)
    hub: Hub | None = None

    async def start(self) -> None:
        """Start background work: recording active cloud live pipelines, applying retention, the hub."""
        if self.hub is not None and self.settings.hub.enabled:
            await self.hub.start()
        if self.pipelines is not None:
            await self.pipelines.start()
        if self.retention is not None:
            await self.retention.start()

    async def close(self) -> None:
        if self.hub is not None:
            await self.hub.close()
        if self.retention is not None:
            await self.retention.close()
        if self.pipelines is not None:
            await self.pipelines.close()
        await self.services.blobs.close()
        await self.engine.dispose()


async def prepare_store(settings: CloudSettings) -> None:
    """Create the data directory (or refuse one open to other users) and bring the schema up to date."""
    database = sqlite_database_path(settings.resolved_database_url)
    await asyncio.to_thread(data_dir.prepare, settings.data_dir, database)
    await asyncio.to_thread(migrate.upgrade, settings.resolved_database_url)


async def open_storage(settings: CloudSettings, clock: Clock) -> tuple[SasSigner, BlobStore]:
    """The blob store for media and the signer of the filesystem store's SAS URLs."""
    keys = await asyncio.to_thread(load_or_create_keys, settings.data_dir / "storage-keys.json")
    signer = SasSigner(settings.storage.account_name, keys.primary, keys.secondary, clock=clock)
    listener = settings.listener_for(Family.STORAGE)
    url = settings.storage.url or f"file://{(settings.data_dir / 'blobs').resolve()}"
    key = settings.storage.account_key.get_secret_value() if settings.storage.account_key else None
    public_url = listener.base_url() + "/storage" if listener else None
    store = await asyncio.to_thread(
        open_blob_store, url, account_key=key, signer=signer, public_url=public_url
    )
    return signer, store


async def open_signer(settings: CloudSettings, engine: AsyncEngine, clock: Clock) -> ServiceTokenSigner:
    """The service's token signer; its keys are sealed in the store under the key-encryption key."""
    try:
        kek = await asyncio.to_thread(key_encryption.resolve, settings)
        async with session_factory(engine).begin() as session:
            keys = await signing_keys.load_or_create(session, clock, kek)
    except BaseException:
        await engine.dispose()  # refused at start-up: leave no connection behind
        raise
    return ServiceTokenSigner(keys)


async def add_edge_families(
    apps: dict[Family, FastAPI], services: CloudServices, authenticator: OperatorAuthenticator
) -> None:
    """The edge and telemetry families: module keys sealed by the KEK, the telemetry pre-shared key."""
    settings = services.settings
    kek = await asyncio.to_thread(key_encryption.resolve, settings)
    key = await asyncio.to_thread(telemetry.load_or_create_key, settings)
    base = services.urls.bases.get(Family.TELEMETRY)
    url = f"{base}/telemetry/v1/reports" if base else None
    enabled = settings.telemetry.enabled
    link = EdgeLink(services=services, kek=kek, telemetry_url=url, telemetry_key=key if enabled else None)
    apps[Family.EDGE] = edge_app(link)
    apps[Family.TELEMETRY] = telemetry_app(services, authenticator, key)


async def build_hub(services: CloudServices) -> Hub:
    """The device hub on the cloud's store, its keys sealed by the KEK (started only when enabled)."""
    kek = await asyncio.to_thread(key_encryption.resolve, services.settings)
    return Hub(services.settings.hub, services.sessions, kek, services.clock)


async def create_hub_policy(settings: CloudSettings, name: str, rights: str) -> ConnectionString:
    """``ova admin hub-policy``: a hub access policy in the deployment's store, and its connection string."""
    await prepare_store(settings)
    engine = create_engine(settings.resolved_database_url)
    try:
        kek = await asyncio.to_thread(key_encryption.resolve, settings)
        auth = ServiceAuthenticator(session_factory(engine), kek, SystemClock(), settings.hub.host_name)
        created = await auth.create_policy(name, parse_rights(rights))
    finally:
        await engine.dispose()
    listener = settings.listener_for(Family.HUB)
    if listener is not None and listener.port not in (0, 443):  # the service SDK calls https://{HostName}
        return dataclasses.replace(created, host_name=f"{settings.hub.host_name}:{listener.port}")
    return created


async def build(settings: CloudSettings, clock: Clock | None = None) -> Cloud:
    clock = clock or SystemClock()
    await prepare_store(settings)
    engine = create_engine(settings.resolved_database_url)
    sessions = session_factory(engine)
    tokens = await open_signer(settings, engine, clock)
    sas_signer, blobs = await open_storage(settings, clock)
    services = CloudServices(
        settings=settings,
        sessions=sessions,
        clock=clock,
        urls=PublicUrls.from_settings(settings),
        tokens=tokens,
        blobs=blobs,
    )
    authenticator: OperatorAuthenticator = ApiKeyAuthenticator(sessions)
    apps = {family: empty_family(family) for family in Family}
    recording = settings.recording
    pipelines = PipelineHost(
        services,
        int(recording.segment_seconds * 1000) if recording.segment_seconds else None,
        camera_networks=CameraNetworks.parse(recording.camera_networks),
        keyframes=keyframe_pool(recording.keyframe_check),
    )
    apps[Family.MANAGEMENT] = management_app(services, authenticator, pipelines)
    apps[Family.CLIENT] = client_app(services)
    apps[Family.STREAMING] = streaming_app(services)
    await add_edge_families(apps, services, authenticator)
    hub = await build_hub(services)
    apps[Family.HUB] = hub.app
    if isinstance(blobs, FilesystemBlobStore):
        storage = settings.storage
        apps[Family.STORAGE] = storage_app(
            blobs, sas_signer, storage.account_name, clock, max_blob_bytes=storage.max_blob_bytes
        )
    metrics = CloudMetrics(engine)
    metrics.registry.register(HubCollector(hub))
    cloud = Cloud(
        settings=settings, engine=engine, services=services, apps=apps, pipelines=pipelines, hub=hub
    )
    cloud.retention = RetentionWorker(services, metrics.registry)
    player_dir = settings.player_dir or default_player_dir()
    for listener in settings.listeners:
        app = listener_app(listener, apps, metrics, settings.max_request_body_bytes, player_dir)
        app = front_door(app, settings.trusted_proxies)
        cloud.listeners.append((listener, app))
    return cloud
