"""The player in a real browser: ``ova demo`` records its simulated camera, Chromium plays it.

``ova demo`` runs as a child process on a free loopback port; once ``demo.json`` appears the
first segment is playable. The player page plays the live archive with hls.js and with
dash.js, and a page of the tests' own plays a recorded range with both libraries straight
from manifest URLs that the client API flow (customer JWT -> video -> content token) yields.
A screenshot of the player goes to ``/tmp/ova-player.png``.
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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

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


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data_dir = tmp_path_factory.mktemp("demo")
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OVA_")}
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
    leftovers = [pid for pid in children if running(pid)]
    assert leftovers == [], f"ova demo left processes running: {leftovers}"


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


DIRECT_PAGE = """<!doctype html>
<meta charset="utf-8">
<video id="hls" muted autoplay playsinline width="320"></video>
<video id="dash" muted autoplay playsinline width="320"></video>
<script src="/player/vendor/hls.min.js"></script>
<script src="/player/vendor/dash.all.min.js"></script>
<script>
  window.playbackErrors = [];
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_, data) => { if (data.fatal) playbackErrors.push("hls: " + data.details); });
  hls.loadSource(%(hls)s);
  hls.attachMedia(document.getElementById("hls"));
  const dash = dashjs.MediaPlayer().create();
  dash.on(dashjs.MediaPlayer.events.ERROR, (e) => playbackErrors.push("dash: " + JSON.stringify(e.error)));
  dash.initialize(document.getElementById("dash"), %(dash)s, true);
</script>
"""


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
    html = DIRECT_PAGE % {kind: json.dumps(url) for kind, url in manifests.items()}
    page.route(
        f"{demo.base_url}/e2e/direct.html", lambda route: route.fulfill(body=html, content_type="text/html")
    )
    play(page, f"{demo.base_url}/e2e/direct.html", "hls")
    page.wait_for_function(PLAYED, arg="dash", timeout=PLAYING_S * 1000)
    assert page.evaluate("window.playbackErrors") == []
    page.close()
