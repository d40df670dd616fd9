"""Valid topologies pass, come back in canonical spelling, and bad shapes are reported by JSON path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ova.contracts.topology import (
    CloudTopology,
    EdgeTopology,
    validate_cloud_topology,
    validate_edge_topology,
)
from ova.contracts.topology_cloud import CloudRtspSource, CloudVideoSink, EncoderProcessor, VideoSource
from ova.contracts.topology_edge import EdgeRtspSource, HttpExtension, IotHubMessageSink

from .topology_builders import (
    DELETE,
    P,
    cloud_batch,
    cloud_live,
    edge_topology,
    edge_video_sink,
    edited,
    failure,
    file_sink,
    http_extension,
    hub_sink,
    hub_source,
    line_crossing,
    motion,
    plain,
    rtsp_source,
    signal_gate,
    targets,
    tracker,
    video,
)

SAMPLES = Path(__file__).parents[3].parent / "shared/reference/ava-topologies"
SAMPLE_FILES = sorted(SAMPLES.glob("*.json")) if SAMPLES.is_dir() else []


@pytest.mark.skipif(not SAMPLE_FILES, reason=f"the reference topologies are not checked out at {SAMPLES}")
@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: path.stem)
def test_every_reference_sample_is_a_valid_edge_topology(path: Path) -> None:
    body = json.loads(path.read_text())

    topology = validate_edge_topology(body)

    assert topology.name == body["name"]
    assert [n.name for n in topology.properties.sinks] == [n["name"] for n in body["properties"]["sinks"]]


def test_cloud_record_from_rtsp_topology_is_valid() -> None:
    topology = validate_cloud_topology(cloud_live())

    assert isinstance(topology, CloudTopology)
    assert topology.kind == "Live"
    (source,) = topology.properties.sources
    assert isinstance(source, CloudRtspSource)
    assert source.endpoint.credentials.password == "${rtspPassword}"
    assert isinstance(topology.properties.sinks[0], CloudVideoSink)


def test_cloud_batch_export_topology_is_valid() -> None:
    topology = validate_cloud_topology(cloud_batch())

    assert topology.kind == "Batch"
    assert isinstance(topology.properties.sources[0], VideoSource)
    assert isinstance(topology.properties.processors[0], EncoderProcessor)
    assert topology.properties.sinks[0].inputs[0].node_name == "encoder"


def test_cloud_topology_with_tunnel_custom_preset_and_literal_range_is_valid() -> None:
    tunnel = {"@type": f"{P}SecureIotDeviceRemoteTunnel", "iotHubName": "hub", "deviceId": "camera-1"}
    custom = {
        "@type": f"{P}EncoderCustomPreset",
        "audioEncoder": {"@type": f"{P}AudioEncoderAac", "bitrateKbps": "128"},
        "videoEncoder": {
            "@type": f"{P}VideoEncoderH264",
            "bitrateKbps": "3000",
            "frameRate": "29.97",
            "scale": {"height": "720", "width": "1280", "mode": "pad"},
        },
    }
    ranges = '[["2021-10-05T03:30:00Z","2021-10-05T03:40:00Z"]]'

    live = validate_cloud_topology(edited(cloud_live(), {"properties.sources[0].endpoint.tunnel": tunnel}))
    batch = validate_cloud_topology(
        edited(
            cloud_batch(),
            {"properties.processors[0].preset": custom, "properties.sources[0].timeSequences.ranges": ranges},
        )
    )

    dumped = batch.model_dump(exclude_none=True)
    assert dumped["properties"]["processors"][0]["preset"]["videoEncoder"]["scale"]["mode"] == "Pad"
    assert live.model_dump()["properties"]["sources"][0]["endpoint"]["tunnel"]["deviceId"] == "camera-1"


TLS_ENDPOINT = {
    "@type": f"{P}TlsEndpoint",
    "url": "https://vision:8443",
    "credentials": {"@type": f"{P}HttpHeaderCredentials", "headerName": "x-key", "headerValue": "secret"},
    "trustedCertificates": {
        "@type": f"{P}PemCertificateList",
        "certificates": ["-----BEGIN CERTIFICATE-----"],
    },
    "validationOptions": {"ignoreHostname": "false", "ignoreSignature": "true"},
}


def test_edge_topology_using_every_node_type_is_valid() -> None:
    grpc = {
        **http_extension("grpc"),
        "@type": f"{P}GrpcExtension",
        "dataTransfer": {"mode": "sharedMemory", "sharedMemorySizeMiB": "64"},
        "extensionConfiguration": '{"model": "yolo"}',
    }
    vision = {
        "@type": f"{P}CognitiveServicesVisionProcessor",
        "name": "vision",
        "endpoint": TLS_ENDPOINT,
        "image": {"format": {"@type": f"{P}ImageFormatRaw", "pixelFormat": "bgr24"}},
        "operation": {"@type": f"{P}SpatialAnalysisPersonCountOperation", "zones": [{"name": "door"}]},
        "inputs": [video("rtspSource")],
    }
    processors = [
        motion(),
        grpc,
        tracker(source="grpc"),
        line_crossing(),
        vision,
        signal_gate(trigger="hubSource"),
    ]
    sinks = [edge_video_sink(inputs=[video("gate"), plain("tracker")]), file_sink(), hub_sink(source="lines")]
    body = edge_topology([rtsp_source(), hub_source()], processors, sinks)

    topology = validate_edge_topology(body)

    assert len(topology.properties.processors) == 6
    operation = topology.model_dump()["properties"]["processors"][4]["operation"]
    assert operation == {"@type": f"{P}SpatialAnalysisPersonCountOperation", "zones": [{"name": "door"}]}


def test_values_come_back_in_canonical_spelling() -> None:
    body = edge_topology(processors=[http_extension()], sinks=[hub_sink(source="http")])
    body = edited(
        body,
        {
            "properties.parameters[0].type": "STRING",
            "properties.sources[0].transport": "TCP",
            "properties.processors[0].image.scale.mode": "PreserveAspectRatio",
            "properties.processors[0].samplingOptions.skipSamplesWithoutAnnotation": "False",
            "properties.sinks[0].@type": f"{P}IoTHubMessageSink",
        },
    )

    dumped = validate_edge_topology(body).model_dump(exclude_none=True)["properties"]

    assert dumped["parameters"][0]["type"] == "string"
    assert dumped["sources"][0]["transport"] == "tcp"
    assert dumped["processors"][0]["image"]["scale"]["mode"] == "preserveAspectRatio"
    assert dumped["processors"][0]["samplingOptions"]["skipSamplesWithoutAnnotation"] == "false"
    assert dumped["sinks"][0]["@type"] == f"{P}IotHubMessageSink"


def test_cloud_spelling_is_canonical_too() -> None:
    body = edited(
        cloud_live(), {"kind": "live", "sku.name": "live_s1", "properties.parameters[2].type": "secretstring"}
    )

    topology = validate_cloud_topology(body)

    assert (topology.kind, topology.sku.name) == ("Live", "Live_S1")
    assert topology.properties.parameters[2].type == "SecretString"
    assert topology.model_dump()["properties"]["sources"][0]["transport"] == "Tcp"


def test_property_names_are_matched_without_regard_to_case() -> None:
    grpc = {
        **http_extension("grpc"),
        "@type": f"{P}GrpcExtension",
        "dataTransfer": {"mode": "embedded", "SharedMemorySizeMiB": "75"},
    }
    body = edge_topology(processors=[grpc], sinks=[hub_sink(source="grpc")])

    topology = validate_edge_topology(body)

    assert topology.model_dump()["properties"]["processors"][0]["dataTransfer"]["sharedMemorySizeMiB"] == "75"


def test_the_parsed_model_round_trips() -> None:
    topology = validate_edge_topology(edge_topology())

    again = validate_edge_topology(topology.model_dump(exclude_none=True))

    assert again == topology
    assert isinstance(again, EdgeTopology)
    assert isinstance(again.properties.sources[0], EdgeRtspSource)


def test_an_http_extension_and_hub_sink_are_parsed_as_their_own_classes() -> None:
    topology = validate_edge_topology(
        edge_topology(processors=[http_extension()], sinks=[hub_sink(source="http")])
    )

    assert isinstance(topology.properties.processors[0], HttpExtension)
    assert isinstance(topology.properties.sinks[0], IotHubMessageSink)


def test_a_body_that_is_not_an_object_is_rejected() -> None:
    error = failure(validate_cloud_topology, ["not", "an", "object"])

    assert "JSON object" in error.message


def test_an_unknown_node_type_names_the_valid_ones() -> None:
    body = edited(edge_topology(), {"properties.sinks[0].@type": f"{P}Teleporter"})

    error = failure(validate_edge_topology, body)

    assert targets(error) == ["properties.sinks[0].@type"]
    assert f"{P}VideoSink" in error.message and f"{P}FileSink" in error.message


def test_a_cloud_only_node_is_unknown_on_the_edge() -> None:
    body = edited(edge_topology(), {"properties.sources[0].@type": f"{P}VideoSource"})

    error = failure(validate_edge_topology, body)

    assert targets(error) == ["properties.sources[0].@type"]


def test_all_shape_problems_are_reported_at_once_with_readable_messages() -> None:
    body = edited(
        edge_topology(processors=[http_extension()], sinks=[hub_sink(source="http")]),
        {
            "properties.sources[0].endpoint.url": DELETE,
            "properties.processors[0].image.format.quality": 90,
            "properties.sinks[0].colour": "blue",
        },
    )

    error = failure(validate_edge_topology, body)

    assert targets(error) == [
        "properties.sources[0].endpoint.url",
        "properties.processors[0].image.format.quality",
        "properties.sinks[0].colour",
    ]
    messages = [detail.message for detail in error.details]
    assert messages[0] == "The property 'url' is required."
    assert "written as strings" in messages[1]
    assert "colour" in messages[2]
    assert not any("type=" in m or "Input should" in m for m in messages)
    assert "3 problems" in error.message


def test_a_property_given_twice_in_different_case_is_rejected() -> None:
    body = edited(edge_topology(), {"properties.sinks[0].VideoName": "other"})

    error = failure(validate_edge_topology, body)

    assert targets(error) == ["properties.sinks[0]"]
    assert "more than once" in error.message


def test_validation_failed_is_a_value_error_carrying_an_arm_code() -> None:
    error = failure(validate_cloud_topology, edited(cloud_live(), {"kind": "Stream"}))

    assert isinstance(error, ValueError)
    assert error.code == "InvalidRequest"
    assert error.details[0].target == "kind"


def test_read_only_arm_properties_are_accepted_and_left_out() -> None:
    body = {
        **cloud_live(),
        "id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.Media/videoAnalyzers/a",
        "name": "t",
        "type": "Microsoft.Media/videoAnalyzers/pipelineTopologies",
        "systemData": {"createdBy": "someone"},
        "sku": {"name": "Live_S1", "tier": "Standard"},
    }

    dumped = validate_cloud_topology(body).model_dump(exclude_none=True)

    assert set(dumped) == {"kind", "sku", "properties"}
    assert dumped["sku"] == {"name": "Live_S1"}
