"""How the hub keeps identities apart on one broker: every device topic lives under its identity.

A device or module speaks IoT Hub's topics (``$iothub/…``, ``devices/{d}/…``, see
``ova.contracts.iot_hub``), which name no identity for methods and twins. On the broker each
identity's topics sit under ``ova-hub/{deviceId}/{moduleId or $device}/``: the gateway prefixes
every topic a client subscribes or publishes to and strips the prefix from what it delivers, so
a client can only ever reach its own topics, whatever it sends. The hub's services subscribe
across identities with ``+`` wildcards (``service_filter``).

Only these device topics are allowed (``allowed_subscription`` / ``allowed_publication``):

- subscribe: ``$iothub/methods/POST/#``, ``$iothub/twin/res/#``,
  ``$iothub/twin/PATCH/properties/desired/#``, and the identity's own
  ``devices/{d}/modules/{m}/inputs/#`` (a module) or ``devices/{d}/messages/devicebound/#`` (a device);
- publish: ``$iothub/methods/res/{status}/?$rid=…``, ``$iothub/twin/GET/?$rid=…``,
  ``$iothub/twin/PATCH/properties/reported/?$rid=…`` and the identity's own
  ``devices/{d}[/modules/{m}]/messages/events/…``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ova.contracts import iot_hub

ROOT = "ova-hub"
DEVICE_LEVEL = "$device"
MAX_TOPIC_LENGTH = 1024
DEVICE_SUBSCRIPTIONS = (
    iot_hub.METHODS_SUBSCRIBE,
    iot_hub.TWIN_RESPONSES_SUBSCRIBE,
    iot_hub.TWIN_DESIRED_SUBSCRIBE,
)


@dataclass(frozen=True)
class Identity:
    """A device (``module_id`` None) or a module of one."""

    device_id: str
    module_id: str | None = None

    @property
    def client_id(self) -> str:
        return iot_hub.client_id(self.device_id, self.module_id)

    @property
    def prefix(self) -> str:
        return f"{ROOT}/{self.device_id}/{self.module_id or DEVICE_LEVEL}/"

    def __str__(self) -> str:
        return self.client_id


def to_broker(identity: Identity, device_topic: str) -> str:
    """The broker topic of a topic (or filter) as the device names it."""
    return identity.prefix + device_topic


def from_broker(broker_topic: str) -> tuple[Identity, str] | None:
    """``(identity, device topic)`` of a broker topic under the namespace, or None."""
    if not broker_topic.startswith(ROOT + "/"):
        return None
    parts = broker_topic.split("/", 3)
    if len(parts) != 4 or not parts[1] or not parts[2]:
        return None
    module = None if parts[2] == DEVICE_LEVEL else parts[2]
    return Identity(parts[1], module), parts[3]


def service_filter(device_topic_filter: str) -> str:
    """A broker filter matching ``device_topic_filter`` of every identity (for the hub's services)."""
    return f"{ROOT}/+/+/{device_topic_filter}"


def allowed_subscription(identity: Identity, topic_filter: str) -> bool:
    own = iot_hub.topic_base(identity.device_id, identity.module_id)
    inbox = f"{own}/inputs/#" if identity.module_id else f"{own}/messages/devicebound/#"
    allowed = (
        iot_hub.METHODS_SUBSCRIBE,
        iot_hub.TWIN_RESPONSES_SUBSCRIBE,
        iot_hub.TWIN_DESIRED_SUBSCRIBE,
        inbox,
    )
    return topic_filter in allowed


def allowed_publication(identity: Identity, topic: str) -> bool:
    if len(topic) > MAX_TOPIC_LENGTH or "+" in topic or "#" in topic or "\x00" in topic:
        return False
    if iot_hub.parse_method_response(topic) is not None or iot_hub.parse_twin_request(topic) is not None:
        return True
    return iot_hub.parse_events_topic(topic, identity.device_id, identity.module_id) is not None
