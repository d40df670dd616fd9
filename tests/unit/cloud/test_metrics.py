"""Prometheus metrics: requests, errors and latency per family, and the database pool, at /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ova.cloud.domain.operator_keys import create_key
from ova.cloud.metrics import CloudMetrics, MetricsMiddleware
from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings

OPERATIONS = "/providers/Microsoft.Media/operations?api-version=2021-11-01-preview"
MISSING = (
    "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.Media/videoAnalyzers/nope"
    "?api-version=2021-11-01-preview"
)
POOL_GAUGES = ("ova_db_pool_checked_out", "ova_db_pool_size", "ova_db_pool_idle", "ova_db_pool_overflow")


@pytest.fixture
async def sqlite_cloud(tmp_path: Path) -> AsyncIterator[Cloud]:
    """A cloud on SQLite: these tests are about the HTTP side, one store is enough."""
    built = await build(CloudSettings(data_dir=tmp_path / "data"))
    yield built
    await built.close()


@pytest.fixture
async def client(sqlite_cloud: Cloud) -> AsyncIterator[httpx.AsyncClient]:
    _, app = sqlite_cloud.listeners[0]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
        yield http


async def scrape(client: httpx.AsyncClient) -> list[Sample]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return [sample for family in text_string_to_metric_families(response.text) for sample in family.samples]


def value(samples: list[Sample], name: str, **labels: str) -> float | None:
    matching = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(matching) <= 1
    return matching[0] if matching else None


async def test_management_requests_are_counted_timed_and_classified(
    sqlite_cloud: Cloud, client: httpx.AsyncClient
) -> None:
    async with sqlite_cloud.services.sessions.begin() as session:
        key = await create_key(session, sqlite_cloud.services.clock, "metrics")
    operator = {"Authorization": f"Bearer {key}"}

    assert (await client.get(OPERATIONS, headers=operator)).status_code == 200
    assert (await client.get(OPERATIONS)).status_code == 401
    assert (await client.get(OPERATIONS, headers={"Authorization": "Bearer wrong"})).status_code == 401
    assert (await client.get(MISSING, headers=operator)).status_code == 404
    assert (await client.delete(MISSING)).status_code == 401

    samples = await scrape(client)

    requests = "ova_http_requests_total"
    assert value(samples, requests, family="management", method="GET", status="200") == 1
    assert value(samples, requests, family="management", method="GET", status="401") == 2
    assert value(samples, requests, family="management", method="GET", status="404") == 1
    assert value(samples, requests, family="management", method="DELETE", status="401") == 1
    assert value(samples, "ova_http_errors_total", family="management", status_class="4xx") == 4
    assert value(samples, "ova_http_errors_total", family="management", status_class="5xx") is None

    latency = "ova_http_request_duration_seconds"
    assert value(samples, f"{latency}_count", family="management") == 5
    total_seconds = value(samples, f"{latency}_sum", family="management")
    assert total_seconds is not None and 0 < total_seconds < 30
    buckets = [s for s in samples if s.name == f"{latency}_bucket" and s.labels["family"] == "management"]
    counts = [s.value for s in buckets]
    assert counts == sorted(counts)  # cumulative
    assert buckets[-1].labels["le"] == "+Inf" and counts[-1] == 5


async def test_the_scrape_itself_and_unknown_paths_are_not_family_requests(client: httpx.AsyncClient) -> None:
    await scrape(client)
    assert (await client.get("/nowhere")).status_code == 404

    samples = await scrape(client)

    assert not [s for s in samples if s.name == "ova_http_requests_total"]


async def test_database_pool_gauges_are_exported(client: httpx.AsyncClient) -> None:
    assert (await client.get(OPERATIONS)).status_code == 401  # touches the store through the authenticator

    samples = await scrape(client)

    gauges = {s.name: s.value for s in samples if s.name.startswith("ova_db_pool_")}
    assert set(gauges) == set(POOL_GAUGES)
    assert gauges["ova_db_pool_checked_out"] == 0  # every request gave its connection back
    assert gauges["ova_db_pool_size"] >= 1
    assert gauges["ova_db_pool_overflow"] == 0


async def test_a_pool_without_queue_reports_zeros() -> None:
    engine = create_async_engine("sqlite+aiosqlite://", poolclass=NullPool)
    try:
        registry = CloudMetrics(engine).registry
        gauges = {name: registry.get_sample_value(name) for name in POOL_GAUGES}
    finally:
        await engine.dispose()
    assert gauges == dict.fromkeys(POOL_GAUGES, 0.0)


async def test_an_unhandled_exception_counts_as_a_500(sqlite_cloud: Cloud) -> None:
    metrics = CloudMetrics(sqlite_cloud.engine)
    app = FastAPI()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    transport = httpx.ASGITransport(app=MetricsMiddleware(app, "client", metrics), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ova.test") as http:
        assert (await http.get("/boom")).status_code == 500

    sample = metrics.registry.get_sample_value
    assert sample("ova_http_requests_total", {"family": "client", "method": "GET", "status": "500"}) == 1
    assert sample("ova_http_errors_total", {"family": "client", "status_class": "5xx"}) == 1
