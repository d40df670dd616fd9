"""Events an edge module emits, in Video Analyzer's envelope.

Each event is a device-to-cloud message on a module output (``OperationalEventsOutputName``,
``DiagnosticsEventsOutputName``, or an ``IotHubMessageSink``'s ``hubOutputName``) with a JSON
body and these application properties: ``topic`` (the account's ARM id), ``subject``
(``/edgeModules/{module}/livePipelines/{pipeline}[/sources|processors|sinks/{node}]``),
``eventType`` (``Microsoft.VideoAnalyzer.{Analytics|Diagnostics|Operational}.{Type}``),
``eventTime`` (ISO 8601 UTC) and ``dataVersion`` (``1.0``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ova.common.clock import isoformat

DATA_VERSION = "1.0"
EVENT_TYPE_PREFIX = "Microsoft.VideoAnalyzer"


class EventKind(StrEnum):
    ANALYTICS = "Analytics"
    DIAGNOSTICS = "Diagnostics"
    OPERATIONAL = "Operational"


OPERATIONAL_TYPES = ("RecordingStarted", "RecordingAvailable", "RecordingStopped")
DIAGNOSTICS_TYPES = (
    "MediaSessionEstablished",
    "AuthenticationError",
    "AuthorizationError",
    "ProtocolError",
    "NetworkError",
    "MediaFormatError",
    "DataDropped",
    "StorageError",
    "RuntimeError",
)


@dataclass(frozen=True)
class EdgeEvent:
    kind: EventKind
    type: str
    """``RecordingStarted``, ``DataDropped``, ``Inference``…"""
    subject: str
    body: Mapping[str, Any]
    time: datetime
    extra_properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def event_type(self) -> str:
        return f"{EVENT_TYPE_PREFIX}.{self.kind.value}.{self.type}"

    def properties(self, topic: str) -> dict[str, str]:
        """The application properties of the message that carries this event."""
        return {
            **self.extra_properties,
            "topic": topic,
            "subject": self.subject,
            "eventType": self.event_type,
            "eventTime": isoformat(self.time),
            "dataVersion": DATA_VERSION,
        }


def subject(
    module: str, pipeline: str | None = None, node_kind: str | None = None, node: str | None = None
) -> str:
    """``/edgeModules/{module}[/livePipelines/{pipeline}[/{sources|processors|sinks}/{node}]]``."""
    text = f"/edgeModules/{module}"
    if pipeline:
        text += f"/livePipelines/{pipeline}"
        if node_kind and node:
            text += f"/{node_kind}/{node}"
    return text
