"""Management API bodies of a recording deployment: an account, a camera topology, live pipelines.

The topology is the original's cloud sample shape, RtspSource -> VideoSink, with the camera URL
and the video name as parameters, so each live pipeline records one camera into one video.
"""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
P = "#Microsoft.VideoAnalyzer."
SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"
TOPOLOGY = "record-camera"


def account_path(name: str = "acct1", group: str = "rg1") -> str:
    group_path = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}"
    return f"{group_path}/providers/Microsoft.Media/videoAnalyzers/{name}"


def account_body() -> Json:
    storage = {"id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1/providers/x/storageAccounts/s"}
    return {"location": "westus", "properties": {"storageAccounts": [storage]}}


def topology_body() -> Json:
    credentials = {"@type": f"{P}UsernamePasswordCredentials", "username": "", "password": ""}
    endpoint = {"@type": f"{P}UnsecuredEndpoint", "url": "${rtspUrl}", "credentials": credentials}
    source = {"@type": f"{P}RtspSource", "name": "camera", "transport": "Tcp", "endpoint": endpoint}
    sink = {
        "@type": f"{P}VideoSink",
        "name": "archive",
        "videoName": "${videoName}",
        "inputs": [{"nodeName": "camera"}],
        "videoCreationProperties": {"title": "Recorded camera", "segmentLength": "PT30S"},
    }
    parameters = [{"name": "rtspUrl", "type": "String"}, {"name": "videoName", "type": "String"}]
    return {
        "kind": "Live",
        "sku": {"name": "Live_S1"},
        "properties": {"parameters": parameters, "sources": [source], "sinks": [sink]},
    }


def pipeline_body(camera_url: str, video: str, bitrate_kbps: int = 3000) -> Json:
    values = {"rtspUrl": camera_url, "videoName": video}
    return {
        "properties": {
            "topologyName": TOPOLOGY,
            "bitrateKbps": bitrate_kbps,
            "parameters": [{"name": name, "value": value} for name, value in values.items()],
        }
    }
