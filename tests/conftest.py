"""Fixtures shared by every test: the metadata store backends and a built cloud service."""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from ova.cloud.domain.operator_keys import create_key
from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings
from support.postgres import PostgresServer, find_bindir

_databases = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("OVA_TEST_SKIP_POSTGRES") == "1":
            pytest.skip("PostgreSQL is not installed and OVA_TEST_SKIP_POSTGRES=1")
        pytest.fail(
            "PostgreSQL server binaries are missing: run the README's test command, which installs them."
        )
    server = PostgresServer(bindir)
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty metadata store of each kind."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'ova.db'}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(f"ova_test_{os.getpid()}_{next(_databases)}")


@pytest.fixture
def cloud_settings(tmp_path: Path, database_url: str) -> CloudSettings:
    """Embedded defaults on a fresh store; every cloud test runs on SQLite and on PostgreSQL."""
    return CloudSettings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
async def cloud(cloud_settings: CloudSettings) -> AsyncIterator[Cloud]:
    built = await build(cloud_settings)
    yield built
    await built.close()


@pytest.fixture
async def operator_key(cloud: Cloud) -> str:
    async with cloud.services.sessions.begin() as session:
        return await create_key(session, cloud.services.clock, "tests")


@pytest.fixture
async def api(cloud: Cloud, operator_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the cloud's first listener, as an operator (no socket: ASGI transport)."""
    listener, app = cloud.listeners[0]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    headers = {"Authorization": f"Bearer {operator_key}"}
    async with httpx.AsyncClient(
        transport=transport, base_url=listener.base_url(), headers=headers
    ) as client:
        yield client
