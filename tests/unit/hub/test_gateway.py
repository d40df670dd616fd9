"""What the gateway tells the broker for a device: its own client id, the hub's credential,
namespaced will, and no topic aliases."""

from __future__ import annotations

from pydantic import SecretStr

from ova.hub.brokers import BrokerEndpoint
from ova.hub.gateway import Gateway, upstream_client_id
from ova.hub.mqtt import codec
from ova.hub.mqtt import properties as props
from ova.hub.namespace import Identity
from ova.hub.settings import HubMqttSettings
from support.hub_identities import InMemoryIdentities

BROKER = BrokerEndpoint("127.0.0.1", 1, "ova-hub", SecretStr("internal"), frozenset({4, 5}))


def test_the_upstream_connect_carries_the_hubs_credential_and_namespaced_will() -> None:
    identities = InMemoryIdentities()
    module = identities.add("edge", "ova")
    will = codec.Will("devices/edge/modules/ova/messages/events/", b"bye", 1)
    device_connect = identities.connect(module, level=codec.V5)
    device_connect = codec.Connect(
        device_connect.client_id,
        codec.V5,
        45,
        False,
        device_connect.username,
        device_connect.password,
        will,
        [(props.TOPIC_ALIAS_MAXIMUM, 10), (props.SESSION_EXPIRY, 600)],
    )
    gateway = Gateway(HubMqttSettings(), BROKER, identities)

    upstream = gateway._upstream_connect(module, device_connect)

    assert upstream.client_id == upstream_client_id(module) == "ova-hub/edge/ova"
    assert (upstream.username, upstream.password) == ("ova-hub", b"internal")
    assert upstream.will is not None and upstream.will.topic == "ova-hub/edge/ova/" + will.topic
    assert upstream.properties == [(props.SESSION_EXPIRY, 600)]
    assert (upstream.keep_alive, upstream.clean_start, upstream.level) == (45, False, codec.V5)


def test_a_device_without_a_module_gets_the_device_level() -> None:
    assert upstream_client_id(Identity("cam")) == "ova-hub/cam/$device"
