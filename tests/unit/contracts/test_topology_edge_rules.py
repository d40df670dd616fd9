"""Edge wiring rules and node value ranges, reported at the offending JSON path."""

from __future__ import annotations

import pytest

from ova.contracts.topology import validate_edge_topology

from .topology_builders import (
    DELETE,
    Case,
    P,
    check,
    edge,
    edge_topology,
    edge_video_sink,
    file_sink,
    http_extension,
    hub_sink,
    hub_source,
    line_crossing,
    motion,
    params,
    plain,
    rtsp_source,
    signal_gate,
    tracker,
    video,
)

EDGE_CASES = params(
    Case(
        "two-rtsp-sources",
        edge(rtsp_source(), rtsp_source("camera2")),
        "properties.sources",
        "exactly one RTSP source",
    ),
    Case(
        "no-rtsp-source",
        edge(hub_source(), sinks=(hub_sink(source="hubSource"),)),
        "properties.sources",
        "exactly one RTSP source",
    ),
    Case(
        "two-file-sinks",
        edge(processors=(motion(), signal_gate()), sinks=(file_sink(), file_sink("fileSink2"))),
        "properties.sinks[1]",
        "at most one file sink",
    ),
    Case(
        "motion-after-extension",
        edge(processors=(http_extension(), motion(inputs=[plain("http")])), sinks=(hub_sink(),)),
        "properties.processors[1].inputs[0].nodeName",
        "directly after RtspSource, not 'http' (HttpExtension)",
    ),
    Case(
        "gate-without-rtsp-input",
        edge(
            processors=(motion(), signal_gate(source="motion")),
            sinks=(edge_video_sink(inputs=[plain("gate")]),),
        ),
        "properties.processors[1].inputs",
        "needs an input from RtspSource",
    ),
    Case(
        "gate-feeds-extension",
        edge(
            processors=(motion(), signal_gate(), http_extension(inputs=[plain("gate")])),
            sinks=(hub_sink(source="http"), edge_video_sink(inputs=[plain("gate")])),
        ),
        "properties.processors[2].inputs[0].nodeName",
        "only feed VideoSink or FileSink",
    ),
    Case(
        "gate-feeds-hub-sink",
        edge(processors=(motion(), signal_gate()), sinks=(hub_sink(source="gate"),)),
        "properties.sinks[0].inputs[0].nodeName",
        "only feed VideoSink or FileSink",
    ),
    Case(
        "gate-feeds-nothing",
        edge(processors=(motion(), signal_gate()), sinks=(hub_sink(),)),
        "properties.processors[1]",
        "must feed",
    ),
    Case(
        "tracker-after-motion",
        edge(processors=(motion(), tracker(source="motion")), sinks=(hub_sink(source="tracker"),)),
        "properties.processors[1].inputs[0].nodeName",
        "HttpExtension or GrpcExtension",
    ),
    Case(
        "line-crossing-after-extension",
        edge(processors=(http_extension(), line_crossing(source="http")), sinks=(hub_sink(source="lines"),)),
        "properties.processors[1].inputs[0].nodeName",
        "ObjectTrackingProcessor",
    ),
    Case(
        "video-sink-after-motion-only",
        edge(processors=(motion(),), sinks=(edge_video_sink(inputs=[plain("motion")]),)),
        "properties.sinks[0].inputs",
        "RtspSource or SignalGateProcessor",
    ),
    Case(
        "file-sink-after-rtsp",
        edge(sinks=(file_sink(source="rtspSource"),)),
        "properties.sinks[0].inputs",
        "SignalGateProcessor",
    ),
    Case(
        "file-sink-after-extension",
        edge(
            processors=(motion(), signal_gate(), http_extension()),
            sinks=(
                edge_video_sink(inputs=[plain("gate")]),
                hub_sink(source="http"),
                {**file_sink(), "inputs": [video("gate"), plain("http")]},
            ),
        ),
        "properties.sinks[2].inputs[1].nodeName",
        "cannot come directly after 'http' (HttpExtension)",
    ),
    Case(
        "hub-sink-after-hub-source",
        edge(rtsp_source(), hub_source(), sinks=(edge_video_sink(), hub_sink(source="hubSource"))),
        "properties.sinks[1].inputs[0].nodeName",
        "cannot come directly after 'hubSource' (IotHubMessageSource)",
    ),
    Case(
        "extension-takes-audio",
        edge(processors=(http_extension(inputs=[plain("rtspSource")]),), sinks=(hub_sink(source="http"),)),
        "properties.processors[0].inputs[0]",
        "mediaType is video",
    ),
    Case(
        "extension-takes-only-audio",
        edge(
            processors=(
                http_extension(
                    inputs=[
                        {
                            "nodeName": "rtspSource",
                            "outputSelectors": [
                                {"property": "mediaType", "operator": "is", "value": "audio"}
                            ],
                        }
                    ]
                ),
            ),
            sinks=(hub_sink(source="http"),),
        ),
        "properties.processors[0].inputs[0]",
        "mediaType is video",
    ),
    Case(
        "tunnel-is-cloud-only",
        edge(),
        "properties.sources[0].endpoint.tunnel",
        "not a property",
        {
            "properties.sources[0].endpoint.tunnel": {
                "@type": f"{P}SecureIotDeviceRemoteTunnel",
                "iotHubName": "h",
                "deviceId": "d",
            }
        },
    ),
    Case(
        "file-name-without-system-variable",
        edge(processors=(motion(), signal_gate()), sinks=(file_sink(),)),
        "properties.sinks[0].fileNamePattern",
        "system variable",
        {"properties.sinks[0].fileNamePattern": "clip"},
    ),
    Case(
        "gate-window-over-10s",
        edge(processors=(motion(), signal_gate()), sinks=(file_sink(),)),
        "properties.processors[1].activationEvaluationWindow",
        "10 s",
        {"properties.processors[1].activationEvaluationWindow": "PT11S"},
    ),
    Case(
        "gate-offset-over-a-minute",
        edge(processors=(motion(), signal_gate()), sinks=(file_sink(),)),
        "properties.processors[1].activationSignalOffset",
        "-60 s",
        {"properties.processors[1].activationSignalOffset": "-PT2M"},
    ),
    Case(
        "line-outside-frame",
        edge(processors=(http_extension(), tracker(), line_crossing()), sinks=(hub_sink(source="lines"),)),
        "properties.processors[2].lines[0].line",
        "from 0 to 1",
        {"properties.processors[2].lines[0].line": "[[0.5,0.1],[1.5,0.9]]"},
    ),
    Case(
        "jpeg-quality-over-100",
        edge(processors=(http_extension(),), sinks=(hub_sink(source="http"),)),
        "properties.processors[0].image.format.quality",
        "up to 100",
        {"properties.processors[0].image.format.quality": "101"},
    ),
    Case(
        "extension-needs-image",
        edge(processors=(http_extension(),), sinks=(hub_sink(source="http"),)),
        "properties.processors[0].image",
        "required",
        {"properties.processors[0].image": DELETE},
    ),
    Case(
        "unknown-sensitivity",
        edge(processors=(motion(),), sinks=(hub_sink(),)),
        "properties.processors[0].sensitivity",
        "low, medium, high",
        {"properties.processors[0].sensitivity": "extreme"},
    ),
    Case(
        "cache-size-not-a-number",
        edge(),
        "properties.sinks[0].localMediaCacheMaximumSizeMiB",
        "integer",
        {"properties.sinks[0].localMediaCacheMaximumSizeMiB": "2 GiB"},
    ),
)


@pytest.mark.parametrize("case", EDGE_CASES)
def test_problem_is_reported_at_its_path(case: Case) -> None:
    check(case)


def test_an_extension_input_selecting_not_audio_counts_as_video_only() -> None:
    selector = {"property": "mediaType", "operator": "isNot", "value": "audio"}
    extension = http_extension(inputs=[{"nodeName": "rtspSource", "outputSelectors": [selector]}])

    topology = validate_edge_topology(edge_topology(processors=[extension], sinks=[hub_sink(source="http")]))

    assert topology.properties.processors[0].inputs[0].node_name == "rtspSource"
