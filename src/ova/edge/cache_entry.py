"""One entry of the edge's local media cache: a media file and the manifest that vouches for it.

An entry is two files in a video's ``entries/`` folder, both written durably (temp → fsync →
link → fsync folder): ``<order>.media`` (the bytes of an init segment, a media segment or a
preview image) and, only after the media is durable, ``<order>.json`` (this manifest). So a
manifest exists only for media that reached the disk whole. ``order`` is the cache-wide
position of the entry (oldest first). At start-up every manifest is checked against its media
(``validate``): size, SHA-256 and, for fMP4, the ISO BMFF box structure; what fails is
quarantined, never uploaded.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ova.media.errors import InvalidMedia
from ova.media.isobmff import iter_boxes
from ova.recording import archive_layout

MAX_MANIFEST_BYTES = 4096
MEDIA_SUFFIX = ".media"
MANIFEST_SUFFIX = ".json"


class EntryKind(StrEnum):
    INIT = "init"
    SEGMENT = "segment"
    PREVIEW = "preview"


CONTENT_TYPES = {
    EntryKind.INIT: archive_layout.MP4,
    EntryKind.SEGMENT: archive_layout.M4S,
    EntryKind.PREVIEW: archive_layout.JPEG,
}
# The top-level boxes each fMP4 kind must open with.
_FIRST_BOXES = {EntryKind.INIT: {"ftyp"}, EntryKind.SEGMENT: {"styp", "moof", "emsg", "prft", "sidx"}}


class CorruptEntry(ValueError):
    """A cached file does not match its manifest (or the manifest is unreadable)."""


@dataclass(frozen=True)
class Entry:
    """The manifest of one cached file; ``details`` holds what the commit needs of its kind."""

    order: int
    kind: EntryKind
    blob_name: str
    size: int
    sha256: str
    details: dict[str, Any] = field(default_factory=dict)
    """init: configHash, codec, width, height, timescale; segment: startMs, durationMs,
    sequence, configHash, gapBefore; preview: atMs, size."""

    @property
    def stem(self) -> str:
        return f"{self.order:015d}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]

    @property
    def sequence(self) -> int:
        return int(self.details.get("sequence", 0))

    def to_json(self) -> bytes:
        document = asdict(self)
        document["kind"] = self.kind.value
        return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Entry:
        if len(data) > MAX_MANIFEST_BYTES:
            raise CorruptEntry("the manifest is too large")
        try:
            document = json.loads(data)
            return cls(
                order=int(document["order"]),
                kind=EntryKind(document["kind"]),
                blob_name=str(document["blob_name"]),
                size=int(document["size"]),
                sha256=str(document["sha256"]),
                details=dict(document["details"]),
            )
        except (ValueError, KeyError, TypeError) as error:
            raise CorruptEntry("the manifest is unreadable") from error


def new_entry(order: int, kind: EntryKind, blob_name: str, data: bytes, details: dict[str, Any]) -> Entry:
    return Entry(order, kind, blob_name, len(data), hashlib.sha256(data).hexdigest(), details)


def check_media(entry: Entry, data: bytes) -> None:
    """``CorruptEntry`` unless ``data`` is what ``entry`` describes."""
    if len(data) != entry.size:
        raise CorruptEntry(f"entry {entry.order}: {len(data)} bytes, the manifest says {entry.size}")
    if hashlib.sha256(data).hexdigest() != entry.sha256:
        raise CorruptEntry(f"entry {entry.order}: the bytes do not match their SHA-256")
    first = _FIRST_BOXES.get(entry.kind)
    if first is None:
        return
    try:
        boxes = list(iter_boxes(data))
    except InvalidMedia as error:
        raise CorruptEntry(f"entry {entry.order}: {error}") from error
    if not boxes or boxes[0].kind not in first:
        raise CorruptEntry(f"entry {entry.order}: not an fMP4 {entry.kind.value}")


def validate(manifest: Path) -> Entry:
    """The entry ``manifest`` describes, once its media file checks out; ``CorruptEntry`` if not."""
    try:
        entry = Entry.from_json(manifest.read_bytes())
        media = manifest.with_suffix(MEDIA_SUFFIX)
        if media.stat().st_size != entry.size:
            raise CorruptEntry(f"entry {entry.order}: the media file is truncated or too long")
        check_media(entry, media.read_bytes())
    except OSError as error:
        raise CorruptEntry(f"{manifest.name}: {error.strerror}") from error
    return entry
