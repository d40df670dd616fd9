"""Telemetry reports to the real cloud's telemetry family: counts of the period, carried over a
failed report, nothing at all when the twin opts out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from edge_world import World, running_world

from ova.cloud.domain import telemetry as cloud_telemetry
from ova.common.clock import FrozenClock
from ova.edge.cloud_link import CloudLink, CloudLinkSettings
from ova.edge.metrics import EdgeMetrics, Identity
from ova.edge.telemetry import Reporter, TelemetryReporter
from support.fault_proxy import Mode, fault


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


async def summary(world: World) -> list[dict[str, Any]]:
    async with world.cloud.services.sessions() as session:
        return await cloud_telemetry.summary(session)


def reporter_for(
    link: CloudLink, metrics: EdgeMetrics, clock: FrozenClock, opted_out: bool
) -> TelemetryReporter:
    state = link.state
    assert state is not None and state.edge_module_id is not None
    identity = Reporter(state.edge_module_id, state.instance_id, "0.1.0")
    return TelemetryReporter(
        reporter=lambda: identity,
        policy=lambda: link.state.policy.telemetry if link.state and link.state.policy else None,
        totals=metrics.totals,
        clock=clock,
        opted_out=opted_out,
    )


async def test_reports_carry_the_period_counts(tmp_path: Path, clock: FrozenClock) -> None:
    async with running_world(tmp_path, clock) as world:
        link = CloudLink(
            CloudLinkSettings(), tmp_path / "edge", provisioning_token=await world.token(), clock=clock
        )
        await link.start()
        try:
            metrics = EdgeMetrics(Identity("hub", "box", "avaedge"))
            reporter = reporter_for(link, metrics, clock, opted_out=False)
            sink = metrics.sink("pipeline1", "videoSink")
            sink.recorded(5)
            sink.uploaded(4, 4000)
            metrics.diagnostics("NetworkError")
            metrics.set_active_pipelines({"CVR": 1})
            assert await reporter.report_once()

            sink.uploaded(2, 1000)  # the report of this period fails...
            with fault(world.proxy, Mode.REFUSE):
                assert not await reporter.report_once()
            clock.advance(timedelta(minutes=5))
            sink.uploaded(1, 500)
            assert await reporter.report_once()  # ...and its counts go in the next one
            [module] = await summary(world)
        finally:
            await link.close()
    assert module["reports"] == 2 and module["activeLivePipelines"] == 1
    assert module["totals"] == {
        "segmentsRecorded": 5,
        "segmentsUploaded": 7,
        "bytesUploaded": 5500,
        "dataDropped": 0,
    }
    assert module["lastReport"]["errors"] == {}  # the NetworkError went in the first report
    assert reporter.reports_sent == 2


async def test_opted_out_sends_nothing(tmp_path: Path, clock: FrozenClock) -> None:
    async with running_world(tmp_path, clock) as world:
        link = CloudLink(
            CloudLinkSettings(), tmp_path / "edge", provisioning_token=await world.token(), clock=clock
        )
        await link.start()
        try:
            metrics = EdgeMetrics(Identity("hub", "box", "avaedge"))
            metrics.sink("p", "n").uploaded(3, 30)
            assert not await reporter_for(link, metrics, clock, opted_out=True).report_once()
            assert await summary(world) == []
        finally:
            await link.close()
