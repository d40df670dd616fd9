"""emsg boxes: Video Analyzer inference events placed in CMAF segments."""

from __future__ import annotations

import json

import pytest
from media_packets import packets

from ova.media.cmaf import CmafSegmenter, MediaSegment, SegmenterSettings
from ova.media.codec import CodecParameters
from ova.media.emsg import (
    AVA_EVENT_SCHEME,
    EventMessage,
    build_emsg,
    inference_message,
    insert_before_moof,
    parse_emsg,
)
from ova.media.errors import InvalidMedia
from ova.media.isobmff import find_boxes, full_box, iter_boxes

INFERENCES = [
    {"type": "MOTION", "motion": {"box": {"l": 0.1, "t": 0.2, "w": 0.3, "h": 0.4}}},
    {"type": "ENTITY", "entity": {"tag": {"value": "personne", "confidence": 0.9}}},
]


def test_an_inference_event_round_trips() -> None:
    message = inference_message(
        INFERENCES, timescale=90_000, presentation_time=161_100_000_000_000, event_duration=3000, id=7
    )
    box = build_emsg(message)
    assert box[4:8] == b"emsg" and box[8] == 1
    parsed = parse_emsg(box)
    assert parsed == message
    assert parsed.scheme_id_uri == AVA_EVENT_SCHEME
    assert parsed.inferences() == INFERENCES
    assert json.loads(parsed.message_data) == {"inferences": INFERENCES}


def test_version_0_boxes_are_read_too() -> None:
    body = b"urn:x\x00v\x00" + (1000).to_bytes(4, "big") + (40).to_bytes(4, "big")
    body += (10).to_bytes(4, "big") + (3).to_bytes(4, "big") + b"data"
    parsed = parse_emsg(full_box("emsg", 0, 0, body))
    assert parsed == EventMessage("urn:x", "v", 1000, 40, 10, 3, b"data")


@pytest.mark.parametrize(
    "data",
    [b"", full_box("emsg", 1, 0, b"\x00" * 10), full_box("emsg", 2, 0, b""), full_box("free", 0, 0, b"")],
)
def test_malformed_boxes_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidMedia):
        parse_emsg(data)


def test_out_of_range_fields_are_refused() -> None:
    message = inference_message([], timescale=2**32, presentation_time=0, event_duration=0, id=0)
    with pytest.raises(ValueError):
        build_emsg(message)


def test_messages_without_an_inference_list_are_refused() -> None:
    message = EventMessage(AVA_EVENT_SCHEME, "", 1, 0, 0, 0, b'{"other": 1}')
    with pytest.raises(InvalidMedia):
        message.inferences()


def test_emsg_boxes_go_before_the_first_moof(h264_config: CodecParameters) -> None:
    cutter = CmafSegmenter(SegmenterSettings(target_duration_ms=2000))
    out = [item for p in packets(h264_config, 61) for item in cutter.push(p)]
    segment = next(item for item in out if isinstance(item, MediaSegment))
    boxes = [
        build_emsg(
            inference_message(INFERENCES, timescale=90_000, presentation_time=t, event_duration=0, id=n)
        )
        for n, t in enumerate((segment.decode_time, segment.decode_time + 3000))
    ]
    tagged = insert_before_moof(segment.data, boxes)
    assert [b.kind for b in iter_boxes(tagged)] == ["emsg", "emsg", "moof", "mdat", "moof", "mdat"]
    assert tagged.endswith(segment.data)
    first = find_boxes(tagged, "emsg")[0]
    assert parse_emsg(tagged[first.start : first.end]).presentation_time == segment.decode_time
    with pytest.raises(InvalidMedia):
        insert_before_moof(b"", boxes)
