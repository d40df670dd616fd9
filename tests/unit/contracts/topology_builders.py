"""Small pipeline topologies for the topology tests, plus helpers to edit them by JSON path."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from ova.common.errors import ValidationFailed
from ova.contracts.topology import validate_cloud_topology, validate_edge_topology

P = "#Microsoft.VideoAnalyzer."
DELETE = object()
Json = dict[str, Any]


def credentials() -> Json:
    return {
        "@type": f"{P}UsernamePasswordCredentials",
        "username": "${rtspUserName}",
        "password": "${rtspPassword}",
    }


def rtsp_source(name: str = "rtspSource", **extra: Any) -> Json:
    endpoint = {"@type": f"{P}UnsecuredEndpoint", "url": "${rtspUrl}", "credentials": credentials()}
    return {"@type": f"{P}RtspSource", "name": name, "transport": "tcp", "endpoint": endpoint, **extra}


def video(name: str) -> Json:
    """An input that takes only the video of ``name``."""
    return {
        "nodeName": name,
        "outputSelectors": [{"property": "mediaType", "operator": "is", "value": "video"}],
    }


def plain(name: str) -> Json:
    return {"nodeName": name}


def hub_source(name: str = "hubSource") -> Json:
    return {"@type": f"{P}IotHubMessageSource", "name": name, "hubInputName": "trigger"}


def motion(name: str = "motion", inputs: Iterable[Json] = ()) -> Json:
    inputs = list(inputs) or [video("rtspSource")]
    return {"@type": f"{P}MotionDetectionProcessor", "name": name, "sensitivity": "medium", "inputs": inputs}


def http_extension(name: str = "http", inputs: Iterable[Json] = ()) -> Json:
    return {
        "@type": f"{P}HttpExtension",
        "name": name,
        "endpoint": {"@type": f"{P}UnsecuredEndpoint", "url": "http://yolo/score"},
        "image": {
            "scale": {"mode": "pad", "width": "416", "height": "416"},
            "format": {"@type": f"{P}ImageFormatJpeg", "quality": "90"},
        },
        "samplingOptions": {"skipSamplesWithoutAnnotation": "false", "maximumSamplesPerSecond": "2"},
        "inputs": list(inputs) or [video("rtspSource")],
    }


def tracker(name: str = "tracker", source: str = "http") -> Json:
    return {
        "@type": f"{P}ObjectTrackingProcessor",
        "name": name,
        "accuracy": "high",
        "inputs": [plain(source)],
    }


def line_crossing(name: str = "lines", source: str = "tracker") -> Json:
    line = {"@type": f"{P}NamedLineString", "name": "door", "line": "[[0.5,0.1],[0.5,0.9]]"}
    return {"@type": f"{P}LineCrossingProcessor", "name": name, "lines": [line], "inputs": [plain(source)]}


def signal_gate(name: str = "gate", trigger: str = "motion", source: str = "rtspSource") -> Json:
    return {
        "@type": f"{P}SignalGateProcessor",
        "name": name,
        "inputs": [plain(trigger), video(source)],
        "activationEvaluationWindow": "PT1S",
        "activationSignalOffset": "-PT5S",
        "minimumActivationTime": "PT30S",
        "maximumActivationTime": "PT5M",
    }


def edge_video_sink(name: str = "videoSink", inputs: Iterable[Json] = ()) -> Json:
    return {
        "@type": f"{P}VideoSink",
        "name": name,
        "videoName": "camera-${System.PipelineName}",
        "inputs": list(inputs) or [video("rtspSource")],
        "videoCreationProperties": {"title": "Camera", "segmentLength": "PT30S", "retentionPeriod": "P7D"},
        "localMediaCachePath": "/var/lib/videoanalyzer/tmp/",
        "localMediaCacheMaximumSizeMiB": "2048",
    }


def file_sink(name: str = "fileSink", source: str = "gate") -> Json:
    return {
        "@type": f"{P}FileSink",
        "name": name,
        "inputs": [video(source)],
        "baseDirectoryPath": "/var/media",
        "fileNamePattern": "clip-${System.Runtime.DateTime}",
        "maximumSizeMiB": "512",
    }


def hub_sink(name: str = "hubSink", source: str = "motion") -> Json:
    return {
        "@type": f"{P}IotHubMessageSink",
        "name": name,
        "hubOutputName": "events",
        "inputs": [plain(source)],
    }


def rtsp_parameters(kind: str = "edge") -> list[Json]:
    string, secret = ("string", "secretString") if kind == "edge" else ("String", "SecretString")
    return [
        {"name": "rtspUrl", "type": string, "description": "rtsp Url"},
        {"name": "rtspUserName", "type": string, "default": "admin"},
        {"name": "rtspPassword", "type": secret, "default": "dummyPassword"},
    ]


def edge_topology(
    sources: Iterable[Json] = (),
    processors: Iterable[Json] = (),
    sinks: Iterable[Json] = (),
    name: str = "topology-1",
) -> Json:
    """An edge topology; with no nodes given, RTSP source -> video sink."""
    return {
        "@apiVersion": "1.1",
        "name": name,
        "properties": {
            "description": "test topology",
            "parameters": rtsp_parameters("edge"),
            "sources": list(sources) or [rtsp_source()],
            "processors": list(processors),
            "sinks": list(sinks) or [edge_video_sink()],
        },
    }


def cloud_live() -> Json:
    """Record from RTSP: RTSP source -> video sink, as in the original cloud samples."""
    sink = {
        "@type": f"{P}VideoSink",
        "name": "videoSink",
        "videoName": "${videoName}",
        "videoCreationProperties": {
            "title": "record-camera",
            "description": "Continuous recording",
            "segmentLength": "PT30S",
            "retentionPeriod": "P30D",
        },
        "videoPublishingOptions": {"disableRtspPublishing": "false", "disableArchive": "false"},
        "inputs": [plain("rtspSource")],
    }
    parameters = [*rtsp_parameters("cloud"), {"name": "videoName", "type": "String"}]
    return {
        "kind": "Live",
        "sku": {"name": "Live_S1"},
        "properties": {
            "description": "Record a camera that is reachable over the internet",
            "parameters": parameters,
            "sources": [rtsp_source()],
            "sinks": [sink],
        },
    }


def cloud_batch() -> Json:
    """Export part of an archive: video source -> encoder -> video sink."""
    source = {
        "@type": f"{P}VideoSource",
        "name": "videoSource",
        "videoName": "${sourceVideoName}",
        "timeSequences": {"@type": f"{P}VideoSequenceAbsoluteTimeMarkers", "ranges": "${timeSequence}"},
    }
    encoder = {
        "@type": f"{P}EncoderProcessor",
        "name": "encoder",
        "preset": {"@type": f"{P}EncoderSystemPreset", "name": "SingleLayer_1080p_H264_AAC"},
        "inputs": [plain("videoSource")],
    }
    sink = {
        "@type": f"{P}VideoSink",
        "name": "videoSink",
        "videoName": "${outputVideoName}",
        "videoCreationProperties": {"title": "export", "description": "An exported clip"},
        "inputs": [plain("encoder")],
    }
    names = ("sourceVideoName", "timeSequence", "outputVideoName")
    return {
        "kind": "Batch",
        "sku": {"name": "Batch_S1"},
        "properties": {
            "description": "Export a portion of a recorded video to an MP4 file",
            "parameters": [{"name": name, "type": "String"} for name in names],
            "sources": [source],
            "processors": [encoder],
            "sinks": [sink],
        },
    }


STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def edited(body: Json, changes: Mapping[str, Any]) -> Json:
    """A copy of ``body`` with each JSON path set to its value (``DELETE`` removes it)."""
    result = copy.deepcopy(body)
    for path, value in changes.items():
        steps: list[str | int] = [key if key else int(index) for key, index in STEP.findall(path)]
        parent: Any = result
        for step in steps[:-1]:
            parent = parent[step]
        if value is DELETE:
            del parent[steps[-1]]
        else:
            parent[steps[-1]] = copy.deepcopy(value)
    return result


def failure(validate: Any, body: Any) -> ValidationFailed:
    """The ``ValidationFailed`` that ``validate(body)`` raises."""
    with pytest.raises(ValidationFailed) as caught:
        validate(body)
    return caught.value


def targets(error: ValidationFailed) -> list[str | None]:
    return [detail.target for detail in error.details]


# --- table-driven negative cases ----------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """``base`` edited by ``changes`` fails at ``target`` with a message containing ``says``."""

    id: str
    base: Callable[[], Json]
    target: str
    says: str
    changes: dict[str, Any] = field(default_factory=dict)


def edge(
    *sources: Json, processors: tuple[Json, ...] = (), sinks: tuple[Json, ...] = ()
) -> Callable[[], Json]:
    return lambda: edge_topology(sources, processors, sinks)


def params(*cases: Case) -> list[Any]:
    return [pytest.param(case, id=case.id) for case in cases]


def check(case: Case) -> None:
    """Validate the edited body and require a problem at ``case.target`` that ``says`` what is wrong."""
    cloud = case.base in (cloud_live, cloud_batch)
    error = failure(
        validate_cloud_topology if cloud else validate_edge_topology, edited(case.base(), case.changes)
    )

    assert case.target in targets(error), [(d.target, d.message) for d in error.details]
    messages = [detail.message for detail in error.details if detail.target == case.target]
    assert any(case.says in message for message in messages), messages
