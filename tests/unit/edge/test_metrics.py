"""The Prometheus metrics under Video Analyzer's names and labels, the totals telemetry reads, and
the /metrics listener."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ova.contracts.edge_events import EdgeEvent, EventKind
from ova.edge.metrics import CountingEvents, EdgeMetrics, Identity, MetricsServer


def samples(metrics: EdgeMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


def test_video_analyzer_names_and_labels() -> None:
    metrics = EdgeMetrics(Identity("myhub.azure-devices.net", "box", "avaedge"))
    node = metrics.node("CVR", "camera1", "rtspSource")
    node.received(1000)
    node.received(500)
    node.latency(0.2)
    node.latency(0.4)
    node.dropped("video", 3)
    metrics.set_active_pipelines({"CVR": 2})
    base = (("edge_device", "box"), ("iothub", "myhub.azure-devices.net"), ("module_name", "avaedge"))
    labels = tuple(
        sorted((*base, ("pipeline_topology", "CVR"), ("live_pipeline", "camera1"), ("node", "rtspSource")))
    )
    seen = samples(metrics)
    assert seen[("va_received_bytes_total", labels)] == 1500
    assert round(seen[("va_cumulative_latency_seconds_average", labels)], 6) == 0.3
    assert seen[("va_cumulative_latency_seconds_max", labels)] == 0.4
    assert seen[("va_data_dropped_total", tuple(sorted((*labels, ("data_kind", "video")))))] == 3
    assert seen[("va_active_live_pipelines", tuple(sorted((*base, ("pipeline_topology", "CVR")))))] == 2
    metrics.set_active_pipelines({})
    assert not any(name == "va_active_live_pipelines" for name, _ in samples(metrics))


def test_totals_sum_every_label_set() -> None:
    metrics = EdgeMetrics(Identity("h", "d", "m"))
    for pipeline in ("a", "b"):
        sink = metrics.sink(pipeline, "videoSink")
        sink.recorded(2)
        sink.uploaded(2, 100)
        sink.cache_bytes(50)
        sink.evicted(uploaded=False)
    metrics.dropped_events(4)
    metrics.diagnostics("NetworkError")
    metrics.diagnostics("NetworkError")
    totals = metrics.totals()
    assert (totals.segments_recorded, totals.segments_uploaded, totals.bytes_uploaded) == (4, 4, 200)
    assert (totals.cache_bytes, totals.data_dropped, dict(totals.errors)) == (100, 4, {"NetworkError": 2})


def test_hub_connection_counter_follows_the_client() -> None:
    metrics = EdgeMetrics(Identity("h", "d", "m"))
    metrics.hub_state(True, 3)
    metrics.hub_state(True, 3)
    metrics.hub_state(False, 4)
    base = (("edge_device", "d"), ("iothub", "h"), ("module_name", "m"))
    seen = samples(metrics)
    assert seen[("ova_edge_hub_connections_total", base)] == 4 and seen[("ova_edge_hub_connected", base)] == 0


async def test_listener_serves_metrics_only() -> None:
    metrics = EdgeMetrics(Identity("h", "d", "m"))
    metrics.set_active_pipelines({"t": 1})
    server = MetricsServer(metrics, "127.0.0.1", 0)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            ok, other, head = (
                await client.get("/metrics"),
                await client.get("/"),
                await client.head("/metrics"),
            )
    finally:
        await server.stop()
    assert ok.status_code == 200 and 'va_active_live_pipelines{edge_device="d"' in ok.text
    assert other.status_code == 404 and head.status_code == 200 and head.content == b""


def test_counting_events_counts_diagnostics_by_type() -> None:
    passed: list[EdgeEvent] = []

    class Collect:
        def emit(self, event: EdgeEvent) -> None:
            passed.append(event)

    metrics = EdgeMetrics(Identity("h", "d", "m"))
    events = CountingEvents(Collect(), metrics)
    now = datetime.now(UTC)
    events.emit(EdgeEvent(EventKind.DIAGNOSTICS, "ProtocolError", "/s", {}, now))
    events.emit(EdgeEvent(EventKind.OPERATIONAL, "RecordingStarted", "/s", {}, now))
    assert len(passed) == 2 and dict(metrics.totals().errors) == {"ProtocolError": 1}
