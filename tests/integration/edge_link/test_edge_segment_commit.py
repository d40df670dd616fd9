"""Segment commit: idempotent, refusing names off the archive layout and blobs that are not as stated."""

from __future__ import annotations

import asyncio
import hashlib

from ova.recording import archive_layout
from support.edge_api_client import Edge, Instance, Upload

START = 1_700_000_000_000


async def published(edge: Edge) -> tuple[Instance, Upload]:
    instance = await edge.instance()
    response = await instance.publish("lobby")
    assert response.status_code == 200, response.text
    return instance, Upload(response.json()["containerSasUrl"])


async def commit(instance: Instance, body: object) -> tuple[int, dict[str, object]]:
    response = await instance.call("POST", "/v1/videos/lobby/segments", body)
    return response.status_code, response.json()


async def test_a_commit_indexes_once_and_plays(edge: Edge) -> None:
    instance, upload = await published(edge)
    await upload.init(edge.client)
    for sequence in range(1, 4):
        await upload.segment(edge.client, START + (sequence - 1) * 2000, sequence)

    first = await commit(instance, upload.commit_body())
    again = await commit(instance, upload.commit_body())

    assert first == (200, {"committed": 3, "alreadyCommitted": 0, "lastSequence": 3})
    assert again == (200, {"committed": 0, "alreadyCommitted": 3, "lastSequence": 3})
    video = await edge.arm.get("videos/lobby")
    assert video["properties"]["flags"]["hasData"] is True
    republished = await instance.publish("lobby")
    assert republished.json()["lastSequence"] == 3, "a restarted module continues the sequence"


async def test_a_different_segment_at_an_indexed_position_is_a_conflict(edge: Edge) -> None:
    instance, upload = await published(edge)
    await upload.init(edge.client)
    entry = await upload.segment(edge.client, START, 1)
    assert (await commit(instance, upload.commit_body()))[0] == 200

    changed = {**entry, "sha256": hashlib.sha256(b"other").hexdigest()}
    status, answer = await commit(instance, {"segments": [changed]})

    assert status == 409
    assert answer["error"]["code"] == "SegmentConflict"  # type: ignore[index]


async def test_names_off_the_layout_are_refused(edge: Edge) -> None:
    instance, upload = await published(edge)
    init = await upload.init(edge.client)
    entry = await upload.segment(edge.client, START, 1)
    other = archive_layout.segment_blob_name(START, 2)

    cases = [
        {"inits": [{**init, "blobName": "init/other.mp4"}]},
        {"inits": [init], "segments": [{**entry, "blobName": other}]},
        {"inits": [init], "segments": [{**entry, "blobName": "../video-x/" + entry["blobName"]}]},
        {"segments": [{**entry, "configHash": "deadbeef"}]},
    ]
    for body in cases:
        status, answer = await commit(instance, body)
        assert status == 400, (body, answer)
    assert (await edge.arm.get("videos/lobby"))["properties"]["flags"]["hasData"] is False


async def test_blobs_not_as_stated_are_refused(edge: Edge) -> None:
    instance, upload = await published(edge)
    init = await upload.init(edge.client)
    entry = await upload.segment(edge.client, START, 1)
    missing = {**entry, "sequence": 2, "blobName": archive_layout.segment_blob_name(START, 2)}

    for body, code in [
        ({"inits": [init], "segments": [{**entry, "size": entry["size"] + 1}]}, "BlobMismatch"),
        ({"inits": [init], "segments": [missing]}, "BlobNotFound"),
    ]:
        status, answer = await commit(instance, body)
        assert (status, answer["error"]["code"]) == (409, code)  # type: ignore[index]
    assert (await commit(instance, upload.commit_body()))[1]["committed"] == 1, "nothing was half-indexed"


async def test_preview_and_recording_state_show_on_the_video(edge: Edge) -> None:
    instance, upload = await published(edge)
    for size in ("small", "medium"):
        name = archive_layout.preview_blob_name(START, size)
        assert (await upload.put(edge.client, name, b"\xff\xd8jpeg", archive_layout.JPEG)).status_code == 201

    preview = await instance.call(
        "POST", "/v1/videos/lobby/preview", {"atMs": START, "sizes": ["small", "medium"]}
    )
    missing = await instance.call("POST", "/v1/videos/lobby/preview", {"atMs": START + 1, "sizes": ["large"]})
    started = await instance.call(
        "POST", "/v1/videos/lobby/events", {"state": "started", "at": "2026-12-04T10:00:00Z"}
    )
    in_use = (await edge.arm.get("videos/lobby"))["properties"]["flags"]["isInUse"]
    stopped = await instance.call(
        "POST", "/v1/videos/lobby/events", {"state": "stopped", "at": "2026-12-04T10:05:00Z"}
    )

    assert (preview.status_code, missing.status_code, started.status_code, stopped.status_code) == (
        204,
        409,
        204,
        204,
    )
    assert in_use is True
    assert (await edge.arm.get("videos/lobby"))["properties"]["flags"]["isInUse"] is False


async def test_racing_commits_of_the_same_segments_index_them_once(edge: Edge) -> None:
    """A lost acknowledgement makes the module commit again while the first commit still runs."""
    instance, upload = await published(edge)
    await upload.init(edge.client)
    await upload.segment(edge.client, START, 1)
    assert (await commit(instance, {"inits": upload.inits}))[0] == 200

    answers = await asyncio.gather(*(commit(instance, {"segments": upload.segments}) for _ in range(3)))

    assert [status for status, _ in answers] == [200, 200, 200], answers
    assert sum(int(answer["committed"]) for _, answer in answers) == 1  # type: ignore[call-overload]
