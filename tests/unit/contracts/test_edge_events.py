"""Edge events keep Video Analyzer's envelope: the application properties consumers route on."""

from __future__ import annotations

from datetime import UTC, datetime

from ova.contracts.edge_events import EdgeEvent, EventKind, subject

ACCOUNT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Media/videoAnalyzers/acct"


def test_properties_of_an_operational_event() -> None:
    where = subject("avaedge", "cam1", "sinks", "videoSink")
    event = EdgeEvent(
        EventKind.OPERATIONAL, "RecordingStarted", where, {}, datetime(2026, 12, 4, 8, tzinfo=UTC)
    )
    assert event.properties(ACCOUNT) == {
        "topic": ACCOUNT,
        "subject": "/edgeModules/avaedge/livePipelines/cam1/sinks/videoSink",
        "eventType": "Microsoft.VideoAnalyzer.Operational.RecordingStarted",
        "eventTime": "2026-12-04T08:00:00Z",
        "dataVersion": "1.0",
    }


def test_subjects() -> None:
    assert subject("m") == "/edgeModules/m"
    assert subject("m", "p") == "/edgeModules/m/livePipelines/p"
