"""The module's Prometheus metrics, under Video Analyzer's names, and the ``/metrics`` listener.

Video Analyzer's (labels ``iothub``, ``edge_device``, ``module_name`` on every series, plus):

- ``va_active_live_pipelines`` {pipeline_topology}: live pipelines active now.
- ``va_cumulative_latency_seconds_average`` / ``_max`` {pipeline_topology, live_pipeline, node}:
  time from a packet's arrival to its leaving the node (since the pipeline started).
- ``va_data_dropped_total`` {pipeline_topology, live_pipeline, node, data_kind}: data dropped
  (``data_kind`` ``video``, ``audio``, ``events``, ``segments``...).
- ``va_received_bytes_total`` {pipeline_topology, live_pipeline, node}: bytes an RTSP source received.

ova's own (same base labels):

- ``ova_edge_uploaded_segments_total`` / ``ova_edge_uploaded_bytes_total`` {live_pipeline, node}
- ``ova_edge_recorded_segments_total`` {live_pipeline, node}: segments written to the local cache.
- ``ova_edge_upload_failures_total`` {live_pipeline, node}: attempts that failed (retried).
- ``ova_edge_cache_bytes`` {live_pipeline, node}: bytes in the local media cache.
- ``ova_edge_cache_evictions_total`` {live_pipeline, node, uploaded}: entries evicted when full
  (``uploaded="false"``: media lost before it reached the cloud).
- ``ova_edge_diagnostics_events_total`` {event_type}: diagnostics events raised (errors, by type).
- ``ova_edge_hub_connected``, ``ova_edge_hub_connections_total``, ``ova_edge_cloud_disconnected_seconds``.

``totals()`` sums them for the telemetry report (counts only, no names). ``CountingEvents`` wraps
the module's ``EventSink`` so that every diagnostics event is counted by type.

Served by a small asyncio HTTP server (GET ``/metrics`` only; requests bounded in size and time).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.samples import Sample

from ova.contracts.edge_events import EdgeEvent, EventKind
from ova.edge.ports import EventSink

BASE = ("iothub", "edge_device", "module_name")
NODE = (*BASE, "pipeline_topology", "live_pipeline", "node")
SINK = (*BASE, "live_pipeline", "node")
MAX_REQUEST_BYTES = 8192
REQUEST_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Identity:
    iothub: str
    edge_device: str
    module_name: str


@dataclass(frozen=True)
class Totals:
    active_live_pipelines: int = 0
    segments_recorded: int = 0
    segments_uploaded: int = 0
    bytes_uploaded: int = 0
    data_dropped: int = 0
    cache_bytes: int = 0
    errors: Mapping[str, int] = field(default_factory=dict)


def _samples(metric: Counter | Gauge) -> list[Sample]:
    return [sample for family in metric.collect() for sample in family.samples]


def _sum(metric: Counter | Gauge) -> float:
    return sum(sample.value for sample in _samples(metric) if not sample.name.endswith("_created"))


class NodeMetrics:
    """One node's series: bytes received, latency, drops."""

    def __init__(self, metrics: EdgeMetrics, topology: str, pipeline: str, node: str) -> None:
        self._metrics = metrics
        self._labels = (*metrics.base, topology, pipeline, node)
        self._latency_total = 0.0
        self._latency_count = 0
        self._latency_max = 0.0

    def received(self, size: int) -> None:
        self._metrics.received_bytes.labels(*self._labels).inc(size)

    def dropped(self, data_kind: str, count: int = 1) -> None:
        self._metrics.data_dropped.labels(*self._labels, data_kind).inc(count)

    def latency(self, seconds: float) -> None:
        self._latency_total += seconds
        self._latency_count += 1
        self._latency_max = max(self._latency_max, seconds)
        self._metrics.latency_average.labels(*self._labels).set(self._latency_total / self._latency_count)
        self._metrics.latency_max.labels(*self._labels).set(self._latency_max)


class SinkMetrics:
    """One video sink's upload and cache series."""

    def __init__(self, metrics: EdgeMetrics, pipeline: str, node: str) -> None:
        self._metrics = metrics
        self._labels = (*metrics.base, pipeline, node)

    def uploaded(self, segments: int, size: int) -> None:
        self._metrics.uploaded_segments.labels(*self._labels).inc(segments)
        self._metrics.uploaded_bytes.labels(*self._labels).inc(size)

    def recorded(self, segments: int = 1) -> None:
        self._metrics.recorded_segments.labels(*self._labels).inc(segments)

    def upload_failed(self) -> None:
        self._metrics.upload_failures.labels(*self._labels).inc()

    def cache_bytes(self, size: int) -> None:
        self._metrics.cache_bytes.labels(*self._labels).set(size)

    def evicted(self, uploaded: bool, count: int = 1) -> None:
        self._metrics.cache_evictions.labels(*self._labels, "true" if uploaded else "false").inc(count)


class EdgeMetrics:
    def __init__(self, identity: Identity) -> None:
        self.base = (identity.iothub, identity.edge_device, identity.module_name)
        self._connections_seen = 0
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.active_live_pipelines = Gauge(
            "va_active_live_pipelines",
            "Live pipelines active now.",
            (*BASE, "pipeline_topology"),
            registry=registry,
        )
        self.latency_average = Gauge(
            "va_cumulative_latency_seconds_average", "Average time through a node.", NODE, registry=registry
        )
        self.latency_max = Gauge(
            "va_cumulative_latency_seconds_max", "Longest time through a node.", NODE, registry=registry
        )
        self.data_dropped = Counter(
            "va_data_dropped", "Data dropped, by kind.", (*NODE, "data_kind"), registry=registry
        )
        self.received_bytes = Counter(
            "va_received_bytes", "Bytes an RTSP source received.", NODE, registry=registry
        )
        self.uploaded_segments = Counter(
            "ova_edge_uploaded_segments", "Segments uploaded to the cloud.", SINK, registry=registry
        )
        self.uploaded_bytes = Counter(
            "ova_edge_uploaded_bytes", "Bytes uploaded to the cloud.", SINK, registry=registry
        )
        self.recorded_segments = Counter(
            "ova_edge_recorded_segments", "Segments written to the local cache.", SINK, registry=registry
        )
        self.diagnostics_events = Counter(
            "ova_edge_diagnostics_events",
            "Diagnostics events raised.",
            (*BASE, "event_type"),
            registry=registry,
        )
        self.upload_failures = Counter(
            "ova_edge_upload_failures", "Upload attempts that failed (retried).", SINK, registry=registry
        )
        self.cache_bytes = Gauge(
            "ova_edge_cache_bytes", "Bytes in the local media cache.", SINK, registry=registry
        )
        self.cache_evictions = Counter(
            "ova_edge_cache_evictions",
            "Cache entries evicted when full.",
            (*SINK, "uploaded"),
            registry=registry,
        )
        self.hub_connected = Gauge(
            "ova_edge_hub_connected", "1 while connected to the hub.", BASE, registry=registry
        )
        self.hub_connections = Counter(
            "ova_edge_hub_connections",
            "Connections made to the hub (token renewals included).",
            BASE,
            registry=registry,
        )
        self.cloud_disconnected = Gauge(
            "ova_edge_cloud_disconnected_seconds",
            "Time since the cloud last answered.",
            BASE,
            registry=registry,
        )

    def node(self, topology: str, pipeline: str, node: str) -> NodeMetrics:
        return NodeMetrics(self, topology, pipeline, node)

    def sink(self, pipeline: str, node: str) -> SinkMetrics:
        return SinkMetrics(self, pipeline, node)

    def set_active_pipelines(self, by_topology: Mapping[str, int]) -> None:
        self.active_live_pipelines.clear()
        for topology, count in by_topology.items():
            self.active_live_pipelines.labels(*self.base, topology).set(count)

    def dropped_media(self, cache: str, count: int) -> None:
        """``va_data_dropped_total{data_kind="media"}``: cached media evicted before it was uploaded."""
        self.data_dropped.labels(*self.base, "", "", cache, "media").inc(count)

    def dropped_events(self, count: int = 1) -> None:
        """``va_data_dropped_total{data_kind="events"}`` for events the module could not send."""
        self.data_dropped.labels(*self.base, "", "", "", "events").inc(count)

    def diagnostics(self, event_type: str) -> None:
        self.diagnostics_events.labels(*self.base, event_type[:64]).inc()

    def totals(self) -> Totals:
        """Sums over every label set (what the telemetry report carries)."""
        errors = {
            sample.labels["event_type"]: int(sample.value)
            for sample in _samples(self.diagnostics_events)
            if sample.name.endswith("_total")
        }
        return Totals(
            active_live_pipelines=int(_sum(self.active_live_pipelines)),
            segments_recorded=int(_sum(self.recorded_segments)),
            segments_uploaded=int(_sum(self.uploaded_segments)),
            bytes_uploaded=int(_sum(self.uploaded_bytes)),
            data_dropped=int(_sum(self.data_dropped)),
            cache_bytes=int(_sum(self.cache_bytes)),
            errors=dict(sorted(errors.items())[:32]),
        )

    def hub_state(self, connected: bool, connections: int) -> None:
        self.hub_connected.labels(*self.base).set(1 if connected else 0)
        if connections > self._connections_seen:
            self.hub_connections.labels(*self.base).inc(connections - self._connections_seen)
            self._connections_seen = connections

    def cloud_state(self, disconnected_s: float) -> None:
        self.cloud_disconnected.labels(*self.base).set(disconnected_s)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class CountingEvents:
    """An ``EventSink`` that counts diagnostics events by type, then passes every event on."""

    def __init__(self, inner: EventSink, metrics: EdgeMetrics) -> None:
        self._inner, self._metrics = inner, metrics

    def emit(self, event: EdgeEvent) -> None:
        if event.kind is EventKind.DIAGNOSTICS:
            self._metrics.diagnostics(event.type)
        self._inner.emit(event)


class MetricsServer:
    """``GET /metrics`` on ``host:port`` (port 0: a free one, see ``port``)."""

    def __init__(self, metrics: EdgeMetrics, host: str, port: int) -> None:
        self._metrics = metrics
        self._host, self._port = host, port
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self._host, self._port, limit=MAX_REQUEST_BYTES
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                head = await reader.readuntil(b"\r\n\r\n")
            method, _, rest = head.decode("latin-1").partition(" ")
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            if method in ("GET", "HEAD") and path == "/metrics":
                body = self._metrics.exposition()
                self._answer(
                    writer, "200 OK", CONTENT_TYPE_LATEST, b"" if method == "HEAD" else body, len(body)
                )
            else:
                self._answer(writer, "404 Not Found", "text/plain", b"not found\n", 10)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    @staticmethod
    def _answer(
        writer: asyncio.StreamWriter, status: str, content_type: str, body: bytes, length: int
    ) -> None:
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {length}\r\n"
            "Connection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
