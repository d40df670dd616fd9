"""The broker namespace: each identity reaches its own topics only (M2)."""

from __future__ import annotations

import pytest

from ova.contracts import iot_hub
from ova.hub import namespace
from ova.hub.namespace import Identity

MODULE = Identity("edge-1", "ova")
DEVICE = Identity("cam-1")


@pytest.mark.parametrize("identity", [MODULE, DEVICE])
def test_broker_topics_map_back_to_their_identity(identity: Identity) -> None:
    topic = "$iothub/methods/POST/livePipelineSet/?$rid=1"
    assert namespace.from_broker(namespace.to_broker(identity, topic)) == (identity, topic)


@pytest.mark.parametrize("topic", ["other/x", "ova-hub/", "ova-hub/d", "ova-hub//m/x", "ova-hub/d//x"])
def test_topics_outside_the_namespace_belong_to_no_identity(topic: str) -> None:
    assert namespace.from_broker(topic) is None


def test_a_service_filter_spans_every_identity() -> None:
    assert namespace.service_filter("$iothub/methods/res/#") == "ova-hub/+/+/$iothub/methods/res/#"
    assert namespace.to_broker(DEVICE, "x").startswith("ova-hub/cam-1/$device/")


@pytest.mark.parametrize(
    ("identity", "topic_filter", "allowed"),
    [
        (MODULE, iot_hub.METHODS_SUBSCRIBE, True),
        (MODULE, iot_hub.TWIN_RESPONSES_SUBSCRIBE, True),
        (MODULE, iot_hub.TWIN_DESIRED_SUBSCRIBE, True),
        (MODULE, "devices/edge-1/modules/ova/inputs/#", True),
        (MODULE, "devices/edge-2/modules/ova/inputs/#", False),
        (MODULE, "devices/edge-1/messages/devicebound/#", False),
        (DEVICE, "devices/cam-1/messages/devicebound/#", True),
        (DEVICE, "devices/cam-2/messages/devicebound/#", False),
        (MODULE, "#", False),
        (MODULE, "+/x", False),
        (MODULE, "$SYS/#", False),
        (MODULE, "$iothub/#", False),
        (MODULE, "ova-hub/+/+/#", False),
    ],
)
def test_subscriptions_are_limited_to_the_identitys_own_filters(
    identity: Identity, topic_filter: str, allowed: bool
) -> None:
    assert namespace.allowed_subscription(identity, topic_filter) is allowed


@pytest.mark.parametrize(
    ("topic", "allowed"),
    [
        ("$iothub/methods/res/200/?$rid=1", True),
        ("$iothub/twin/GET/?$rid=2", True),
        ("$iothub/twin/PATCH/properties/reported/?$rid=3", True),
        ("devices/edge-1/modules/ova/messages/events/%24.on=out", True),
        ("devices/edge-2/modules/ova/messages/events/", False),
        ("devices/edge-1/modules/ova/inputs/in/", False),
        ("$iothub/methods/POST/x/?$rid=1", False),
        ("devices/edge-1/modules/ova/messages/events/#", False),
        ("devices/edge-1/modules/ova/messages/events/" + "a" * 1024, False),
        ("$SYS/broker", False),
    ],
)
def test_publications_are_limited_to_the_identitys_own_topics(topic: str, allowed: bool) -> None:
    assert namespace.allowed_publication(MODULE, topic) is allowed
