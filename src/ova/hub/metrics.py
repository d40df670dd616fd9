"""The hub's metrics, read at scrape time (the cloud registers ``HubCollector`` in its /metrics).

- ``ova_hub_device_connections``: device and module connections open on the gateway;
- ``ova_hub_methods_pending``: direct methods waiting for the device's answer;
- ``ova_hub_messages_dropped_total``: device-to-cloud messages dropped for exceeding the body bound.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from ova.hub.runtime import Hub


class HubCollector(Collector):
    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def collect(self) -> Iterator[Metric]:
        gateway = self._hub.gateway
        connections = GaugeMetricFamily(
            "ova_hub_device_connections", "Device and module MQTT connections open."
        )
        connections.add_metric([], gateway.open_connections if gateway is not None else 0)
        pending = GaugeMetricFamily("ova_hub_methods_pending", "Direct methods waiting for an answer.")
        pending.add_metric([], self._hub.methods.pending)
        dropped = CounterMetricFamily(
            "ova_hub_messages_dropped", "Device-to-cloud messages dropped: body over the bound."
        )
        dropped.add_metric([], self._hub.messages.dropped)
        yield from (connections, pending, dropped)
