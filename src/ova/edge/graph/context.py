"""``GraphContext``: what the edge module gives every node of a pipeline graph it runs.

The composition root (``edge.runtime``) builds one from the module's settings and parts:

- ``module_name``: the module's name in event subjects (``/edgeModules/{module}/...``);
- ``events``, ``hub_output``, ``hub_inputs``: the ports of ``edge.ports``;
- ``spools``: the local media cache of a ``localMediaCachePath`` and
  ``localMediaCacheMaximumSizeMiB`` (a VideoSink's properties), one ``RecordingSpool`` each;
- ``allow_unsecured_endpoints``: the ``AllowUnsecuredEndpoints`` twin property (default true);
- ``ingest``: how cameras are read, ``camera_networks`` (the networks a camera may be on) included;
- ``keyframes``: the keyframe check of the recorders (``None``: in this process);
- ``histories``: what else is known of the sequence numbers videos have used (the cloud's
  ``lastSequence``), besides the spool's own;
- ``segment_ms``: when set, overrides every video's ``segmentLength`` (demos and tests only);
- ``now_ms``: the wall clock, UTC epoch milliseconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ova.contracts.edge_events import EdgeEvent, EventKind, subject
from ova.edge.ports import EventSink, HubInputs, HubOutput, RecordingSpool
from ova.media.ingest_settings import IngestSettings
from ova.recording.recorder import KeyframeCheck
from ova.recording.sequences import SequenceHistory

SpoolFactory = Callable[[str, int], RecordingSpool]
"""The spool of a local media cache: its folder and its size limit in MiB."""


def system_now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class GraphContext:
    module_name: str
    events: EventSink
    hub_output: HubOutput
    hub_inputs: HubInputs
    spools: SpoolFactory
    allow_unsecured_endpoints: bool = True
    ingest: IngestSettings = field(default_factory=IngestSettings)
    keyframes: KeyframeCheck | None = None
    histories: tuple[SequenceHistory, ...] = ()
    segment_ms: int | None = None
    now_ms: Callable[[], int] = system_now_ms


@dataclass(frozen=True)
class NodeScope:
    """Where a node sits: its pipeline, its kind (``sources``, ``processors``, ``sinks``) and name."""

    context: GraphContext
    pipeline: str
    kind: str
    name: str

    @property
    def subject(self) -> str:
        return subject(self.context.module_name, self.pipeline, self.kind, self.name)

    def emit(self, kind: EventKind, type_: str, body: dict[str, object]) -> None:
        """Raise an operational, diagnostics or analytics event about this node."""
        now = datetime.fromtimestamp(self.context.now_ms() / 1000, UTC)
        self.context.events.emit(EdgeEvent(kind, type_, self.subject, body, now))
