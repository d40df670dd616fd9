"""What goes up together: bounded runs of segments, previews of one instant, blob URLs under a SAS."""

from __future__ import annotations

from ova.edge.cache_entry import Entry, EntryKind, new_entry
from ova.edge.upload_batch import blob_url, next_batch, segment_commit


def entries(kinds: str) -> list[Entry]:
    made: list[Entry] = []
    for order, kind in enumerate(kinds, start=1):
        if kind == "i":
            details = {"configHash": "c0ffee00", "codec": "avc1", "width": 1, "height": 1, "timescale": 90000}
            made.append(new_entry(order, EntryKind.INIT, "init/c0ffee00.mp4", b"i", details))
        elif kind == "s":
            details = {
                "startMs": order,
                "durationMs": 1,
                "sequence": order,
                "configHash": "c0ffee00",
                "gapBefore": False,
            }
            made.append(new_entry(order, EntryKind.SEGMENT, f"segments/{order}.m4s", b"s", details))
        else:
            made.append(
                new_entry(order, EntryKind.PREVIEW, "preview/1/small.jpg", b"p", {"atMs": 1, "size": "small"})
            )
    return made


def test_a_batch_stops_at_its_segment_bound_and_before_previews() -> None:
    assert [entry.order for entry in next_batch(entries("isssss"), 3)] == [1, 2, 3, 4]
    assert [entry.order for entry in next_batch(entries("ispps"), 10)] == [1, 2]
    assert [entry.order for entry in next_batch(entries("ppps"), 10)] == [1, 2, 3]
    assert next_batch([], 10) == []


def test_the_commit_describes_each_file_as_cached() -> None:
    commit = segment_commit(entries("iss"))
    assert [init.blob_name for init in commit.inits] == ["init/c0ffee00.mp4"]
    assert [(segment.sequence, segment.size) for segment in commit.segments] == [(2, 1), (3, 1)]


def test_a_blob_url_keeps_the_sas_query_and_escapes_the_name() -> None:
    url = blob_url("https://acct.blob.example/video-1?sv=2021&sig=abc%2B", "segments/2026/a b.m4s")
    assert url == "https://acct.blob.example/video-1/segments/2026/a%20b.m4s?sv=2021&sig=abc%2B"
