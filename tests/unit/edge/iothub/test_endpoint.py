"""Where a module connects and as whom: HostName as written, host:port, GatewayHostName."""

from __future__ import annotations

import pytest

from ova.contracts import iot_hub
from ova.edge.iothub.endpoint import HubEndpoint, split_host_port

KEY = "c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA=="


def endpoint(text: str) -> HubEndpoint:
    return HubEndpoint.from_connection_string(iot_hub.ConnectionString.parse(text))


def test_iot_hub_defaults_to_8883() -> None:
    hub = endpoint(f"HostName=myhub.azure-devices.net;DeviceId=box;ModuleId=avaedge;SharedAccessKey={KEY}")
    assert (hub.connect_host, hub.port) == ("myhub.azure-devices.net", 8883)
    assert hub.client_id == "box/avaedge"
    assert hub.username == f"myhub.azure-devices.net/box/avaedge/?api-version={iot_hub.API_VERSION}"
    assert hub.sas_resource == "myhub.azure-devices.net/devices/box/modules/avaedge"


def test_host_port_extension_keeps_hostname_as_written() -> None:
    hub = endpoint(f"HostName=127.0.0.1:1883;DeviceId=box;ModuleId=avaedge;SharedAccessKey={KEY}")
    assert (hub.connect_host, hub.port) == ("127.0.0.1", 1883)
    assert hub.sas_resource == "127.0.0.1:1883/devices/box/modules/avaedge"


def test_gateway_is_where_it_connects() -> None:
    text = f"HostName=myhub.azure-devices.net;DeviceId=box;ModuleId=m;SharedAccessKey={KEY}"
    text += ";GatewayHostName=edgehub"
    hub = endpoint(text)
    assert (hub.connect_host, hub.port) == ("edgehub", 8883)
    assert hub.username.startswith("myhub.azure-devices.net/box/m/")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("h", ("h", 8883)),
        ("h:1", ("h", 1)),
        ("[::1]:9000", ("::1", 9000)),
        ("[::1]", ("::1", 8883)),
        ("::1", ("::1", 8883)),
    ],
)
def test_split_host_port(text: str, expected: tuple[str, int]) -> None:
    assert split_host_port(text) == expected


@pytest.mark.parametrize("text", ["h:0", "h:65536", "h:x", ":80"])
def test_bad_ports(text: str) -> None:
    with pytest.raises(iot_hub.ConnectionStringError):
        split_host_port(text)


def test_device_connection_string_is_not_a_module() -> None:
    with pytest.raises(iot_hub.ConnectionStringError, match="ModuleId"):
        endpoint(f"HostName=h;DeviceId=box;SharedAccessKey={KEY}")
    with pytest.raises(iot_hub.ConnectionStringError, match="identity"):
        HubEndpoint.build("h", "box/evil", "m")
