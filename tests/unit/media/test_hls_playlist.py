"""HLS media playlists: tags, wall-clock dates, discontinuities, VOD vs live, and safe URIs."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request

from ova.cloud.api.streaming.archive import token_suffix
from ova.media.hls.playlist import program_date_time, render
from ova.media.timeline import Run, TimelineSegment, Track, runs

T0 = 1_700_000_000_000  # 2023-11-14T22:13:20.000Z
TRACKS = {
    "a": Track("init/a.mp4?token=abc", "avc1.42C01E", 640, 360),
    "b": Track("init/b.mp4?token=abc", "avc1.42C01F", 1280, 720),
}


def segment(
    start_ms: int, duration_ms: int = 6000, config: str = "a", suffix: str = "?token=abc"
) -> TimelineSegment:
    return TimelineSegment(f"segments/{start_ms}-1.m4s{suffix}", start_ms, duration_ms, config)


def archive(*segments: TimelineSegment) -> list[Run]:
    return runs(list(segments), TRACKS)


def lines(text: str) -> list[str]:
    assert text.endswith("\n") and "\r" not in text
    return text.splitlines()


def test_a_vod_playlist_has_the_header_every_segment_and_the_end_list() -> None:
    text = render(archive(segment(T0), segment(T0 + 6000), segment(T0 + 12_000, 2500)), ended=True)
    assert lines(text) == [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        "#EXT-X-TARGETDURATION:6",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-DISCONTINUITY-SEQUENCE:0",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        '#EXT-X-MAP:URI="init/a.mp4?token=abc"',
        "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z",
        "#EXTINF:6.000,",
        f"segments/{T0}-1.m4s?token=abc",
        "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:26.000Z",
        "#EXTINF:6.000,",
        f"segments/{T0 + 6000}-1.m4s?token=abc",
        "#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:32.000Z",
        "#EXTINF:2.500,",
        f"segments/{T0 + 12_000}-1.m4s?token=abc",
        "#EXT-X-ENDLIST",
    ]


def test_a_live_playlist_is_an_event_without_an_end_list() -> None:
    text = render(archive(segment(T0)), ended=False)
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in lines(text)
    assert "#EXT-X-ENDLIST" not in text and "#EXT-X-PLAYLIST-TYPE:VOD" not in text


def test_the_target_duration_is_the_longest_segment_rounded_up() -> None:
    text = render(archive(segment(T0, 6001), segment(T0 + 6001, 4000)), ended=True)
    assert "#EXT-X-TARGETDURATION:7" in lines(text)


def test_the_sequence_numbers_are_the_first_segments_own() -> None:
    numbered = [
        TimelineSegment("s/1.m4s", T0, 6000, "a", ordinal=42, discontinuity=3),
        TimelineSegment("s/2.m4s", T0 + 20_000, 6000, "a", gap_before=True, ordinal=43, discontinuity=4),
    ]
    text = lines(render(archive(*numbered), ended=False))
    assert "#EXT-X-MEDIA-SEQUENCE:42" in text and "#EXT-X-DISCONTINUITY-SEQUENCE:3" in text
    assert text.count("#EXT-X-DISCONTINUITY") == 1


def test_every_segment_carries_its_wall_clock_start_to_the_millisecond() -> None:
    starts = [T0 + 1, T0 + 6001, T0 + 40_123]
    text = render(archive(*(segment(start) for start in starts)), ended=True)
    dates = [line.split(":", 1)[1] for line in lines(text) if line.startswith("#EXT-X-PROGRAM-DATE-TIME:")]
    parsed = [int(datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp() * 1000) for date in dates]
    assert parsed == starts
    for index, line in enumerate(lines(text)):
        if line.startswith("#EXTINF:"):
            assert lines(text)[index - 1].startswith("#EXT-X-PROGRAM-DATE-TIME:")
    assert program_date_time(0) == "1970-01-01T00:00:00.000Z"
    assert datetime.fromisoformat(program_date_time(T0).replace("Z", "+00:00")).tzinfo == UTC


def test_each_run_after_the_first_starts_with_a_discontinuity_and_its_own_map() -> None:
    text = render(
        archive(segment(T0), segment(T0 + 6000), segment(T0 + 30_000), segment(T0 + 36_000, config="b")),
        ended=True,
    )
    body = lines(text)
    assert body.count("#EXT-X-DISCONTINUITY") == 2
    maps = [line for line in body if line.startswith("#EXT-X-MAP:")]
    assert maps == [
        '#EXT-X-MAP:URI="init/a.mp4?token=abc"',
        '#EXT-X-MAP:URI="init/a.mp4?token=abc"',
        '#EXT-X-MAP:URI="init/b.mp4?token=abc"',
    ]
    for index, line in enumerate(body):
        if line == "#EXT-X-DISCONTINUITY":
            assert body[index + 1].startswith("#EXT-X-MAP:")
    assert body.index("#EXT-X-DISCONTINUITY") > body.index(f"segments/{T0 + 6000}-1.m4s?token=abc")


def request_with(query: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "query_string": query, "headers": []})


def test_the_token_suffix_percent_encodes_what_could_break_out_of_a_playlist() -> None:
    hostile = b"token=abc%0D%0A%23EXT-X-ENDLIST%0D%0Ahttp%3A%2F%2Fevil%2Fx.m4s%22%2C%20%27%3C%3E%26"
    suffix = token_suffix(request_with(hostile))
    assert suffix.startswith("?token=abc")
    assert not set(suffix) & set("\r\n\"'<>&#, ")
    assert "%0D%0A%23EXT-X-ENDLIST" in suffix and "%22" in suffix
    assert token_suffix(request_with(b"")) == ""

    track = Track(f"init/a.mp4{suffix}", "avc1.42C01E", 640, 360)
    text = render(runs([segment(T0, suffix=suffix)], {"a": track}), ended=True)
    body = lines(text)
    assert len(body) == 12  # no line was injected
    assert body.count("#EXT-X-ENDLIST") == 1 and body[-1] == "#EXT-X-ENDLIST"
    assert body[7] == f'#EXT-X-MAP:URI="init/a.mp4{suffix}"' and body[7].count('"') == 2
    assert body[10] == f"segments/{T0}-1.m4s{suffix}"


def test_a_plain_token_stays_intact_in_every_uri() -> None:
    token = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ2In0.c2lnbmF0dXJl-_"
    suffix = token_suffix(request_with(f"token={token}".encode()))
    assert suffix == f"?token={token}"
    track = Track(f"init/a.mp4{suffix}", "avc1.42C01E", 640, 360)
    text = render(
        runs([segment(T0, suffix=suffix), segment(T0 + 6000, suffix=suffix)], {"a": track}), ended=True
    )
    uris = [line for line in lines(text) if not line.startswith("#")]
    assert all(uri.endswith(f"?token={token}") for uri in uris) and len(uris) == 2
