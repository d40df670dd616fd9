"""``SignalGateProcessor``: lets media through for a while after an event, pre-roll included.

Times are wall-clock milliseconds on the media's clock (``IngestPacket.wall_ms``); an event's
time is when it happened (``GraphEvent.time_ms``). With ``offset`` the activation signal offset
(negative: pre-roll) and ``positive`` its positive part:

- the first event opens the gate at ``event + offset``;
- the gate stays open until ``event + positive + minimumActivationTime`` of the newest event
  (each event restarts that timer), but never past ``first event + positive +
  maximumActivationTime``;
- an event older than the newest media by more than ``activationEvaluationWindow`` (plus
  ``CLOCK_SLACK_MS``: media mapped to the wall clock may run slightly ahead of it) is late and
  dropped (counted).

Pre-roll comes from a ring of recent packets, kept as whole GOPs: as many as cover
``|offset| + evaluation window`` plus one GOP, and at most ``max_buffer_bytes`` (older GOPs
are dropped first). An opening replays from the GOP that holds its start, never a packet
already let through; its first packet is flagged ``discontinuity``, so a recorder starts a new
segment with ``gap_before``. A closing sends ``Pause``: the recorder stores what it buffered.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from ova.contracts.topology_edge import SignalGateProcessor
from ova.contracts.topology_values import parse_duration
from ova.edge.graph.node import GraphEvent, Outlet
from ova.media.codec import StreamKind
from ova.media.ingest_events import Connected, Disconnected
from ova.media.packet import IngestPacket
from ova.recording.recorder import Pause

log = logging.getLogger(__name__)
MIB = 1024 * 1024
DEFAULT_BUFFER_BYTES = 64 * MIB
CLOCK_SLACK_MS = 250


def _ms(value: str | None, default_ms: int) -> int:
    seconds = parse_duration(value) if value else None
    return default_ms if seconds is None else round(seconds * 1000)


@dataclass(frozen=True)
class GateTiming:
    """A gate's settings in milliseconds (Video Analyzer's defaults: 1 s, 0, 30 s, 30 s)."""

    evaluation_window_ms: int = 1_000
    signal_offset_ms: int = 0
    minimum_ms: int = 30_000
    maximum_ms: int = 30_000
    max_buffer_bytes: int = DEFAULT_BUFFER_BYTES

    def __post_init__(self) -> None:
        if not 0 <= self.evaluation_window_ms <= 10_000 or abs(self.signal_offset_ms) > 60_000:
            raise ValueError("the evaluation window is 0-10 s and the signal offset -1 min...+1 min")
        if not 0 < self.minimum_ms <= 3_600_000 or not 0 < self.maximum_ms <= 3_600_000:
            raise ValueError("the activation times are at most 1 h")
        if self.max_buffer_bytes < 1:
            raise ValueError("max_buffer_bytes must be positive")

    @classmethod
    def of(cls, node: SignalGateProcessor, max_buffer_bytes: int = DEFAULT_BUFFER_BYTES) -> GateTiming:
        defaults = cls()
        return cls(
            evaluation_window_ms=_ms(node.activation_evaluation_window, defaults.evaluation_window_ms),
            signal_offset_ms=_ms(node.activation_signal_offset, defaults.signal_offset_ms),
            minimum_ms=_ms(node.minimum_activation_time, defaults.minimum_ms),
            maximum_ms=_ms(node.maximum_activation_time, defaults.maximum_ms),
            max_buffer_bytes=max_buffer_bytes,
        )

    @property
    def retention_ms(self) -> int:
        """How far back an opening may start: the pre-roll plus how late an event may be."""
        return max(0, -self.signal_offset_ms) + self.evaluation_window_ms + CLOCK_SLACK_MS


@dataclass
class GateStats:
    events: int = 0
    late_events: int = 0
    openings: int = 0
    dropped_gops: int = 0
    """GOPs dropped from the pre-roll ring because it held more than its byte bound."""


@dataclass
class _Activation:
    opens_at: int
    closes_at: int
    limit: int


@dataclass
class _Gop:
    packets: list[IngestPacket] = field(default_factory=list)
    size: int = 0

    @property
    def start_ms(self) -> int | None:
        first = self.packets[0] if self.packets else None
        return first.wall_ms if first is not None and first.is_keyframe else None


class SignalGate:
    """The gate's timing rules on packets and events; no I/O."""

    def __init__(self, timing: GateTiming) -> None:
        self.timing = timing
        self.stats = GateStats()
        self._ring: deque[_Gop] = deque([_Gop()])
        self._ring_bytes = 0
        self._newest: int | None = None
        self._activation: _Activation | None = None
        self._open = False
        self._last_sent: int | None = None

    @property
    def is_open(self) -> bool:
        return self._open

    def trigger(self, event_ms: int) -> bool:
        """Take an event; False when it came too late and was dropped."""
        timing = self.timing
        if (
            self._newest is not None
            and event_ms < self._newest - timing.evaluation_window_ms - CLOCK_SLACK_MS
        ):
            self.stats.late_events += 1
            return False
        self.stats.events += 1
        positive = max(0, timing.signal_offset_ms)
        if self._activation is None:
            limit = event_ms + positive + timing.maximum_ms
            self._activation = _Activation(event_ms + timing.signal_offset_ms, 0, limit)
        activation = self._activation
        activation.closes_at = min(
            max(activation.closes_at, event_ms + positive + timing.minimum_ms), activation.limit
        )
        return True

    def push(self, packet: IngestPacket) -> list[IngestPacket | Pause]:
        """Take one packet; returns what passes the gate (and ``Pause`` when it closes)."""
        self._remember(packet)
        activation = self._activation
        passed: list[IngestPacket] = []
        if activation is not None and not self._open and self._newest_at_least(activation.opens_at):
            passed.extend(self._replay(activation.opens_at))
            self._open = True
            self.stats.openings += 1
        elif self._open and self._is_new(packet):
            passed.append(packet)
        closing = activation is not None and self._open and self._newest_at_least(activation.closes_at)
        if activation is not None and closing:
            passed = [item for item in passed if item.wall_ms < activation.closes_at]
            self._open, self._activation = False, None
        for item in passed:
            self._last_sent = max(self._last_sent or item.wall_ms, item.wall_ms)
        return [*passed, Pause("the signal gate closed")] if closing else list(passed)

    def _newest_at_least(self, at_ms: int) -> bool:
        return self._newest is not None and self._newest >= at_ms

    def _is_new(self, packet: IngestPacket) -> bool:
        return self._last_sent is None or packet.wall_ms > self._last_sent

    def _remember(self, packet: IngestPacket) -> None:
        video = packet.kind is StreamKind.VIDEO
        if video:
            self._newest = max(self._newest or packet.wall_ms, packet.wall_ms)
            if packet.is_keyframe:
                self._ring.append(_Gop())
        gop = self._ring[-1]
        gop.packets.append(packet)
        gop.size += len(packet.data)
        self._ring_bytes += len(packet.data)
        self._prune()

    def _prune(self) -> None:
        keep_from = (self._newest or 0) - self.timing.retention_ms
        while len(self._ring) > 1:
            second = self._ring[1].start_ms
            too_old = second is not None and second <= keep_from
            too_big = self._ring_bytes > self.timing.max_buffer_bytes
            if not (too_old or too_big):
                break
            dropped = self._ring.popleft()
            self._ring_bytes -= dropped.size
            self.stats.dropped_gops += int(too_big and not too_old)
        if self._ring_bytes > self.timing.max_buffer_bytes:  # one GOP past the bound: start afresh
            self._ring, self._ring_bytes = deque([_Gop()]), 0
            self.stats.dropped_gops += 1

    def _replay(self, opens_at: int) -> Iterator[IngestPacket]:
        """The ring from the GOP that holds ``opens_at`` (or its first GOP), first one flagged."""
        gops = [gop for gop in self._ring if gop.start_ms is not None]
        starts = [gop for gop in gops if gop.start_ms is not None and gop.start_ms <= opens_at]
        chosen = starts[-1] if starts else (gops[0] if gops else None)
        if chosen is None:
            return
        first = True
        index = list(self._ring).index(chosen)
        for gop in list(self._ring)[index:]:
            for packet in gop.packets:
                if self._is_new(packet):
                    yield replace(packet, discontinuity=True) if first else packet
                    first = False


class SignalGateNode:
    """The graph node: events from its event inputs, media from the RTSP source."""

    def __init__(self, name: str, timing: GateTiming, outlet: Outlet) -> None:
        self.name, self.outlet = name, outlet
        self.gate = SignalGate(timing)

    async def start(self) -> None:
        return None

    async def accept(self, item: object) -> None:
        if isinstance(item, GraphEvent):
            if not self.gate.trigger(item.time_ms):
                log.info("signal gate %s dropped a late event", self.name)
        elif isinstance(item, IngestPacket):
            for passed in self.gate.push(item):
                await self.outlet.send(passed)
        elif isinstance(item, Connected | Disconnected):
            await self.outlet.send(item)

    async def stop(self, flush_timeout_s: float) -> bool:
        return True
