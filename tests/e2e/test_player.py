"""The player in a real browser: ``ova demo`` records its simulated camera, Chromium plays it.

``ova demo`` runs as a child process on a free loopback port; once ``demo.json`` appears the
first segment is playable. The player page plays the live archive with hls.js and with
dash.js, and a page of the tests' own plays a recorded range with both libraries straight
from manifest URLs that the client API flow (customer JWT -> video -> content token) yields.
A screenshot of the player goes to ``/tmp/ova-player.png``. A second demo with 15-second content
tokens shows the player renewing its token and putting the newest one on every request (and
stopping with a message when renewals keep failing); its screenshots go to
``/tmp/ova-player-refreshed.png`` and ``/tmp/ova-player-expired.png``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Page, Request, Response, Route

from support.player_page import two_player_page

pytestmark = pytest.mark.e2e

API_VERSION = "2021-11-01-preview"
SCREENSHOT = Path("/tmp/ova-player.png")
PLAYING_S = 45
# currentTime > 2, and it has really moved on by 1.5 s since the first decoded picture (a live
# stream may start at any currentTime).
PLAYED = """(id) => {
  const video = document.getElementById(id);
  if (video.readyState < 2 || video.paused) return false;
  video.dataset.firstTime ??= String(video.currentTime);
  return video.currentTime > 2 && video.currentTime - Number(video.dataset.firstTime) > 1.5;
}"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass(frozen=True)
class Demo:
    info: dict[str, Any]
    base_url: str


@contextmanager
def running_demo(data_dir: Path, settings: dict[str, str] | None = None) -> Iterator[Demo]:
    """``ova demo`` on a free port with the caller's ``OVA_*`` settings only, until the block ends."""
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OVA_")}
    environment.update(settings or {})
    command = [sys.executable, "-m", "ova.cli", "demo", "--data-dir", str(data_dir), "--port", str(port)]
    with (data_dir / "demo.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while not (data_dir / "demo.json").exists():
            assert process.poll() is None, (data_dir / "demo.log").read_text()
            assert time.monotonic() < deadline, "no demo.json within 90 s"
            time.sleep(0.25)
        children = children_of(process.pid)
        yield Demo(json.loads((data_dir / "demo.json").read_text()), f"http://127.0.0.1:{port}")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    settle = time.monotonic() + 5  # helpers such as multiprocessing's resource tracker exit just after
    while (leftovers := [pid for pid in children if running(pid)]) and time.monotonic() < settle:
        time.sleep(0.1)
    assert leftovers == [], f"ova demo left processes running: {leftovers}"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("demo")) as started:
        yield started


def play(page: Page, url: str, video_id: str = "video") -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_function(PLAYED, arg=video_id, timeout=PLAYING_S * 1000)
    assert errors == []


def assert_no_playback_error(page: Page) -> None:
    status = page.locator("#status")
    assert "error" not in (status.get_attribute("class") or "")
    assert "error" not in status.inner_text().lower(), status.inner_text()


LIFETIME_S = 15  # content tokens of the short-token demo; the player renews each after ~11 s
REFRESHED_SCREENSHOT = Path("/tmp/ova-player-refreshed.png")
EXPIRED_SCREENSHOT = Path("/tmp/ova-player-expired.png")


@dataclass
class Traffic:
    """What one player page asked for: content tokens issued, tokened requests, refusals."""

    issued: list[Response] = field(default_factory=list)
    streamed: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("response", self._response)
        page.on("request", self._request)

    def _request(self, request: Request) -> None:
        url = urlsplit(request.url)
        if "token" in parse_qs(url.query) and not url.path.startswith("/player/"):
            self.streamed.append(request.url)

    def _response(self, response: Response) -> None:
        if urlsplit(response.url).path.endswith("/listContentToken"):
            self.issued.append(response)
        if response.status >= 400:
            self.refused.append(f"{response.status} {urlsplit(response.url).path}")

    def tokens(self) -> list[str]:
        return [str(response.json()["Token"]) for response in self.issued]


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


def open_players(browser: Browser, player_url: str) -> dict[str, tuple[Page, Traffic]]:
    """The player page with hls.js and with dash.js, side by side: until hls.js plays and
    dash.js has asked for a media segment (see the note on live DASH below)."""
    pages: dict[str, tuple[Page, Traffic]] = {}
    for kind, query in (("hls", ""), ("dash", "&format=dash")):
        page, traffic = browser.new_page(viewport={"width": 1280, "height": 860}), Traffic()
        traffic.watch(page)
        page.goto(player_url + query)
        pages[kind] = (page, traffic)
    pages["hls"][0].wait_for_function(PLAYED, arg="video", timeout=PLAYING_S * 1000)
    pages["dash"][0].wait_for_event("request", lambda request: ".m4s" in request.url)
    return pages


def open_player_that_cannot_renew(browser: Browser, player_url: str) -> tuple[Page, list[str]]:
    """The hls.js player page whose listContentToken calls fail after the first one."""
    page, attempts = browser.new_page(viewport={"width": 1280, "height": 860}), []

    def answer(route: Route) -> None:
        attempts.append(route.request.method)
        if len(attempts) == 1:
            route.continue_()
        else:
            route.fulfill(status=503, json={"error": {"code": "Unavailable", "message": "Try later."}})

    page.route("**/listContentToken*", answer)
    page.goto(player_url)
    return page, attempts


def assert_stopped_after_retries(page: Page, attempts: list[str]) -> None:
    """Renewals were retried with back-off until the token expired, then playback stopped."""
    status = page.locator("#status")
    assert "Playback stopped: the content token expired" in status.inner_text()
    assert "Try later." in status.inner_text()
    assert "error" in (status.get_attribute("class") or "")
    assert 3 <= len(attempts) <= 7, attempts  # 1 s, 2 s, 4 s … apart within the last ~4 s


def wait_for_renewals(pages: dict[str, tuple[Page, Traffic]], renewals: int) -> None:
    started, pause = time.monotonic(), next(iter(pages.values()))[0]
    while any(len(traffic.issued) < 1 + renewals for _, traffic in pages.values()):
        assert time.monotonic() - started < (renewals + 1) * LIFETIME_S, {
            kind: len(traffic.issued) for kind, (_, traffic) in pages.items()
        }
        pause.wait_for_timeout(500)


def current_time(page: Page) -> float:
    return float(page.evaluate("document.getElementById('video').currentTime"))


def test_the_player_renews_its_content_token_and_keeps_playing(
    browser: Browser, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = {"OVA_CONTENT_TOKEN__LIFETIME_SECONDS": str(LIFETIME_S)}
    with running_demo(tmp_path_factory.mktemp("short-tokens"), settings) as short:
        failing, attempts = open_player_that_cannot_renew(browser, short.info["playerUrl"])
        pages = open_players(browser, short.info["playerUrl"])
        first = {kind: current_time(page) for kind, (page, _) in pages.items()}
        wait_for_renewals(pages, 3)  # past two lifetimes
        marks = {kind: len(traffic.streamed) for kind, (_, traffic) in pages.items()}
        pages["hls"][0].wait_for_timeout(7000)  # a segment or two, well before the next renewal
        for kind, (page, traffic) in pages.items():
            assert_no_playback_error(page)
            assert traffic.refused == [], (kind, traffic.refused)
            recent = traffic.streamed[marks[kind] :]
            assert any(".m4s" in url for url in recent), (kind, recent)
            assert {token_of(url) for url in recent} == {traffic.tokens()[-1]}, kind
            assert {token_of(url) for url in traffic.streamed} == set(traffic.tokens()), kind
        for kind, (page, _) in pages.items():
            assert current_time(page) - first[kind] > 2 * LIFETIME_S - 5, kind
            page.wait_for_function(PLAYED.replace("firstTime", "laterTime"), arg="video")
        pages["hls"][0].screenshot(path=str(REFRESHED_SCREENSHOT))
        assert_stopped_after_retries(failing, attempts)
        failing.screenshot(path=str(EXPIRED_SCREENSHOT))
        failing.close()
        for page, _ in pages.values():
            page.close()


def test_the_player_plays_the_live_archive_with_hls_js(browser: Browser, demo: Demo) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    play(page, demo.info["playerUrl"])
    assert_no_playback_error(page)
    assert "(HLS)" in page.locator("#status").inner_text()
    assert page.evaluate("document.getElementById('video').videoWidth") == 1280
    page.wait_for_function("document.getElementById('clock').textContent.endsWith('UTC')", timeout=10_000)
    page.screenshot(path=str(SCREENSHOT))
    page.close()
    assert SCREENSHOT.stat().st_size > 10_000


def test_the_player_plays_the_live_archive_with_dash_js(browser: Browser, demo: Demo) -> None:
    page = browser.new_page()
    play(page, demo.info["playerUrl"] + "&format=dash")
    assert_no_playback_error(page)
    assert "(DASH)" in page.locator("#status").inner_text()
    page.close()


def iso(epoch_ms: int) -> str:
    return (
        datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def recorded_range_manifests(demo: Demo) -> dict[str, str]:
    """The client API flow, then VOD manifest URLs of what has been recorded so far."""
    customer = {"Authorization": f"Bearer {demo.info['customerToken']}"}
    api, name = demo.info["clientApiUrl"], demo.info["video"]
    with httpx.Client(headers=customer, params={"api-version": API_VERSION}, timeout=30) as client:
        video = client.get(f"{api}/videos/{name}").raise_for_status().json()
        issued = client.post(f"{api}/videos/{name}/listContentToken").raise_for_status().json()
    archive, token = video["properties"]["contentUrls"]["archiveBaseUrl"], issued["Token"]
    assert video["properties"]["flags"]["canStream"] and video["properties"]["flags"]["hasData"]
    deadline = time.monotonic() + PLAYING_S
    while True:  # wait until more than one segment is recorded (the demo may have just started)
        now = int(time.time() * 1000)
        query = {"precision": "full", "startTime": iso(now - 3_600_000), "endTime": iso(now), "token": token}
        ranges = httpx.get(f"{archive}/availableMedia", params=query, timeout=30).raise_for_status().json()
        last = ranges["timeRanges"][-1]
        recorded = datetime.fromisoformat(last["end"]) - datetime.fromisoformat(last["start"])
        if recorded > timedelta(seconds=4) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert recorded > timedelta(seconds=4)
    bounds = f"starttime={last['start']},endtime={last['end']}"
    return {
        "hls": f"{archive}/manifest(format=m3u8-cmaf,{bounds}).m3u8?token={token}",
        "dash": f"{archive}/manifest(format=mpd-time-cmaf,{bounds}).mpd?token={token}",
    }


def test_hls_js_and_dash_js_play_a_recorded_range_from_its_manifest_urls(
    browser: Browser, demo: Demo
) -> None:
    manifests = recorded_range_manifests(demo)
    for kind, url in manifests.items():
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200, (kind, response.text)
        assert "#EXT-X-ENDLIST" in response.text or 'type="static"' in response.text
    page = browser.new_page()
    html = two_player_page(manifests["hls"], manifests["dash"], "/player/vendor/")
    page.route(
        f"{demo.base_url}/e2e/direct.html", lambda route: route.fulfill(body=html, content_type="text/html")
    )
    play(page, f"{demo.base_url}/e2e/direct.html", "hls")
    page.wait_for_function(PLAYED, arg="dash", timeout=PLAYING_S * 1000)
    assert page.evaluate("window.playbackErrors") == []
    page.close()
