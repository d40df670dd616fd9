"""ISO base media file format boxes (ISO/IEC 14496-12): writing them and walking them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ova.media.errors import InvalidMedia

# Bytes of fields before the child boxes of boxes that are not plain containers.
_CHILD_OFFSETS = {"stsd": 8, "dref": 8, "avc1": 78, "avc3": 78, "hvc1": 78, "hev1": 78, "mp4a": 28}


def box(kind: str, *payload: bytes) -> bytes:
    """A box of type ``kind`` holding ``payload`` (32-bit size)."""
    size = 8 + sum(len(part) for part in payload)
    return b"".join((size.to_bytes(4, "big"), kind.encode("ascii"), *payload))


def full_box(kind: str, version: int, flags: int, *payload: bytes) -> bytes:
    """A box with the ``version`` and ``flags`` header of a FullBox."""
    return box(kind, bytes((version,)) + flags.to_bytes(3, "big"), *payload)


def u8(value: int) -> bytes:
    return value.to_bytes(1, "big")


def u16(value: int) -> bytes:
    return value.to_bytes(2, "big")


def u32(value: int) -> bytes:
    return value.to_bytes(4, "big")


def u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


@dataclass(frozen=True, slots=True)
class Box:
    """Where a box lies in a buffer: ``data[start:end]`` is the whole box."""

    kind: str
    start: int
    end: int
    header_size: int

    @property
    def payload_start(self) -> int:
        return self.start + self.header_size

    def payload(self, data: bytes) -> bytes:
        return data[self.payload_start : self.end]


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes laid end to end in ``data[start:end]``; raises ``InvalidMedia`` if truncated."""
    end = len(data) if end is None else end
    position = start
    while position < end:
        if position + 8 > end:
            raise InvalidMedia("a box header is truncated")
        size = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8].decode("latin-1")
        header = 8
        if size == 1:
            if position + 16 > end:
                raise InvalidMedia("a box header is truncated")
            size, header = int.from_bytes(data[position + 8 : position + 16], "big"), 16
        elif size == 0:
            size = end - position
        if size < header or position + size > end:
            raise InvalidMedia(f"box {kind!r} runs past its container")
        yield Box(kind, position, position + size, header)
        position += size


def children(data: bytes, parent: Box) -> list[Box]:
    """The child boxes of ``parent``."""
    offset = _CHILD_OFFSETS.get(parent.kind, 0)
    return list(iter_boxes(data, parent.payload_start + offset, parent.end))


def find_boxes(data: bytes, path: str) -> list[Box]:
    """Every box at ``path`` (``"moof/traf/tfdt"``), starting from the top level of ``data``."""
    kinds = path.split("/")
    found = [item for item in iter_boxes(data) if item.kind == kinds[0]]
    for kind in kinds[1:]:
        found = [child for parent in found for child in children(data, parent) if child.kind == kind]
    return found
