"""A running node of a pipeline graph, what flows between nodes, and the outlet that fans it out.

Media flows as the recorder's items (``IngestPacket``, ``Connected``, ``Disconnected``,
``recording.recorder.Pause``); events (a hub message, a detection) flow as ``GraphEvent``.
A node hands what it produces to its ``Outlet``, which passes each item to every downstream
node that takes it (an input with ``mediaType is video`` takes no audio). ``accept`` never
waits on a slow sink: sinks queue what they are handed, boundedly, and count what they drop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ova.media.codec import StreamKind
from ova.media.packet import IngestPacket


@dataclass(frozen=True)
class GraphEvent:
    """An event inside a graph: when it happened (UTC epoch ms), its JSON body and properties."""

    time_ms: int
    body: Mapping[str, Any]
    properties: Mapping[str, str] = field(default_factory=dict)


class RunningNode(Protocol):
    """One node of a running graph; started upstream last, stopped upstream first."""

    name: str

    async def start(self) -> None: ...

    async def accept(self, item: object) -> None:
        """Take one item from an upstream node."""
        ...

    async def stop(self, flush_timeout_s: float) -> bool:
        """Stop; True when everything this node holds reached its destination in time."""
        ...


@dataclass(frozen=True)
class Reader:
    """A downstream node and whether its input lets audio through."""

    node: RunningNode
    video_only: bool = False


class Outlet:
    """The downstream nodes of one node."""

    def __init__(self) -> None:
        self.readers: list[Reader] = []

    def connect(self, node: RunningNode, *, video_only: bool = False) -> None:
        self.readers.append(Reader(node, video_only))

    async def send(self, item: object) -> None:
        audio = isinstance(item, IngestPacket) and item.kind is not StreamKind.VIDEO
        for reader in self.readers:
            if not (audio and reader.video_only):
                await reader.node.accept(item)
