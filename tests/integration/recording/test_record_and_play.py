"""Record a camera for a minute, then play it back as HLS and DASH with a content token.

One recording is shared by the module. ``ova camera`` (640x360, a wall clock burned into every
frame) is recorded for 60 s in 6 s segments, twice at once: by ``ova record`` into video
``lobby``, and by a cloud live pipeline (RtspSource -> VideoSink) inside ``ova cloud`` into
video ``parking``. About 22 s in, the camera is stopped for 10 s and started again, so each
archive has two runs with a gap between them. Players are ffprobe and ffmpeg, reading the
manifests over HTTP exactly as a player would.
"""

from __future__ import annotations

import io
import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from PIL import Image
from recording_arm import TOPOLOGY, account_body, account_path, pipeline_body, topology_body
from recording_media import decode, first_stamp, hls_segments, mpd_periods, mpd_type, probe_streams
from recording_processes import CameraProcess, CloudProcess

WIDTH, HEIGHT, FPS = 640, 360, 30
SEGMENT_S, RECORD_S = 6, 60
OUTAGE_AT_S, OUTAGE_S = 22, 10
LIVE_EDGE_S = 15
ACCOUNT = account_path()
PIPELINE = f"{ACCOUNT}/livePipelines/parking-camera"
FORMATS = [("m3u8-cmaf", ".m3u8"), ("m3u8-aapl", ".m3u8"), ("mpd-time-cmaf", ".mpd")]
MAX_CLOCK_OFFSET_MS = 1000


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Video:
    """A recorded video as a player holds it: its archive URL and a content token."""

    name: str
    base_url: str
    token: str

    def url(self, resource: str, *, token: bool = True) -> str:
        return f"{self.base_url}/{resource}" + (f"?token={self.token}" if token else "")

    def manifest(self, fmt: str = "m3u8-cmaf", start_ms: int | None = None, end_ms: int | None = None) -> str:
        suffix = ".mpd" if fmt.startswith("mpd") else ".m3u8"
        bounds = (f",starttime={iso(start_ms)}" if start_ms is not None else "") + (
            f",endtime={iso(end_ms)}" if end_ms is not None else ""
        )
        return self.url(f"manifest(format={fmt}{bounds}){suffix}")


@dataclass
class Recording:
    http: httpx.Client
    videos: dict[str, Video]
    empty: Video
    outage: tuple[int, int]
    """When the camera was stopped, and when it was streaming again (UTC ms)."""
    record_log: str
    record_exit: int | None
    live: dict[str, str]
    """The no-range manifests while recording: the pipeline video's, and the ``ova record`` one's."""
    finished: dict[str, str]
    """The ``ova record`` video's no-range manifests right after the command returned."""
    deactivated: tuple[int, int]
    """When deactivation was asked for and when it was answered (UTC ms)."""
    pipeline_state: str

    def ranges(self, name: str) -> list[tuple[int, int]]:
        """Where ``name`` has media (availableMedia, full precision), in UTC ms."""
        start = self.outage[0] - 10 * 60_000
        found = self.available(name, "full", iso(start), iso(start + 20 * 60_000))
        return [(epoch(item["start"]), epoch(item["end"])) for item in found]

    def available(
        self, name: str, precision: str, start: str | None, end: str | None
    ) -> list[dict[str, str]]:
        response = self.available_response(name, precision, start, end)
        assert response.status_code == 200, response.text
        ranges: list[dict[str, str]] = response.json()["timeRanges"]
        return ranges

    def available_response(
        self, name: str, precision: str | None, start: str | None, end: str | None
    ) -> httpx.Response:
        video = self.videos[name]
        query = {"precision": precision, "startTime": start, "endTime": end, "token": video.token}
        params = {key: value for key, value in query.items() if value is not None}
        return self.http.get(video.url("availableMedia", token=False), params=params)

    def text(self, url: str) -> str:
        response = self.http.get(url)
        assert response.status_code == 200, (url, response.status_code, response.text)
        return response.text


def epoch(iso_text: str) -> int:
    return round(datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp() * 1000)


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, (response.request.url, response.status_code, response.text)
    return response.json() if response.content else None


def open_video(arm: httpx.Client, name: str) -> Video:
    video = ok(arm.get(f"{ACCOUNT}/videos/{name}"))
    token = ok(arm.post(f"{ACCOUNT}/videos/{name}/listContentToken"))["token"]
    return Video(name, video["properties"]["contentUrls"]["archiveBaseUrl"], token)


def wait_for_media(arm: httpx.Client, http: httpx.Client, name: str, limit_s: float = 30) -> Video:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if arm.get(f"{ACCOUNT}/videos/{name}").status_code == 200:
            video = open_video(arm, name)
            if http.get(video.manifest()).status_code == 200:
                return video
        time.sleep(0.5)
    raise AssertionError(f"video {name} has no playable media after {limit_s:g} s")


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recording]:
    root = tmp_path_factory.mktemp("record-and-play")
    settings = {"recording": {"segment_seconds": SEGMENT_S}, "streaming": {"live_edge_seconds": LIVE_EDGE_S}}
    with (
        CameraProcess(root) as camera,
        CloudProcess(root, settings) as cloud,
        httpx.Client(timeout=30) as http,
    ):
        camera.start(WIDTH, HEIGHT)
        cloud.start()
        with cloud.operator() as arm:
            ok(arm.put(ACCOUNT, json=account_body()))
            ok(arm.put(f"{ACCOUNT}/pipelineTopologies/{TOPOLOGY}", json=topology_body()))
            ok(arm.put(PIPELINE, json=pipeline_body(camera.url, "parking")))
            ok(arm.put(f"{ACCOUNT}/videos/empty", json={"properties": {"title": "Nothing recorded"}}))
            with cloud.record(camera.url, ACCOUNT, "lobby", RECORD_S, SEGMENT_S) as recorder:
                started = time.monotonic()
                ok(arm.post(f"{PIPELINE}/activate"))
                parking = wait_for_media(arm, http, "parking")
                live = {"hls": http.get(parking.manifest()).text}
                live["dash"] = http.get(parking.manifest("mpd-time-cmaf")).text
                live["lobby"] = http.get(wait_for_media(arm, http, "lobby").manifest()).text
                time.sleep(max(0.0, started + OUTAGE_AT_S - time.monotonic()))
                stopped = now_ms()
                camera.stop()
                time.sleep(OUTAGE_S)
                camera.start(WIDTH, HEIGHT)
                outage = (stopped, now_ms())
                assert recorder.process is not None
                exit_code = recorder.process.wait(timeout=RECORD_S + 60)
                lobby = open_video(arm, "lobby")
                finished = {"hls": http.get(lobby.manifest()).text}
                finished["dash"] = http.get(lobby.manifest("mpd-time-cmaf")).text
                asked = now_ms()
                ok(arm.post(f"{PIPELINE}/deactivate"))
                deactivated = (asked, now_ms())
            state = ok(arm.get(PIPELINE))["properties"]["state"]
            videos = {name: open_video(arm, name) for name in ("lobby", "parking")}
            yield Recording(
                http=http,
                videos=videos,
                empty=open_video(arm, "empty"),
                outage=outage,
                record_log=recorder.log(),
                record_exit=exit_code,
                live=live,
                finished=finished,
                deactivated=deactivated,
                pipeline_state=state,
            )


def test_ova_record_records_the_minute_across_the_camera_outage(recording: Recording) -> None:
    assert recording.record_exit == 0, recording.record_log
    recorded = re.search(r"recorded (\d+) segments", recording.record_log)
    assert recorded is not None and int(recorded.group(1)) >= 6, recording.record_log
    assert "last camera error" not in recording.record_log
    assert recording.record_log.count("camera connected") == 2
    assert "camera disconnected" in recording.record_log
    for name in ("lobby", "parking"):
        (first, second) = recording.ranges(name)
        stopped, restarted = recording.outage
        assert first[1] <= stopped + 1000, "media after the camera stopped"
        assert second[0] >= restarted - 2000, "media while the camera was down"
        assert first[1] - first[0] >= (OUTAGE_AT_S - 8) * 1000
        assert second[1] - second[0] >= 10_000


@pytest.mark.parametrize("name", ["lobby", "parking"])
@pytest.mark.parametrize(("fmt", "suffix"), FORMATS)
def test_each_manifest_format_is_read_by_ffprobe_and_decoded_by_ffmpeg(
    recording: Recording, name: str, fmt: str, suffix: str
) -> None:
    video = recording.videos[name]
    first, _ = recording.ranges(name)
    url = video.manifest(fmt, *first)
    assert url.split("?")[0].endswith(suffix)
    (stream,) = probe_streams(url)
    assert (stream["codec_name"], stream["width"], stream["height"]) == ("h264", WIDTH, HEIGHT)
    decoded = decode(url)
    assert decoded.errors == ""
    expected = (first[1] - first[0]) * FPS / 1000
    assert abs(decoded.frames - expected) <= FPS / 2, (decoded.frames, expected)


@pytest.mark.parametrize("name", ["lobby", "parking"])
def test_the_burned_in_clock_matches_program_date_time(
    recording: Recording, name: str, record_property: Any
) -> None:
    video = recording.videos[name]
    for run, (start, end) in enumerate(recording.ranges(name)):
        middle = (start + end) // 2
        url = video.manifest("m3u8-cmaf", middle - 2000, middle + 2000)
        first = hls_segments(recording.text(url))[0]
        offset = first_stamp(url, WIDTH, HEIGHT) - first.program_date_time
        record_property(f"clock_offset_ms_{name}_run{run}", offset)
        print(f"{name} run {run}: burned-in clock - EXT-X-PROGRAM-DATE-TIME = {offset} ms")
        assert abs(offset) <= MAX_CLOCK_OFFSET_MS


def test_every_segment_carries_its_program_date_time_and_segments_tile(recording: Recording) -> None:
    video = recording.videos["lobby"]
    text = recording.text(video.manifest())
    segments = hls_segments(text)
    assert text.count("#EXT-X-PROGRAM-DATE-TIME:") == len(segments) >= 6
    assert [segment.discontinuity for segment in segments].count(True) == 1
    for segment in segments:
        assert segment.uri.startswith(f"segments/{segment.program_date_time}-")
        assert segment.uri.endswith(f".m4s?token={video.token}")
        assert segment.map_uri.startswith("init/") and segment.map_uri.endswith(f".mp4?token={video.token}")
        assert segment.duration_ms <= SEGMENT_S * 1000 + 1000
    for previous, segment in itertools.pairwise(segments):
        if not segment.discontinuity:
            assert abs(segment.program_date_time - (previous.program_date_time + previous.duration_ms)) <= 1


@pytest.mark.parametrize("name", ["lobby", "parking"])
def test_a_range_straddling_the_outage_has_a_discontinuity_a_new_period_and_decodes(
    recording: Recording, name: str
) -> None:
    video = recording.videos[name]
    first, second = recording.ranges(name)
    start, end = first[1] - 8000, second[0] + 8000
    playlist = recording.text(video.manifest("m3u8-cmaf", start, end))
    segments = hls_segments(playlist)
    assert playlist.count("#EXT-X-DISCONTINUITY\n") == 1 and playlist.count("#EXT-X-MAP:") == 2
    after = next(segment for segment in segments if segment.discontinuity)
    assert after.program_date_time == second[0]
    decoded = decode(video.manifest("m3u8-cmaf", start, end))
    assert decoded.errors == "" and decoded.frames >= 12 * FPS

    mpd = recording.text(video.manifest("mpd-time-cmaf", start, end))
    assert mpd_type(mpd) == "static"
    periods = mpd_periods(mpd)
    assert len(periods) == 2
    timelines = [period.find(".//{urn:mpeg:dash:schema:mpd:2011}S") for period in periods]
    assert [int(s.get("t", "0")) for s in timelines if s is not None][1] == second[0]


def test_available_media_at_every_precision(recording: Recording) -> None:
    (first, second) = recording.ranges("lobby")
    day = iso(first[0])[:10]
    assert recording.available("lobby", "year", None, None) == [{"start": day[:4], "end": day[:4]}]
    assert recording.available("lobby", "month", day[:7], day[:7]) == [{"start": day[:7], "end": day[:7]}]
    assert recording.available("lobby", "day", day, day) == [{"start": day, "end": day}]
    full = recording.available("lobby", "full", iso(first[0] - 60_000), iso(second[1] + 60_000))
    assert full == [
        {"start": iso(first[0]), "end": iso(first[1])},
        {"start": iso(second[0]), "end": iso(second[1])},
    ]
    assert all(value.endswith("Z") and len(value) == 24 for item in full for value in item.values())
    inside = recording.available("lobby", "full", iso(first[0] + 1000), iso(first[0] + 2000))
    assert inside == [{"start": iso(first[0] + 1000), "end": iso(first[0] + 2000)}]
    assert recording.available("lobby", "full", iso(first[1] + 500), iso(second[0] - 500)) == []


@pytest.mark.parametrize(
    ("precision", "start", "end"),
    [
        (None, None, None),
        ("hour", None, None),
        ("day", None, None),
        ("full", "2021-01-01T00:00:00Z", None),
        ("month", "2021-01", "2022-02"),
        ("day", "2021-01-01", "2021-02-02"),
        ("full", "2021-01-01T00:00:00Z", "2021-01-02T01:00:01Z"),
        ("day", "2021-02-30", "2021-03-01"),
        ("year", "2022", "2021"),
    ],
)
def test_available_media_refuses_malformed_queries(
    recording: Recording, precision: str | None, start: str | None, end: str | None
) -> None:
    response = recording.available_response("lobby", precision, start, end)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "InvalidRequest"


def test_time_ranges_outside_the_rules_are_refused_and_empty_ones_are_not_found(recording: Recording) -> None:
    video = recording.videos["lobby"]
    (first, second) = recording.ranges("lobby")
    day = 24 * 3600 * 1000
    refused = {
        "end only": video.manifest(end_ms=first[1]),
        "over 24 h": video.manifest(start_ms=first[0] - day, end_ms=first[0] + 1),
        "end before start": video.manifest(start_ms=first[1], end_ms=first[0]),
        "end equals start": video.manifest("mpd-time-cmaf", first[0] + 1000, first[0] + 1000),
        "start only, over 24 h": video.manifest(start_ms=first[0] - 2 * day),
        "bad format": video.url("manifest(format=m3u8-ts).m3u8"),
        "suffix mismatch": video.url("manifest(format=mpd-time-cmaf).m3u8"),
    }
    for case, url in refused.items():
        response = recording.http.get(url)
        assert response.status_code == 400, (case, response.text)
    not_found = {
        "inside the gap": video.manifest(start_ms=first[1] + 1000, end_ms=second[0] - 1000),
        "before any media": video.manifest(start_ms=first[0] - 3_600_000, end_ms=first[0] - 60_000),
        "start after the newest media": video.manifest(start_ms=second[1] + 60_000),
        "a video without media": recording.empty.manifest(),
    }
    for case, url in not_found.items():
        response = recording.http.get(url)
        assert response.status_code == 404, (case, response.text)
        assert response.json()["error"]["code"] == "NoMedia"


def test_the_token_is_required_and_carried_into_every_child_uri(recording: Recording) -> None:
    video = recording.videos["parking"]
    first, _ = recording.ranges("parking")
    assert recording.http.get(video.manifest().split("?")[0]).status_code == 401
    other = recording.videos["lobby"]
    assert (
        recording.http.get(
            other.url("manifest(format=m3u8-cmaf).m3u8", token=False), params={"token": video.token}
        ).status_code
        == 403
    )
    segments = hls_segments(recording.text(video.manifest("m3u8-cmaf", *first)))
    child = f"{video.base_url}/{segments[1].uri}"
    assert recording.http.get(child).status_code == 200
    assert recording.http.get(child.split("?")[0]).status_code == 401
    mpd = recording.text(video.manifest("mpd-time-cmaf", *first))
    assert mpd.count(f"?token={video.token}") == len(segments) + 1  # every SegmentURL and the init


def test_preview_images_come_in_three_sizes(recording: Recording) -> None:
    for name in ("lobby", "parking"):
        video = recording.videos[name]
        for size, expected in {"small": (320, 180), "medium": (640, 360), "large": (640, 360)}.items():
            response = recording.http.get(video.url(f"preview/{size}.jpg"))
            assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
            with Image.open(io.BytesIO(response.content)) as image:
                assert (image.format, image.size) == ("JPEG", expected)


def test_the_live_pipeline_played_live_and_flushed_its_last_segment_on_deactivation(
    recording: Recording,
) -> None:
    live_hls = recording.live["hls"]
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in live_hls and "#EXT-X-ENDLIST" not in live_hls
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in recording.live["lobby"]  # `ova record` holds a lease too
    assert hls_segments(live_hls)
    assert mpd_type(recording.live["dash"]) == "dynamic"
    assert recording.pipeline_state == "Inactive"
    asked, answered = recording.deactivated
    _, last = recording.ranges("parking")
    # Without the flush the newest media would be up to a whole segment (6 s) older.
    assert asked - 3500 <= last[1] <= answered + 500, (asked, last[1], answered)


def test_once_recording_stops_the_archive_plays_as_video_on_demand(recording: Recording) -> None:
    # The moment `ova record` returned (its newest media seconds old), and after deactivation.
    finished = recording.finished["hls"]
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in finished and finished.endswith("#EXT-X-ENDLIST\n"), finished
    assert mpd_type(recording.finished["dash"]) == "static"
    video = recording.videos["parking"]
    playlist = recording.text(video.manifest())
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist and playlist.endswith("#EXT-X-ENDLIST\n")
    assert mpd_type(recording.text(video.manifest("mpd-time-cmaf"))) == "static"
    started = time.monotonic()
    (stream,) = probe_streams(recording.videos["lobby"].manifest())  # an open-ended URL: no waiting
    assert stream["codec_name"] == "h264" and time.monotonic() - started < 20
    decoded = decode(video.manifest())
    first, second = recording.ranges("parking")
    expected = (first[1] - first[0] + second[1] - second[0]) * FPS / 1000
    assert decoded.errors == "" and abs(decoded.frames - expected) <= FPS
