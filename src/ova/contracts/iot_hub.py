"""IoT Hub's device-side MQTT interface and connection strings, as the official SDKs speak them.

Topics a device or module uses (``{d}``/``{m}`` are its ids, never URL-encoded in topics):

- methods: subscribe ``$iothub/methods/POST/#``; a request arrives on
  ``$iothub/methods/POST/{name}/?$rid={rid}``; the answer goes to
  ``$iothub/methods/res/{status}/?$rid={rid}``.
- twin: subscribe ``$iothub/twin/res/#``; ``$iothub/twin/GET/?$rid={rid}`` asks for the whole twin
  (answered ``$iothub/twin/res/200/?$rid={rid}``, body ``{"desired": {...}, "reported": {...}}``);
  ``$iothub/twin/PATCH/properties/reported/?$rid={rid}`` patches reported properties (answered
  ``$iothub/twin/res/204/?$rid={rid}&$version={v}``); desired patches arrive on
  ``$iothub/twin/PATCH/properties/desired/?$version={v}`` after subscribing ``…/desired/#``.
- device-to-cloud: publish ``devices/{d}[/modules/{m}]/messages/events/{property bag}``, a module
  output named by the system property ``$.on``.
- module inputs: subscribe ``devices/{d}/modules/{m}/inputs/#``; messages arrive on
  ``devices/{d}/modules/{m}/inputs/{input}/{property bag}``.

A property bag is URL-encoded ``k=v&…``; system properties start with ``$.`` (``$.mid`` message
id, ``$.cid`` correlation id, ``$.ct`` content type, ``$.ce`` content encoding, ``$.on`` output).
MQTT username ``{host}/{d}[/{m}]/?api-version=…``, client id ``{d}[/{m}]``, password a SAS token.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode

API_VERSION = "2021-04-12"
METHODS_SUBSCRIBE = "$iothub/methods/POST/#"
TWIN_RESPONSES_SUBSCRIBE = "$iothub/twin/res/#"
TWIN_DESIRED_SUBSCRIBE = "$iothub/twin/PATCH/properties/desired/#"
MAX_PROPERTY_BAG = 8192
IDENTITY_ID = re.compile(r"^[A-Za-z0-9\-.%_*?!(),:=@$']{1,128}$")
"""Device and module ids IoT Hub allows (no ``/``, ``+`` or ``#``, so a topic level each)."""

_METHOD_REQUEST = re.compile(r"^\$iothub/methods/POST/([^/]{1,128})/\?\$rid=([^&/]{1,64})$")
_METHOD_RESPONSE = re.compile(r"^\$iothub/methods/res/(\d{3})/\?\$rid=([^&/]{1,64})$")
_TWIN_RESPONSE = re.compile(r"^\$iothub/twin/res/(\d{3})/\?(.{0,256})$")
_TWIN_REQUEST = re.compile(r"^\$iothub/twin/(GET|PATCH/properties/reported)/\?\$rid=([^&/]{1,64})$")
_TWIN_DESIRED = re.compile(r"^\$iothub/twin/PATCH/properties/desired/\?\$version=(\d{1,18})$")


class ConnectionStringError(ValueError):
    """A connection string that is not ``Key=value;…`` with the keys its kind needs."""


@dataclass(frozen=True)
class ConnectionString:
    """``HostName=…;DeviceId=…;ModuleId=…;SharedAccessKey=…`` (device or module), or
    ``HostName=…;SharedAccessKeyName=…;SharedAccessKey=…`` (service). ``GatewayHostName`` names
    the IoT Edge hub a module reaches instead of ``HostName``."""

    host_name: str
    shared_access_key: str
    device_id: str | None = None
    module_id: str | None = None
    shared_access_key_name: str | None = None
    gateway_host_name: str | None = None

    @classmethod
    def parse(cls, text: str) -> ConnectionString:
        fields: dict[str, str] = {}
        for part in text.strip().split(";"):
            if not part:
                continue
            key, sep, value = part.partition("=")
            if not sep or not value or key in fields:
                raise ConnectionStringError("A connection string is Key=value pairs separated by ';'.")
            fields[key] = value
        known = {
            "HostName",
            "DeviceId",
            "ModuleId",
            "SharedAccessKey",
            "SharedAccessKeyName",
            "GatewayHostName",
        }
        unknown = set(fields) - known
        if unknown:
            raise ConnectionStringError(f"Unknown connection string keys: {', '.join(sorted(unknown))}.")
        if "HostName" not in fields or "SharedAccessKey" not in fields:
            raise ConnectionStringError("A connection string needs HostName and SharedAccessKey.")
        if "DeviceId" not in fields and "SharedAccessKeyName" not in fields:
            raise ConnectionStringError("A connection string needs DeviceId (or SharedAccessKeyName).")
        return cls(
            host_name=fields["HostName"],
            shared_access_key=fields["SharedAccessKey"],
            device_id=fields.get("DeviceId"),
            module_id=fields.get("ModuleId"),
            shared_access_key_name=fields.get("SharedAccessKeyName"),
            gateway_host_name=fields.get("GatewayHostName"),
        )

    def __str__(self) -> str:
        pairs = [("HostName", self.host_name)]
        pairs += [("DeviceId", self.device_id)] if self.device_id else []
        pairs += [("ModuleId", self.module_id)] if self.module_id else []
        pairs += [("SharedAccessKeyName", self.shared_access_key_name)] if self.shared_access_key_name else []
        pairs += [("SharedAccessKey", self.shared_access_key)]
        pairs += [("GatewayHostName", self.gateway_host_name)] if self.gateway_host_name else []
        return ";".join(f"{key}={value}" for key, value in pairs)

    def __repr__(self) -> str:  # never print the key
        ids = f"device_id={self.device_id!r}, module_id={self.module_id!r}"
        return f"ConnectionString(host_name={self.host_name!r}, {ids})"


def sas_resource(host_name: str, device_id: str, module_id: str | None = None) -> str:
    """The ``sr`` of a device's or module's SAS token."""
    return f"{host_name}/devices/{device_id}" + (f"/modules/{module_id}" if module_id else "")


def client_id(device_id: str, module_id: str | None = None) -> str:
    return f"{device_id}/{module_id}" if module_id else device_id


def username(host_name: str, device_id: str, module_id: str | None = None) -> str:
    return f"{host_name}/{client_id(device_id, module_id)}/?api-version={API_VERSION}"


def topic_base(device_id: str, module_id: str | None = None) -> str:
    return f"devices/{device_id}" + (f"/modules/{module_id}" if module_id else "")


# Methods


def method_request_topic(method_name: str, rid: str) -> str:
    return f"$iothub/methods/POST/{method_name}/?$rid={rid}"


def parse_method_request(topic: str) -> tuple[str, str] | None:
    """``(method name, request id)`` of a method-request topic, or None."""
    match = _METHOD_REQUEST.match(topic)
    return (match[1], match[2]) if match else None


def method_response_topic(status: int, rid: str) -> str:
    return f"$iothub/methods/res/{status}/?$rid={rid}"


def parse_method_response(topic: str) -> tuple[int, str] | None:
    """``(status, request id)`` of a method-response topic, or None."""
    match = _METHOD_RESPONSE.match(topic)
    return (int(match[1]), match[2]) if match else None


# Twin


def twin_get_topic(rid: str) -> str:
    return f"$iothub/twin/GET/?$rid={rid}"


def twin_reported_topic(rid: str) -> str:
    return f"$iothub/twin/PATCH/properties/reported/?$rid={rid}"


def parse_twin_request(topic: str) -> tuple[str, str] | None:
    """``("GET" | "PATCH/properties/reported", request id)``, or None."""
    match = _TWIN_REQUEST.match(topic)
    return (match[1], match[2]) if match else None


def twin_response_topic(status: int, rid: str, version: int | None = None) -> str:
    return f"$iothub/twin/res/{status}/?$rid={rid}" + (f"&$version={version}" if version is not None else "")


def parse_twin_response(topic: str) -> tuple[int, str, int | None] | None:
    """``(status, request id, version)`` of a twin-response topic, or None."""
    match = _TWIN_RESPONSE.match(topic)
    if not match:
        return None
    fields = dict(parse_qsl(match[2]))
    rid, version = fields.get("$rid"), fields.get("$version")
    if rid is None:
        return None
    return int(match[1]), rid, int(version) if version and version.isdigit() else None


def twin_desired_topic(version: int) -> str:
    return f"$iothub/twin/PATCH/properties/desired/?$version={version}"


def parse_twin_desired(topic: str) -> int | None:
    match = _TWIN_DESIRED.match(topic)
    return int(match[1]) if match else None


# Messages


def events_topic(device_id: str, module_id: str | None, properties: Mapping[str, str]) -> str:
    """Where a device-to-cloud message goes; ``properties`` include system ones such as ``$.on``."""
    return f"{topic_base(device_id, module_id)}/messages/events/{encode_properties(properties)}"


def inputs_subscribe(device_id: str, module_id: str) -> str:
    return f"{topic_base(device_id, module_id)}/inputs/#"


def input_topic(device_id: str, module_id: str, input_name: str, properties: Mapping[str, str]) -> str:
    return f"{topic_base(device_id, module_id)}/inputs/{input_name}/{encode_properties(properties)}"


def parse_events_topic(topic: str, device_id: str, module_id: str | None) -> dict[str, str] | None:
    """The property bag of a device-to-cloud topic of this identity, or None when it is not one."""
    prefix = f"{topic_base(device_id, module_id)}/messages/events/"
    return decode_properties(topic[len(prefix) :]) if topic.startswith(prefix) else None


def parse_input_topic(topic: str, device_id: str, module_id: str) -> tuple[str, dict[str, str]] | None:
    """``(input name, property bag)`` of an input topic of this module, or None."""
    prefix = f"{topic_base(device_id, module_id)}/inputs/"
    if not topic.startswith(prefix):
        return None
    name, _, bag = topic[len(prefix) :].partition("/")
    properties = decode_properties(bag)
    return (name, properties) if name and properties is not None else None


def encode_properties(properties: Mapping[str, str]) -> str:
    return urlencode([(quote(k, safe="$."), v) for k, v in properties.items()], safe="$.", quote_via=quote)


def decode_properties(bag: str) -> dict[str, str] | None:
    """A property bag's pairs, or None when it is too long or malformed."""
    if len(bag) > MAX_PROPERTY_BAG:
        return None
    try:
        return dict(parse_qsl(bag, keep_blank_values=True, strict_parsing=bool(bag), max_num_fields=64))
    except ValueError:
        return None
