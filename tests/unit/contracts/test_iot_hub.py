"""IoT Hub's device topics and connection strings, as the official SDKs write them."""

from __future__ import annotations

import pytest

from ova.contracts import iot_hub
from ova.contracts.iot_hub import ConnectionString, ConnectionStringError

MODULE_CS = (
    "HostName=hub.example.net;DeviceId=cam-gw;ModuleId=avaedge;SharedAccessKey=c2VjcmV0c2VjcmV0c2VjcmV0"
)


def test_module_connection_string_round_trips_and_never_shows_its_key() -> None:
    parsed = ConnectionString.parse(MODULE_CS)
    assert (parsed.host_name, parsed.device_id, parsed.module_id) == ("hub.example.net", "cam-gw", "avaedge")
    assert str(parsed) == MODULE_CS
    assert "c2Vj" not in repr(parsed)


def test_service_connection_string() -> None:
    parsed = ConnectionString.parse("HostName=127.0.0.1:8443;SharedAccessKeyName=owner;SharedAccessKey=a2V5")
    assert (parsed.shared_access_key_name, parsed.device_id) == ("owner", None)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "HostName=h;DeviceId=d",  # no key
        "DeviceId=d;SharedAccessKey=k",  # no host
        "HostName=h;SharedAccessKey=k",  # neither device nor policy
        "HostName=h;DeviceId=d;SharedAccessKey=k;Colour=blue",
        "HostName=h;HostName=i;DeviceId=d;SharedAccessKey=k",
        "HostName;DeviceId=d;SharedAccessKey=k",
    ],
)
def test_refuses_malformed_connection_strings(text: str) -> None:
    with pytest.raises(ConnectionStringError):
        ConnectionString.parse(text)


def test_mqtt_identity_of_a_module() -> None:
    assert iot_hub.client_id("cam-gw", "avaedge") == "cam-gw/avaedge"
    assert (
        iot_hub.username("h", "cam-gw", "avaedge") == f"h/cam-gw/avaedge/?api-version={iot_hub.API_VERSION}"
    )
    assert iot_hub.sas_resource("h", "cam-gw", "avaedge") == "h/devices/cam-gw/modules/avaedge"
    assert iot_hub.sas_resource("h", "cam-gw") == "h/devices/cam-gw"


def test_method_topics() -> None:
    request = iot_hub.method_request_topic("livePipelineActivate", "7")
    assert request == "$iothub/methods/POST/livePipelineActivate/?$rid=7"
    assert iot_hub.parse_method_request(request) == ("livePipelineActivate", "7")
    assert iot_hub.parse_method_response(iot_hub.method_response_topic(200, "7")) == (200, "7")
    assert iot_hub.parse_method_request("$iothub/methods/POST/a/b/?$rid=1") is None
    assert iot_hub.parse_method_response("$iothub/methods/res/2000/?$rid=1") is None


def test_twin_topics() -> None:
    assert iot_hub.parse_twin_request(iot_hub.twin_get_topic("1")) == ("GET", "1")
    assert iot_hub.parse_twin_request(iot_hub.twin_reported_topic("2")) == ("PATCH/properties/reported", "2")
    assert iot_hub.parse_twin_response(iot_hub.twin_response_topic(204, "2", 9)) == (204, "2", 9)
    assert iot_hub.parse_twin_response(iot_hub.twin_response_topic(200, "1")) == (200, "1", None)
    assert iot_hub.parse_twin_desired(iot_hub.twin_desired_topic(12)) == 12
    assert iot_hub.parse_twin_request("$iothub/twin/DELETE/?$rid=1") is None


def test_messages_carry_their_properties_in_the_topic() -> None:
    properties = {"$.on": "operational events", "eventType": "Microsoft.VideoAnalyzer.Operational.X"}
    topic = iot_hub.events_topic("d", "m", properties)
    assert topic.startswith("devices/d/modules/m/messages/events/")
    assert iot_hub.parse_events_topic(topic, "d", "m") == properties
    assert iot_hub.parse_events_topic(topic, "d", "other") is None
    inbound = iot_hub.input_topic("d", "m", "trigger", {"a": "1"})
    assert iot_hub.parse_input_topic(inbound, "d", "m") == ("trigger", {"a": "1"})


def test_property_bags_are_bounded() -> None:
    assert iot_hub.decode_properties("a=" + "x" * (iot_hub.MAX_PROPERTY_BAG + 1)) is None
    assert iot_hub.decode_properties("") == {}


@pytest.mark.parametrize(("value", "ok"), [("cam-gw", True), ("a/b", False), ("a+b", False), ("", False)])
def test_identity_ids(value: str, ok: bool) -> None:
    assert bool(iot_hub.IDENTITY_ID.match(value)) is ok
