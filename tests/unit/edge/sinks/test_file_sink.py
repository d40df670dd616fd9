"""The file sink's files: names from the pattern, one file per recording, clocks from zero, eviction."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace
from pathlib import Path

import pytest

from ova.edge.sinks.file import MediaFiles, file_name
from ova.media.cmaf import CmafSegmenter, InitSegment, MediaSegment, SegmenterSettings
from ova.media.ingest_settings import IngestSettings
from ova.media.isobmff import find_boxes
from ova.media.packet import IngestPacket
from ova.media.rtsp_ingest import RtspIngest
from ova.media.synthetic import StreamSpec, write_stream

START_MS = 1_800_000_000_123  # 2027-01-15T08:00:00.123Z


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> list[InitSegment | MediaSegment]:
    """Three one-second segments of 160x120 H.264."""
    path = write_stream(
        tmp_path_factory.mktemp("media") / "clip.ts", StreamSpec(width=160, height=120, frames=90)
    )
    return _segmented(path)


def _segmented(path: Path) -> list[InitSegment | MediaSegment]:
    async def packets() -> list[IngestPacket]:
        settings = IngestSettings(max_drift_ms=None, keep_final_access_unit=True, local_file=True)
        found: list[IngestPacket] = []
        async with contextlib.aclosing(RtspIngest(str(path), settings).session()) as items:
            async for item in items:
                if isinstance(item, IngestPacket):
                    found.append(item)
        return found

    segmenter = CmafSegmenter(SegmenterSettings(target_duration_ms=1000))
    out: list[InitSegment | MediaSegment] = []
    for packet in asyncio.run(packets()):
        out += segmenter.push(packet)
    return out + segmenter.flush()


def names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.glob("*.mp4"))


def test_names_fill_the_date_time_variables_and_stay_inside_the_folder() -> None:
    assert file_name("cam-${System.Runtime.DateTime}", START_MS) == "cam-20270115T080000Z.mp4"
    assert file_name("${System.Runtime.PreciseDateTime}.mp4", START_MS) == "20270115T080000.123Z.mp4"
    assert file_name("../../etc/${System.Runtime.DateTime}", START_MS) == "_.._etc_20270115T080000Z.mp4"


async def test_each_recording_is_one_file_whose_clock_starts_at_zero(
    segments: list[InitSegment | MediaSegment], tmp_path: Path
) -> None:
    files = MediaFiles(tmp_path, "clip-${System.Runtime.DateTime}", 64 * 1024 * 1024)
    init, media = segments[0], [s for s in segments if isinstance(s, MediaSegment)]
    assert isinstance(init, InitSegment)
    await files.init_segment(init)
    for segment in media[:2]:
        await files.media_segment(segment)
    first = files.current
    await files.media_segment(replace(media[2], gap_before=True))  # the gate opened again
    assert first is not None and files.current is not None and files.current != first
    assert names(tmp_path) == sorted({first.name, files.current.name})
    data = first.read_bytes()
    assert data.startswith(init.data)
    tfdts = [
        int.from_bytes(data[box.payload_start + 4 : box.payload_start + 12], "big")
        for box in find_boxes(data, "moof/traf/tfdt")
    ]
    assert tfdts[0] == 0 and tfdts == sorted(tfdts) and tfdts[1] == media[0].decode_duration


async def test_the_oldest_files_are_evicted_past_the_maximum(
    segments: list[InitSegment | MediaSegment], tmp_path: Path
) -> None:
    init = segments[0]
    media = [s for s in segments if isinstance(s, MediaSegment)]
    assert isinstance(init, InitSegment)
    one_file = len(init.data) + len(media[0].data)
    files = MediaFiles(tmp_path, "clip-${System.Runtime.PreciseDateTime}", int(one_file * 2.5))
    await files.init_segment(init)
    for number in range(5):
        await files.media_segment(replace(media[0], gap_before=True, start_ms=START_MS + number * 1000))
    left = names(tmp_path)
    assert len(left) == 2 and files.evicted == 3
    assert left[-1].startswith("clip-20270115T080004"), "the newest file is kept"


async def test_a_recording_as_large_as_the_bound_goes_on_in_a_new_file(
    segments: list[InitSegment | MediaSegment], tmp_path: Path
) -> None:
    init = segments[0]
    media = [s for s in segments if isinstance(s, MediaSegment)]
    assert isinstance(init, InitSegment)
    files = MediaFiles(
        tmp_path, "long-${System.Runtime.PreciseDateTime}", len(init.data) + len(media[0].data)
    )
    await files.init_segment(init)
    for number, segment in enumerate(media):
        await files.media_segment(replace(segment, start_ms=START_MS + number * 1000))
    left = names(tmp_path)
    assert len(left) == 1 and left[0] != "long-20270115T080000.123Z.mp4", (
        "the full file went once the next began"
    )
    assert files.evicted >= 1
