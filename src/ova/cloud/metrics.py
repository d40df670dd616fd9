"""Prometheus metrics of one cloud process: requests, errors and latency per family, DB pool state."""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class CloudMetrics:
    def __init__(self, engine: AsyncEngine) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ova_http_requests",
            "HTTP requests handled, by family, method and status code.",
            ["family", "method", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "ova_http_errors",
            "HTTP responses with status 400 or above, by family and status class.",
            ["family", "status_class"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ova_http_request_duration_seconds",
            "Time to the end of the response body, by family.",
            ["family"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.registry.register(PoolCollector(engine))

    def observe(self, family: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(family, method, str(status)).inc()
        if status >= 400:
            self.errors.labels(family, f"{status // 100}xx").inc()
        self.latency.labels(family).observe(seconds)

    async def endpoint(self, _request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE)


class PoolCollector(Collector):
    """The database connection pool as gauges, read at scrape time."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[Metric]:
        pool = self._engine.sync_engine.pool
        checked_out = GaugeMetricFamily("ova_db_pool_checked_out", "Connections in use.")
        checked_out.add_metric([], pool.checkedout() if isinstance(pool, QueuePool) else 0)
        size = GaugeMetricFamily("ova_db_pool_size", "Connections the pool keeps open (excluding overflow).")
        size.add_metric([], pool.size() if isinstance(pool, QueuePool) else 0)
        idle = GaugeMetricFamily("ova_db_pool_idle", "Open connections waiting in the pool.")
        idle.add_metric([], pool.checkedin() if isinstance(pool, QueuePool) else 0)
        overflow = GaugeMetricFamily("ova_db_pool_overflow", "Connections open beyond the pool size.")
        overflow.add_metric([], max(pool.overflow(), 0) if isinstance(pool, QueuePool) else 0)
        yield from (checked_out, size, idle, overflow)


class MetricsMiddleware:
    """Times and counts every HTTP request of one family."""

    def __init__(self, app: ASGIApp, family: str, metrics: CloudMetrics) -> None:
        self._app, self._family, self._metrics = app, family, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, send_counted)
        finally:
            self._metrics.observe(self._family, scope["method"], status, time.perf_counter() - started)
