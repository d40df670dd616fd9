"""``FileSink``: recordings as MP4 files in a folder, the oldest evicted when it is full.

Each recording (each opening of the upstream signal gate) becomes one fragmented MP4 file in
``baseDirectoryPath``: the init segment, then one ``moof``+``mdat`` per GOP, appended as the
recorder cuts segments (every ``FILE_SEGMENT_MS``), so a file is playable (ffprobe, ffmpeg,
VLC, browsers) while it grows and after a crash up to its last fragment. A new codec
configuration also starts a new file. Each file's clock starts at zero at its first frame (the
fragments' ``tfdt`` are rebased: the recorder's are wall-clock times), so a player shows the
clip's own length; the wall-clock start is in the file's name. The name is ``fileNamePattern`` with the system
variables filled in from the recording's first frame (``${System.Runtime.DateTime}``:
``yyyyMMddTHHmmssZ``, ``${System.Runtime.PreciseDateTime}``: ``yyyyMMddTHHmmss.fffZ``; the
pipeline's and topology's names were substituted with the parameters) plus ``.mp4``; path
separators are replaced, and a name already taken gets ``-1``, ``-2``... The sink's files
(``*.mp4`` in the folder) are kept under ``maximumSizeMiB`` in all: when a write passes it,
the oldest files (never the one being written) are deleted, counted and logged; a recording
that alone reaches the bound goes on in a new file.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path

from ova.contracts.topology import substitute
from ova.contracts.topology_edge import FileSink
from ova.edge.graph.context import NodeScope
from ova.edge.sinks.recording import Announcing, RecordingNode
from ova.media.cmaf import InitSegment, MediaSegment
from ova.media.isobmff import children, find_boxes, iter_boxes, u64
from ova.media.preview import PreviewImage
from ova.recording.recorder import RecorderSettings

log = logging.getLogger(__name__)
MIB = 1024 * 1024
FILE_SEGMENT_MS = 10_000
MAX_NAME = 200
REMEMBERED_INITS = 64


def file_name(pattern: str, start_ms: int) -> str:
    """``pattern`` with the date-time variables of ``start_ms`` in, made a safe ``.mp4`` file name."""
    moment = datetime.fromtimestamp(start_ms / 1000, UTC)
    values = {
        "System.Runtime.DateTime": moment.strftime("%Y%m%dT%H%M%SZ"),
        "System.Runtime.PreciseDateTime": moment.strftime("%Y%m%dT%H%M%S.")
        + f"{moment.microsecond // 1000:03d}Z",
    }
    name = substitute(pattern, values)
    name = "".join("_" if char in "/\\:\0" or ord(char) < 32 else char for char in name).strip(". ")
    name = name[:MAX_NAME] or "recording"
    return name if name.lower().endswith(".mp4") else name + ".mp4"


def track_timescales(init: InitSegment) -> dict[int, int]:
    """Track id → timescale, from an init segment's ``mdhd`` boxes (video is track 1, audio 2)."""
    scales: dict[int, int] = {}
    for number, mdhd in enumerate(find_boxes(init.data, "moov/trak/mdia/mdhd"), start=1):
        version = init.data[mdhd.payload_start]
        at = mdhd.payload_start + 4 + (16 if version == 1 else 8)
        scales[number] = int.from_bytes(init.data[at : at + 4], "big")
    return scales


def rebased(fragments: bytes, origin_s: float, timescales: dict[int, int]) -> bytes:
    """``fragments`` (``moof`` + ``mdat``...) with each track's ``tfdt`` made relative to ``origin_s``."""
    data = bytearray(fragments)
    for moof in (item for item in iter_boxes(fragments) if item.kind == "moof"):
        for traf in (child for child in children(fragments, moof) if child.kind == "traf"):
            boxes = {child.kind: child for child in children(fragments, traf)}
            tfhd, tfdt = boxes.get("tfhd"), boxes.get("tfdt")
            if tfhd is None or tfdt is None or fragments[tfdt.payload_start] != 1:
                continue
            track = int.from_bytes(fragments[tfhd.payload_start + 4 : tfhd.payload_start + 8], "big")
            at = tfdt.payload_start + 4
            origin = round(origin_s * timescales.get(track, timescales.get(1, 90_000)))
            value = int.from_bytes(fragments[at : at + 8], "big") - origin
            data[at : at + 8] = u64(max(0, value))
    return bytes(data)


class MediaFiles:
    """The ``SegmentSink`` of a file sink: one MP4 file per recording, the folder bounded."""

    def __init__(self, directory: Path, pattern: str, maximum_bytes: int) -> None:
        self.directory, self.pattern, self.maximum_bytes = directory, pattern, maximum_bytes
        self._inits: OrderedDict[str, InitSegment] = OrderedDict()
        self.current: Path | None = None
        self._current_hash: str | None = None
        self._origin_s = 0.0
        self._timescales: dict[int, int] = {}
        self.evicted = 0

    async def init_segment(self, init: InitSegment) -> None:
        self._inits[init.config_hash] = init
        while len(self._inits) > REMEMBERED_INITS:
            self._inits.popitem(last=False)

    async def media_segment(self, segment: MediaSegment) -> None:
        await asyncio.to_thread(self._write, segment)

    async def preview(self, images: list[PreviewImage], at_ms: int) -> None:
        return None  # files carry no preview images

    def close(self) -> None:
        """The next segment starts a new file."""
        self.current, self._current_hash = None, None

    def _write(self, segment: MediaSegment) -> None:
        if self.current is None or segment.gap_before or segment.config_hash != self._current_hash:
            self._start(segment)
        assert self.current is not None
        with self.current.open("ab") as file:
            file.write(rebased(segment.data, self._origin_s, self._timescales))
            file.flush()
            os.fsync(file.fileno())
            full = file.tell() >= self.maximum_bytes
        self._evict()
        if full:  # one recording as large as the folder's bound: go on in a new file, so this one can go
            self.close()

    def _start(self, segment: MediaSegment) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        init = self._inits[segment.config_hash]
        base = file_name(self.pattern, segment.start_ms)
        path, number = self.directory / base, 0
        while path.exists():
            number += 1
            path = self.directory / f"{base.removesuffix('.mp4')}-{number}.mp4"
        path.write_bytes(init.data)
        self.current, self._current_hash = path, segment.config_hash
        self._timescales = track_timescales(init)
        self._origin_s = segment.decode_time / init.timescale

    def _evict(self) -> None:
        files = sorted(self.directory.glob("*.mp4"), key=lambda path: path.stat().st_mtime_ns)
        total = sum(path.stat().st_size for path in files)
        for path in files:
            if total <= self.maximum_bytes or path == self.current:
                break
            size = path.stat().st_size
            path.unlink(missing_ok=True)
            total -= size
            self.evicted += 1
            log.info("file sink folder %s is full: deleted its oldest file %s", self.directory, path.name)


class FileSinkNode(RecordingNode):
    def __init__(self, scope: NodeScope, node: FileSink, source: str) -> None:
        super().__init__(scope, source)
        maximum = int(node.maximum_size_mi_b) * MIB
        self.files = MediaFiles(Path(node.base_directory_path), node.file_name_pattern, maximum)

    async def _open(self) -> tuple[Announcing, RecorderSettings]:
        context = self._scope.context
        settings = RecorderSettings(segment_ms=FILE_SEGMENT_MS, previews=False, ingest=context.ingest)
        return Announcing(self._scope, "filePath", self.files, lambda: str(self.files.current)), settings

    async def stop(self, flush_timeout_s: float) -> bool:
        stored = await self._stop_recorder()
        self.files.close()
        return stored
