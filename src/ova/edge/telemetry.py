"""``TelemetryReporter``: the periodic usage and health report (``contracts.edge_api.TelemetryReport``).

Every ``interval`` of the policy's ``telemetry`` part the module POSTs the counts of the period
(since the last report the cloud accepted) to the policy's ``url`` with
``Authorization: Bearer <pre-shared key>``: active live pipelines, segments recorded and uploaded,
bytes uploaded, data dropped, cache bytes, diagnostics errors by type. Counts and health only:
no names, URLs, keys or media. Nothing is sent when the twin says ``TelemetryOptOut`` or the
policy disables telemetry; a failed report is logged, its counts carried into the next one, and
never affects a pipeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

import httpx

from ova.common.clock import Clock, isoformat
from ova.contracts.edge_api import TelemetryPolicy, TelemetryReport
from ova.contracts.topology_values import parse_duration
from ova.edge.metrics import Totals

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 60.0
MAX_ANSWER_BYTES = 16 * 1024


@dataclass(frozen=True)
class Reporter:
    """Who reports: the module's cloud identity (known once it has provisioned)."""

    edge_module_id: str
    instance_id: str
    module_version: str


def interval_seconds(duration: str) -> float:
    """Seconds of the policy's ISO 8601 duration (at least a minute; an hour when unreadable)."""
    seconds = parse_duration(duration)
    return max(MIN_INTERVAL_S, seconds if seconds is not None else 3600.0)


class TelemetryReporter:
    def __init__(
        self,
        *,
        reporter: Callable[[], Reporter | None],
        policy: Callable[[], TelemetryPolicy | None],
        totals: Callable[[], Totals],
        clock: Clock,
        opted_out: bool,
        timeout_s: float = 10.0,
        verify: str | bool = True,
    ) -> None:
        self._reporter, self._policy, self._totals = reporter, policy, totals
        self._clock = clock
        self.opted_out = opted_out
        self._timeout_s = timeout_s
        self._verify = verify
        self._sent = Totals()
        self._period_start = clock.now()
        self.reports_sent = 0

    def _enabled_policy(self) -> TelemetryPolicy | None:
        policy = self._policy()
        if self.opted_out or policy is None or not policy.enabled or not policy.url or not policy.key:
            return None
        return policy

    def build(self, now: datetime) -> TelemetryReport | None:
        reporter = self._reporter()
        if reporter is None:
            return None
        totals = self._totals()
        errors = {kind: count - self._sent.errors.get(kind, 0) for kind, count in totals.errors.items()}
        return TelemetryReport(
            edge_module_id=reporter.edge_module_id,
            instance_id=reporter.instance_id,
            module_version=reporter.module_version,
            period_start=isoformat(self._period_start),
            period_end=isoformat(now),
            active_live_pipelines=totals.active_live_pipelines,
            segments_recorded=max(0, totals.segments_recorded - self._sent.segments_recorded),
            segments_uploaded=max(0, totals.segments_uploaded - self._sent.segments_uploaded),
            bytes_uploaded=max(0, totals.bytes_uploaded - self._sent.bytes_uploaded),
            data_dropped=max(0, totals.data_dropped - self._sent.data_dropped),
            cache_bytes=totals.cache_bytes,
            errors={kind: count for kind, count in errors.items() if count > 0},
        )

    async def report_once(self) -> bool:
        """Send the period's report now; True when the cloud accepted it (never raises)."""
        policy = self._enabled_policy()
        now = self._clock.now()
        totals = self._totals()
        report = self.build(now) if policy is not None else None
        if policy is None or report is None or policy.url is None:
            return False
        try:
            async with httpx.AsyncClient(timeout=self._timeout_s, verify=self._verify) as client:
                response = await client.post(
                    policy.url,
                    content=report.model_dump_json(by_alias=True),
                    headers={"Authorization": f"Bearer {policy.key}", "Content-Type": "application/json"},
                )
        except httpx.HTTPError as error:
            log.warning("telemetry report not sent (%s)", type(error).__name__)
            return False
        if response.status_code >= 300:
            log.warning("telemetry report refused (status %s)", response.status_code)
            return False
        self._sent = replace(totals, errors=dict(totals.errors))
        self._period_start = now
        self.reports_sent += 1
        return True

    async def run(self) -> None:
        """Report every policy interval until cancelled."""
        while True:
            policy = self._policy()
            await asyncio.sleep(interval_seconds(policy.interval) if policy else MIN_INTERVAL_S)
            try:
                await self.report_once()
            except Exception:  # a report must never take the module down
                log.exception("telemetry report failed")
