"""The edge's local media cache: durable entries, bounded size, failures reported, corruption quarantined."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ova.contracts.edge_api import PublishVideoRequest
from ova.contracts.edge_events import EdgeEvent
from ova.edge.cache_entry import EntryKind
from ova.edge.spool import LocalMediaCache, SpoolSettings
from ova.edge.video_cache import VideoCache
from ova.media.cmaf import InitSegment, MediaSegment
from ova.media.isobmff import box
from ova.media.preview import PreviewImage

START_MS = 1_780_000_000_000
KIB = 1024


class Events:
    def __init__(self) -> None:
        self.events: list[EdgeEvent] = []

    def emit(self, event: EdgeEvent) -> None:
        self.events.append(event)

    def of_type(self, event_type: str) -> list[EdgeEvent]:
        return [event for event in self.events if event.type == event_type]


def init_segment(config: str = "c0ffee00") -> InitSegment:
    data = box("ftyp", b"iso6\x00\x00\x00\x00") + box("moov", box("mvhd", bytes(100)))
    return InitSegment(config, data, "avc1.42C01F", 320, 240, 90000)


def media_segment(sequence: int, size: int = 2 * KIB, start_ms: int | None = None) -> MediaSegment:
    payload = bytes((sequence + index) % 251 for index in range(size))
    data = box("moof", box("mfhd", bytes(8))) + box("mdat", payload)
    start = START_MS + sequence * 2000 if start_ms is None else start_ms
    return MediaSegment(sequence, start, 2000, data, "c0ffee00", 60, False, sequence * 180000, 180000)


async def open_cache(path: Path, events: Events, max_mib: int = 64) -> LocalMediaCache:
    cache = LocalMediaCache(SpoolSettings(path=path, max_size_mib=max_mib), events)
    await cache.start()
    return cache


async def open_video(cache: LocalMediaCache, name: str = "camera-1") -> VideoCache:
    return await cache.open_video(name, PublishVideoRequest(), f"/edgeModules/m/livePipelines/p/sinks/{name}")


async def test_entries_survive_a_restart_and_last_sequence_outlives_the_cache(tmp_path: Path) -> None:
    events = Events()
    video = await open_video(await open_cache(tmp_path, events))
    await video.init_segment(init_segment())
    for sequence in (1, 2, 3):
        await video.media_segment(media_segment(sequence))
    await video.preview([PreviewImage("small", 32, 18, b"\xff\xd8jpeg\xff\xd9")], START_MS)

    reopened = await open_cache(tmp_path, events)
    (video,) = reopened.videos
    pending = video.pending()
    assert [entry.kind for entry in pending] == [EntryKind.INIT] + [EntryKind.SEGMENT] * 3 + [
        EntryKind.PREVIEW
    ]
    assert video.read(pending[2]) == media_segment(2).data
    assert pending[1].blob_name.endswith(f"/{START_MS + 2000}-1.m4s")
    assert video.last_sequence == 3

    video.mark_uploaded(pending)
    video.remove(pending)
    after_upload = await open_cache(tmp_path, events)
    (video,) = after_upload.videos
    assert video.pending() == []
    assert video.last_sequence == 3  # the next recording continues past it
    assert oct(os.stat(tmp_path / "videos" / "camera-1" / "video.json").st_mode & 0o777) == "0o600"


class PowerCut(BaseException):
    """The machine stopped here: nothing after this call happens."""


class CrashShim:
    """os.fsync/os.link wrapped so that, at a power cut, data never fsynced and names whose folder
    was never fsynced are lost, as a real disk loses them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, cut_at_call: int) -> None:
        self.calls, self.cut_at = 0, cut_at_call
        self.unsynced_files: set[str] = set()
        self.unsynced_links: list[str] = []
        self._fsync, self._link, self._open = os.fsync, os.link, os.open
        monkeypatch.setattr(os, "fsync", self.fsync)
        monkeypatch.setattr(os, "link", self.link)
        monkeypatch.setattr(os, "open", self.open)

    def open(self, path: str | Path, flags: int, mode: int = 0o777, **kwargs: object) -> int:
        fd = self._open(path, flags, mode)
        if flags & os.O_CREAT:
            self.unsynced_files.add(os.path.realpath(path))
        return fd

    def fsync(self, fd: int) -> None:
        self.calls += 1
        if self.calls == self.cut_at:
            raise PowerCut
        self._fsync(fd)
        path = os.readlink(f"/proc/self/fd/{fd}")
        self.unsynced_files.discard(path)
        self.unsynced_links = [link for link in self.unsynced_links if os.path.dirname(link) != path]

    def link(self, source: str | Path, target: str | Path) -> None:
        self._link(source, target)
        self.unsynced_links.append(os.path.realpath(target))

    def lose_unsynced(self) -> None:
        for link in self.unsynced_links:
            Path(link).unlink(missing_ok=True)
        for path in self.unsynced_files:
            if Path(path).is_file():
                os.truncate(path, 0)


@pytest.mark.parametrize("cut_at_call", [2, 3, 4, 6, 9, 12, 15])
async def test_a_power_cut_leaves_only_complete_entries_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cut_at_call: int
) -> None:
    events = Events()
    video = await open_video(await open_cache(tmp_path, events))
    shim = CrashShim(monkeypatch, cut_at_call)
    stored: list[bytes] = []
    with pytest.raises(PowerCut):
        await video.init_segment(init_segment())
        stored.append(init_segment().data)
        for sequence in range(1, 10):
            await video.media_segment(media_segment(sequence))
            stored.append(media_segment(sequence).data)
    shim.lose_unsynced()
    monkeypatch.undo()

    (video,) = (await open_cache(tmp_path, events)).videos
    listed = [video.read(entry) for entry in video.pending()]  # read() re-checks size and hash
    assert listed[: len(stored)] == stored  # every call that returned is there
    assert len(listed) <= len(stored) + 1  # at most the one whose manifest was already synced
    assert not list((tmp_path / "tmp").iterdir())


async def test_an_eio_from_fsync_fails_that_segment_and_recording_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = Events()
    cache = await open_cache(tmp_path, events)
    video = await open_video(cache)
    await video.init_segment(init_segment())
    real_fsync = os.fsync
    failures = iter([True])

    def failing_fsync(fd: int) -> None:
        if next(failures, False):
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    await video.media_segment(media_segment(1))
    await video.media_segment(media_segment(2))
    monkeypatch.undo()

    assert [entry.sequence for entry in video.pending() if entry.kind is EntryKind.SEGMENT] == [2]
    assert cache.stats.write_failures == 1
    (failure,) = events.of_type("StorageError")
    assert failure.body["reason"] == "LocalMediaCacheWriteFailed"
    (reopened,) = (await open_cache(tmp_path, events)).videos
    assert [entry.sequence for entry in reopened.pending() if entry.kind is EntryKind.SEGMENT] == [2]


async def test_a_full_cache_evicts_uploaded_files_first_then_the_oldest_and_reports_each_drop(
    tmp_path: Path,
) -> None:
    events = Events()
    cache = await open_cache(tmp_path, events, max_mib=1)
    video = await open_video(cache)
    await video.init_segment(init_segment())
    for sequence in (1, 2, 3):
        await video.media_segment(media_segment(sequence, size=300 * KIB))
    segments = [entry for entry in video.pending() if entry.kind is EntryKind.SEGMENT]
    video.mark_uploaded([segments[1]])  # committed, not yet deleted

    await video.media_segment(media_segment(4, size=300 * KIB))
    assert events.of_type("DataDropped") == []  # the uploaded one made room
    await video.media_segment(media_segment(5, size=300 * KIB))

    kept = [entry.sequence for entry in video.pending() if entry.kind is EntryKind.SEGMENT]
    assert kept == [3, 4, 5]
    (dropped,) = events.of_type("DataDropped")
    assert dropped.body["blobName"] == segments[0].blob_name
    assert cache.stats.data_dropped == 1
    assert cache.stats.bytes_cached <= 1024 * KIB
    assert video.pending()[0].kind is EntryKind.INIT  # inits go last


async def test_disk_full_evicts_then_fails_without_crashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = Events()
    cache = await open_cache(tmp_path, events)
    video = await open_video(cache)
    await video.init_segment(init_segment())
    await video.media_segment(media_segment(1))
    real_fsync = os.fsync

    def disk_full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    await video.media_segment(media_segment(2))  # evicts to make room, still fails, no exception
    monkeypatch.setattr(os, "fsync", real_fsync)
    await video.media_segment(media_segment(3))

    assert cache.stats.data_dropped >= 1
    assert cache.stats.write_failures == 1
    assert [entry.sequence for entry in video.pending() if entry.kind is EntryKind.SEGMENT] == [3]
    assert events.of_type("DataDropped") and events.of_type("StorageError")
    # the evicted init is written again before the segment that needs it
    assert video.pending()[0].kind is EntryKind.INIT


async def test_corrupt_and_truncated_files_are_quarantined_at_restart(tmp_path: Path) -> None:
    events = Events()
    video = await open_video(await open_cache(tmp_path, events))
    await video.init_segment(init_segment())
    for sequence in (1, 2, 3):
        await video.media_segment(media_segment(sequence))
    first, second = video.pending()[1:3]
    entries = tmp_path / "videos" / "camera-1" / "entries"
    flipped = bytearray((entries / f"{first.stem}.media").read_bytes())
    flipped[-1] ^= 0xFF
    (entries / f"{first.stem}.media").write_bytes(bytes(flipped))
    os.truncate(entries / f"{second.stem}.media", 100)

    cache = await open_cache(tmp_path, events)
    (video,) = cache.videos
    assert [entry.sequence for entry in video.pending() if entry.kind is EntryKind.SEGMENT] == [3]
    assert cache.stats.quarantined == 2
    assert len(events.of_type("StorageError")) == 2
    assert sorted(
        path.name for path in (tmp_path / "videos" / "camera-1" / "quarantine").iterdir()
    ) == sorted([f"{first.stem}.json", f"{first.stem}.media", f"{second.stem}.json", f"{second.stem}.media"])


async def test_a_clock_that_jumps_back_never_reuses_a_name(tmp_path: Path) -> None:
    video = await open_video(await open_cache(tmp_path, Events()))
    await video.init_segment(init_segment())
    await video.media_segment(media_segment(1, start_ms=START_MS))
    await video.media_segment(media_segment(2, start_ms=START_MS - 3_600_000))  # an hour back
    await video.media_segment(media_segment(3, start_ms=START_MS))  # the same instant again
    names = [entry.blob_name for entry in video.pending() if entry.kind is EntryKind.SEGMENT]
    assert len(set(names)) == 3


RLIMIT_SCRIPT = """
import asyncio, resource, sys
sys.path.insert(0, sys.argv[2])
from test_spool import Events, init_segment, media_segment, open_cache, open_video

async def main():
    events = Events()
    cache = await open_cache(__import__("pathlib").Path(sys.argv[1]), events)
    video = await open_video(cache)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
    await video.init_segment(init_segment())
    await video.media_segment(media_segment(1, size=200 * 1024))  # past the limit: EFBIG
    await video.media_segment(media_segment(2))
    kept = [entry.sequence for entry in video.pending() if entry.sequence]
    print(kept, cache.stats.write_failures, len(events.of_type("StorageError")))

asyncio.run(main())
"""


def test_a_file_size_limit_fails_the_big_segment_and_recording_goes_on(tmp_path: Path) -> None:
    here = str(Path(__file__).parent)
    result = subprocess.run(
        [sys.executable, "-c", RLIMIT_SCRIPT, str(tmp_path), here], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr  # no crash (SIGXFSZ is ignored, EFBIG handled)
    assert result.stdout.split() == ["[2]", "1", "1"]
