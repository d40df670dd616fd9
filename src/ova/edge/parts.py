"""``EdgeParts``: what a provisioned module runs, built in one place (``build_parts``) by the runtime.

events (``HubEventSink`` on the twin's outputs) → entities (``EntityStore``) → media caches
and uploaders (``MediaCaches``) → graph runner (``EdgeGraphRunner`` with a ``GraphContext``) →
live pipelines → the 36-hour watchdog → direct methods → telemetry. ``configure`` applies a
new twin configuration's dynamic properties; ``close`` stops them in reverse.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from ova.common.clock import Clock
from ova.edge.cloud_link import CloudLink
from ova.edge.connectivity import ConnectivityWatchdog
from ova.edge.entities import EntityStore
from ova.edge.events import HubEventSink
from ova.edge.graph.context import GraphContext
from ova.edge.graph.runner import EdgeGraphRunner
from ova.edge.iothub.client import ModuleClient
from ova.edge.media_caches import MediaCaches
from ova.edge.methods import DirectMethods, MethodOptions
from ova.edge.metrics import CountingEvents, EdgeMetrics
from ova.edge.module_config import ModuleConfig
from ova.edge.pipelines import LivePipelines, PipelineState
from ova.edge.ports import GraphRunner
from ova.edge.settings import EdgeSettings
from ova.edge.telemetry import Reporter, TelemetryReporter
from ova.media.camera_networks import CameraNetworks
from ova.media.ingest_settings import IngestSettings
from ova.recording.keyframe_pool import DecodeLimits, KeyframePool


@dataclass
class EdgeParts:
    events: HubEventSink
    store: EntityStore
    caches: MediaCaches
    runner: EdgeGraphRunner
    pipelines: LivePipelines
    watchdog: ConnectivityWatchdog
    methods: DirectMethods
    telemetry: TelemetryReporter
    link: CloudLink
    metrics: EdgeMetrics
    keyframes: KeyframePool
    _seen: dict[str, tuple[int, int, int]] = dataclasses.field(default_factory=dict)
    """Per cache: files and bytes uploaded, files dropped, as last counted into the metrics."""

    def background(self) -> dict[str, Coroutine[Any, Any, None]]:
        """The loops the runtime runs until it stops."""
        return {
            "events": self.events.run(),
            "watchdog": self.watchdog.run(),
            "cloud-maintenance": self.link.maintain(),
            "telemetry": self.telemetry.run(),
        }

    def configure(self, config: ModuleConfig) -> None:
        """Apply the dynamic twin properties (outputs, AllowUnsecuredEndpoints)."""
        self.events.set_outputs(config.operational_events_output_name, config.diagnostics_events_output_name)
        self.methods.options.allow_unsecured_endpoints = config.allow_unsecured_endpoints
        self.runner.context = dataclasses.replace(
            self.runner.context, allow_unsecured_endpoints=config.allow_unsecured_endpoints
        )

    def refresh_metrics(self) -> None:
        """Gauges and counters read from the parts' own statistics."""
        active: Counter[str] = Counter()
        for name, record in self.store.pipelines.items():
            if self.pipelines.state(name) is PipelineState.ACTIVE:
                active[record.topology_name] += 1
        self.metrics.set_active_pipelines(active)
        for cache, uploader in zip(self.caches.caches, self.caches.uploaders, strict=True):
            sink = self.metrics.sink("", cache.root.name)
            sink.cache_bytes(cache.stats.bytes_cached)
            now = (uploader.stats.files_uploaded, uploader.stats.bytes_uploaded, cache.stats.data_dropped)
            files, size, dropped = (
                max(0, a - b) for a, b in zip(now, self._seen.get(str(cache.root), (0, 0, 0)), strict=True)
            )
            if files or size:
                sink.uploaded(files, size)
            if dropped:
                sink.evicted(uploaded=False, count=dropped)
                self.metrics.dropped_media(cache.root.name, dropped)
            self._seen[str(cache.root)] = now

    async def close(self, events_drain_s: float) -> None:
        await self.pipelines.close()
        await self.keyframes.close()
        await self.caches.close()
        await self.events.drain(events_drain_s)


async def build_parts(
    settings: EdgeSettings,
    config: ModuleConfig,
    *,
    data_dir: Path,
    client: ModuleClient,
    link: CloudLink,
    metrics: EdgeMetrics,
    clock: Clock,
    reporter: Reporter,
) -> EdgeParts:
    state = link.state
    assert state is not None
    verify: str | bool = str(settings.cloud_ca_file) if settings.cloud_ca_file else True
    events = HubEventSink(client, state.account_id or "", on_dropped=metrics.dropped_events)
    counted = CountingEvents(events, metrics)
    store = await asyncio.to_thread(EntityStore.open, data_dir, clock)
    caches = MediaCaches(data_dir, link, counted, verify=verify)
    keyframes = KeyframePool(DecodeLimits(workers=settings.keyframe_check_workers))
    context = GraphContext(
        module_name=state.edge_module_name or client.endpoint.module_id,
        events=counted,
        hub_output=client,
        hub_inputs=client,
        spools=caches,
        allow_unsecured_endpoints=config.allow_unsecured_endpoints,
        ingest=IngestSettings(camera_networks=CameraNetworks.parse(settings.camera_networks)),
        histories=(caches,),
        segment_ms=settings.segment_ms,
        keyframes=keyframes,
    )
    runner = EdgeGraphRunner(context)
    # EdgeGraphRunner.check returns the resolved topology where ports.GraphRunner says None
    graph_runner = cast(GraphRunner, runner)
    pipelines = LivePipelines(store, graph_runner, flush_timeout_s=settings.deactivate_flush_timeout_s)
    watchdog = ConnectivityWatchdog(link, pipelines, clock)
    methods = DirectMethods(store, pipelines, watchdog=watchdog, options=MethodOptions())
    telemetry = TelemetryReporter(
        reporter=lambda: reporter,
        policy=lambda: link.state.policy.telemetry if link.state and link.state.policy else None,
        totals=metrics.totals,
        clock=clock,
        opted_out=config.telemetry_opt_out,
        timeout_s=settings.telemetry_timeout_s,
        verify=verify,
    )
    parts = EdgeParts(
        events, store, caches, runner, pipelines, watchdog, methods, telemetry, link, metrics, keyframes
    )
    parts.configure(config)
    return parts
