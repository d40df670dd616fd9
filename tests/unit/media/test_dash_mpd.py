"""DASH MPDs: well-formed XML, one Period per run, compressed SegmentTimelines, static vs dynamic."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ova.media.dash.mpd import render
from ova.media.timeline import Run, TimelineSegment, Track, runs

NS = {"d": "urn:mpeg:dash:schema:mpd:2011"}
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20.000Z
TRACKS = {
    "a": Track("init/a.mp4?token=t", "avc1.42C01E", 640, 360, 2_000_000),
    "b": Track("init/b.mp4?token=t", "avc1.640028", 1280, 720, 0),
}


def segment(
    start_ms: int, duration_ms: int = 6000, config: str = "a", uri: str | None = None
) -> TimelineSegment:
    return TimelineSegment(uri or f"segments/{start_ms}-1.m4s?token=t", start_ms, duration_ms, config)


def archive(*segments: TimelineSegment) -> list[Run]:
    return runs(list(segments), TRACKS)


def parse(text: str) -> ET.Element:
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode())  # noqa: S314 - our own output, parsed to check it


def timeline(period: ET.Element) -> list[dict[str, str]]:
    return [s.attrib for s in period.findall(".//d:SegmentTimeline/d:S", NS)]


def test_a_static_mpd_is_well_formed_with_its_duration_and_one_period() -> None:
    mpd = parse(
        render(archive(segment(T0), segment(T0 + 6000), segment(T0 + 12_000, 2500)), ended=True, now_ms=T0)
    )
    assert mpd.tag == "{urn:mpeg:dash:schema:mpd:2011}MPD"
    assert mpd.get("type") == "static" and mpd.get("mediaPresentationDuration") == "PT14.500S"
    assert mpd.get("availabilityStartTime") is None and mpd.get("minimumUpdatePeriod") is None
    (period,) = mpd.findall("d:Period", NS)
    assert period.get("start") == "PT0.000S"
    representation = period.find("d:AdaptationSet/d:Representation", NS)
    assert representation is not None
    assert representation.attrib == {
        "id": f"v{T0}",
        "codecs": "avc1.42C01E",
        "width": "640",
        "height": "360",
        "bandwidth": "2000000",
    }
    segment_list = representation.find("d:SegmentList", NS)
    assert segment_list is not None
    assert segment_list.get("timescale") == "1000" and segment_list.get("presentationTimeOffset") == str(T0)
    initialization = segment_list.find("d:Initialization", NS)
    assert initialization is not None and initialization.get("sourceURL") == "init/a.mp4?token=t"
    urls = [url.get("media") for url in segment_list.findall("d:SegmentURL", NS)]
    assert urls == [f"segments/{T0 + offset}-1.m4s?token=t" for offset in (0, 6000, 12_000)]


def test_each_segment_url_has_its_own_timeline_entry_never_a_repeat() -> None:
    # dash.js maps an S element's position to its SegmentURL: a repeat (r) would make every
    # repeated segment load the first URL, and a live player joining late would stall.
    segments = [segment(T0 + i * 6000) for i in range(4)] + [
        segment(T0 + 24_000, 3000),
        segment(T0 + 27_000, 3000),
    ]
    (period,) = parse(render(archive(*segments), ended=True, now_ms=T0)).findall("d:Period", NS)
    assert timeline(period) == [{"t": str(T0), "d": "6000"}] + [{"d": "6000"}] * 3 + [{"d": "3000"}] * 2
    assert len(period.findall(".//d:SegmentURL", NS)) == len(timeline(period))


def test_a_small_hole_within_a_run_restarts_the_timeline_entry() -> None:
    # 200 ms of jitter keeps one run (one Period) but the next S must carry its own t.
    mpd = parse(render(archive(segment(T0), segment(T0 + 6200), segment(T0 + 12_200)), ended=True, now_ms=T0))
    (period,) = mpd.findall("d:Period", NS)
    expected = [{"t": str(T0), "d": "6000"}, {"t": str(T0 + 6200), "d": "6000"}, {"d": "6000"}]
    assert timeline(period) == expected
    assert len(period.findall(".//d:SegmentURL", NS)) == 3


def test_each_run_is_a_period_starting_at_its_offset_with_its_own_track() -> None:
    segments = [segment(T0), segment(T0 + 6000), segment(T0 + 30_000), segment(T0 + 36_000, config="b")]
    mpd = parse(render(archive(*segments), ended=True, now_ms=T0))
    periods = mpd.findall("d:Period", NS)
    assert [p.get("start") for p in periods] == ["PT0.000S", "PT30.000S", "PT36.000S"]
    assert len({p.get("id") for p in periods}) == 3
    offsets = [p.find(".//d:SegmentList", NS) for p in periods]
    assert [o.get("presentationTimeOffset") for o in offsets if o is not None] == [
        str(T0),
        str(T0 + 30_000),
        str(T0 + 36_000),
    ]
    last = periods[2].find(".//d:Representation", NS)
    assert last is not None and (last.get("width"), last.get("height")) == ("1280", "720")
    assert last.get("bandwidth") == "1"  # never 0, which the schema forbids
    assert mpd.get("mediaPresentationDuration") == "PT42.000S"


def test_a_live_mpd_is_dynamic_and_anchored_on_the_wall_clock() -> None:
    mpd = parse(render(archive(segment(T0), segment(T0 + 6000)), ended=False, now_ms=T0 + 15_000))
    assert mpd.get("type") == "dynamic"
    assert mpd.get("availabilityStartTime") == "2023-11-14T22:13:20.000Z"
    assert mpd.get("publishTime") == "2023-11-14T22:13:35.000Z"
    assert mpd.get("minimumUpdatePeriod") == "PT2.000S"
    assert mpd.get("timeShiftBufferDepth") == "PT12.000S"
    assert mpd.get("mediaPresentationDuration") is None


def test_uris_with_any_characters_survive_as_attributes() -> None:
    hostile = "segments/1-1.m4s?token=a\"b<c>&d'e"
    mpd = parse(render(archive(segment(T0, uri=hostile)), ended=True, now_ms=T0))
    url = mpd.find(".//d:SegmentURL", NS)
    assert url is not None and url.get("media") == hostile


def test_a_live_period_keeps_its_id_and_start_while_the_window_slides_within_its_run() -> None:
    def numbered(start_ms: int) -> TimelineSegment:
        return TimelineSegment(f"s/{start_ms}.m4s", start_ms, 6000, "a", run_start_ms=T0)

    earlier = parse(render(archive(*map(numbered, (T0, T0 + 6000))), ended=False, now_ms=T0 + 12_000))
    later = parse(render(archive(*map(numbered, (T0 + 6000, T0 + 12_000))), ended=False, now_ms=T0 + 18_000))
    for mpd in (earlier, later):
        (period,) = mpd.findall("d:Period", NS)
        segment_list = period.find(".//d:SegmentList", NS)
        assert (period.get("id"), period.get("start")) == (f"p{T0}", "PT0.000S")
        assert segment_list is not None and segment_list.get("presentationTimeOffset") == str(T0)
        assert mpd.get("availabilityStartTime") == "2023-11-14T22:13:20.000Z"
    (period,) = later.findall("d:Period", NS)
    assert timeline(period)[0]["t"] == str(T0 + 6000)  # the run's first segment left the window
