"""timeline.runs: the archive split into continuous runs at gaps and configuration changes."""

from __future__ import annotations

import pytest

from ova.media.timeline import GAP_TOLERANCE_MS, Run, TimelineSegment, Track, runs

T0 = 1_700_000_000_000
TRACKS = {
    "a": Track("init/a.mp4", "avc1.42C01E", 640, 360, 2_000_000),
    "b": Track("init/b.mp4", "avc1.640028", 1280, 720, 4_000_000),
}


def segment(start_ms: int, duration_ms: int = 6000, config: str = "a", gap: bool = False) -> TimelineSegment:
    return TimelineSegment(f"segments/{start_ms}.m4s", start_ms, duration_ms, config, gap)


def tiled(
    count: int, start_ms: int = T0, duration_ms: int = 6000, config: str = "a"
) -> list[TimelineSegment]:
    return [segment(start_ms + i * duration_ms, duration_ms, config) for i in range(count)]


def shape(result: list[Run]) -> list[tuple[str, int, int, int]]:
    return [(run.config_hash, len(run.segments), run.start_ms, run.end_ms) for run in result]


def test_no_segments_make_no_runs() -> None:
    assert runs([], TRACKS) == []


def test_segments_that_tile_exactly_are_one_run_with_their_track() -> None:
    result = runs(tiled(5), TRACKS)
    assert shape(result) == [("a", 5, T0, T0 + 30_000)]
    assert result[0].track == TRACKS["a"]
    assert result[0].segments[-1].end_ms == T0 + 30_000


def test_a_recorded_gap_starts_a_new_run_even_without_a_hole() -> None:
    segments = [*tiled(2), segment(T0 + 12_000, gap=True), segment(T0 + 18_000)]
    assert shape(runs(segments, TRACKS)) == [("a", 2, T0, T0 + 12_000), ("a", 2, T0 + 12_000, T0 + 24_000)]


def test_a_configuration_change_starts_a_new_run_with_the_new_track() -> None:
    segments = [*tiled(2), *tiled(2, T0 + 12_000, config="b")]
    result = runs(segments, TRACKS)
    assert shape(result) == [("a", 2, T0, T0 + 12_000), ("b", 2, T0 + 12_000, T0 + 24_000)]
    assert [run.track.init_uri for run in result] == ["init/a.mp4", "init/b.mp4"]


@pytest.mark.parametrize("offset", [-GAP_TOLERANCE_MS, -1, 1, GAP_TOLERANCE_MS])
def test_jitter_within_the_tolerance_keeps_one_run(offset: int) -> None:
    segments = [segment(T0), segment(T0 + 6000 + offset)]
    assert len(runs(segments, TRACKS)) == 1


@pytest.mark.parametrize("offset", [-GAP_TOLERANCE_MS - 1, GAP_TOLERANCE_MS + 1, 10_000])
def test_a_hole_or_an_overlap_beyond_the_tolerance_splits_the_run(offset: int) -> None:
    segments = [segment(T0), segment(T0 + 6000 + offset)]
    assert [len(run.segments) for run in runs(segments, TRACKS)] == [1, 1]


def test_an_outage_then_a_resolution_change_give_three_runs_in_order() -> None:
    segments = [*tiled(3), *tiled(2, T0 + 40_000), *tiled(2, T0 + 52_000, config="b")]
    assert shape(runs(segments, TRACKS)) == [
        ("a", 3, T0, T0 + 18_000),
        ("a", 2, T0 + 40_000, T0 + 52_000),
        ("b", 2, T0 + 52_000, T0 + 64_000),
    ]
