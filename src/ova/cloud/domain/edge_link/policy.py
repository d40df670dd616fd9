"""The policy an edge module downloads: the 36-hour rule, refresh interval, key grace, telemetry."""

from __future__ import annotations

from ova.cloud.domain.edge_link.link import EdgeLink
from ova.contracts.edge_api import EdgePolicy, TelemetryPolicy


def edge_policy(link: EdgeLink) -> EdgePolicy:
    """The deployment's policy, from ``edge_api`` and ``telemetry`` settings."""
    settings = link.services.settings
    edge, telemetry = settings.edge_api, settings.telemetry
    reporting = telemetry.enabled and link.telemetry_url is not None and link.telemetry_key is not None
    return EdgePolicy(
        maximum_disconnected_period=edge.maximum_disconnected_period,
        policy_refresh_interval=edge.policy_refresh_interval,
        key_grace_period=edge.module_key_grace_period,
        telemetry=TelemetryPolicy(
            enabled=reporting,
            url=link.telemetry_url if reporting else None,
            key=link.telemetry_key if reporting else None,
            interval=telemetry.report_interval,
        ),
    )
