"""Stopping ``ova cloud`` (SIGTERM, as a service manager does) flushes active recordings first."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
from recording_arm import TOPOLOGY, account_body, account_path, pipeline_body, topology_body
from recording_processes import CameraProcess, CloudProcess

ACCOUNT = account_path()
PIPELINE = f"{ACCOUNT}/livePipelines/gate-camera"
SEGMENT_S = 30  # longer than the test: only the flush on shutdown can store media


def test_sigterm_flushes_the_recording_of_an_active_pipeline(tmp_path: Path) -> None:
    settings = {"recording": {"segment_seconds": SEGMENT_S}}
    with CameraProcess(tmp_path) as camera, CloudProcess(tmp_path, settings) as cloud:
        camera.start()
        cloud.start()
        with cloud.operator() as arm, httpx.Client(timeout=10) as http:
            assert arm.put(ACCOUNT, json=account_body()).status_code == 201
            assert (
                arm.put(f"{ACCOUNT}/pipelineTopologies/{TOPOLOGY}", json=topology_body()).status_code == 201
            )
            assert arm.put(PIPELINE, json=pipeline_body(camera.url, "gate")).status_code == 201
            assert arm.post(f"{PIPELINE}/activate").status_code == 202
            cloud.wait_for(lambda: "camera connected" in cloud.log(), "the camera connection", 30)
            time.sleep(4)  # a few seconds of media, far from the end of a 30 s segment
            video = arm.get(f"{ACCOUNT}/videos/gate").json()
            token = arm.post(f"{ACCOUNT}/videos/gate/listContentToken").json()["token"]
            base = video["properties"]["contentUrls"]["archiveBaseUrl"]
            assert (
                http.get(f"{base}/manifest(format=m3u8-cmaf).m3u8", params={"token": token}).status_code
                == 404
            )
            assert cloud.process is not None
            cloud.process.send_signal(signal.SIGTERM)
            assert cloud.process.wait(timeout=30) == 0, cloud.log()
        assert "Traceback" not in cloud.log()
        cloud.start()  # the same deployment again: the flushed media is there, and recording resumes
        with cloud.operator() as arm, httpx.Client(timeout=10) as http:
            token = arm.post(f"{ACCOUNT}/videos/gate/listContentToken").json()["token"]
            playlist = http.get(f"{base}/manifest(format=m3u8-cmaf).m3u8", params={"token": token})
            assert playlist.status_code == 200, playlist.text
            durations = [
                float(line[8:].rstrip(","))
                for line in playlist.text.splitlines()
                if line.startswith("#EXTINF:")
            ]
            assert durations and sum(durations) >= 2.0
            assert arm.get(PIPELINE).json()["properties"]["state"] == "Active"
