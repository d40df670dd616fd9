"""Event message boxes (``emsg``, ISO/IEC 23009-1 §5.10.3.3) carrying inference metadata.

Version 1 boxes carry an absolute ``presentation_time`` on the track's timescale; with
``CmafSegmenter`` media that is wall-clock time (``epoch_ms * timescale // 1000``). Video
Analyzer's player reads scheme ``urn:msft:media:ava:event:2020:json`` with UTF-8 JSON
``{"inferences": [...]}`` as message data. CMAF places ``emsg`` boxes before a segment's
first ``moof``; ``insert_before_moof`` puts them there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ova.media.errors import InvalidMedia
from ova.media.isobmff import full_box, iter_boxes, u32, u64

AVA_EVENT_SCHEME = "urn:msft:media:ava:event:2020:json"
_UINT32 = 2**32 - 1


@dataclass(frozen=True)
class EventMessage:
    scheme_id_uri: str
    value: str
    timescale: int
    presentation_time: int
    event_duration: int
    id: int
    message_data: bytes

    def inferences(self) -> list[Any]:
        """The ``inferences`` list of a JSON message (Video Analyzer's scheme)."""
        document = json.loads(self.message_data.decode("utf-8"))
        result = document.get("inferences") if isinstance(document, dict) else None
        if not isinstance(result, list):
            raise InvalidMedia("the event message carries no inferences list")
        return result


def build_emsg(message: EventMessage) -> bytes:
    """The version 1 ``emsg`` box for ``message``."""
    for name in ("timescale", "event_duration", "id"):
        if not 0 <= getattr(message, name) <= _UINT32:
            raise ValueError(f"emsg {name} must fit in 32 bits")
    if not 0 <= message.presentation_time < 2**64:
        raise ValueError("emsg presentation_time must fit in 64 bits")
    return full_box(
        "emsg",
        1,
        0,
        u32(message.timescale),
        u64(message.presentation_time),
        u32(message.event_duration),
        u32(message.id),
        _c_string(message.scheme_id_uri),
        _c_string(message.value),
        message.message_data,
    )


def inference_message(
    inferences: Sequence[Mapping[str, Any]],
    *,
    timescale: int,
    presentation_time: int,
    event_duration: int,
    id: int,
    value: str = "",
) -> EventMessage:
    """A Video Analyzer inference event: ``{"inferences": [...]}`` as compact UTF-8 JSON."""
    data = json.dumps({"inferences": list(inferences)}, separators=(",", ":"), ensure_ascii=False)
    return EventMessage(
        scheme_id_uri=AVA_EVENT_SCHEME,
        value=value,
        timescale=timescale,
        presentation_time=presentation_time,
        event_duration=event_duration,
        id=id,
        message_data=data.encode("utf-8"),
    )


def parse_emsg(box_bytes: bytes) -> EventMessage:
    """Reads one ``emsg`` box (versions 0 and 1); raises ``InvalidMedia`` when malformed."""
    found = list(iter_boxes(box_bytes))
    if len(found) != 1 or found[0].kind != "emsg":
        raise InvalidMedia("expected exactly one emsg box")
    payload = found[0].payload(box_bytes)
    if len(payload) < 4 or payload[0] not in (0, 1):
        raise InvalidMedia("unsupported emsg version")
    body = payload[4:]
    try:
        return _parse_v1(body) if payload[0] == 1 else _parse_v0(body)
    except (IndexError, ValueError) as error:
        raise InvalidMedia("the emsg box is truncated") from error


def _parse_v1(body: bytes) -> EventMessage:
    if len(body) < 20:
        raise ValueError("short")
    timescale, time = int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:12], "big")
    duration, event_id = int.from_bytes(body[12:16], "big"), int.from_bytes(body[16:20], "big")
    scheme, position = _read_c_string(body, 20)
    value, position = _read_c_string(body, position)
    return EventMessage(scheme, value, timescale, time, duration, event_id, body[position:])


def _parse_v0(body: bytes) -> EventMessage:
    scheme, position = _read_c_string(body, 0)
    value, position = _read_c_string(body, position)
    fields = body[position : position + 16]
    if len(fields) < 16:
        raise ValueError("short")
    timescale, delta, duration, event_id = (int.from_bytes(fields[i : i + 4], "big") for i in (0, 4, 8, 12))
    return EventMessage(scheme, value, timescale, delta, duration, event_id, body[position + 16 :])


def insert_before_moof(segment: bytes, boxes: Iterable[bytes]) -> bytes:
    """``segment`` with ``boxes`` inserted before its first ``moof``.

    Valid for fragments whose data offsets are relative to the ``moof`` (default-base-is-moof),
    as ``CmafSegmenter`` writes them.
    """
    extra = b"".join(boxes)
    for item in iter_boxes(segment):
        if item.kind == "moof":
            return segment[: item.start] + extra + segment[item.start :]
    raise InvalidMedia("the segment has no moof box")


def _c_string(text: str) -> bytes:
    encoded = text.encode("utf-8")
    if b"\x00" in encoded:
        raise ValueError("emsg strings cannot contain NUL")
    return encoded + b"\x00"


def _read_c_string(data: bytes, start: int) -> tuple[str, int]:
    end = data.index(b"\x00", start)
    return data[start:end].decode("utf-8"), end + 1
