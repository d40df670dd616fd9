"""The device hub's errors.

Exception tree::

    HubError (OvaError)
    ├── ProtocolViolation (ValidationFailed)   a client broke MQTT or the hub's rules: the connection
    │   │                                      is closed (v5 clients first get DISCONNECT ``reason``)
    │   ├── MalformedPacket                    bad fixed header, remaining length or body (0x81)
    │   └── PacketTooLarge                     remaining length over the limit, body never read (0x95)
    ├── ConnectRefused (Unauthenticated)       CONNECT answered with a refusing CONNACK (``reason``)
    ├── BrokerUnavailable                      the broker behind the gateway cannot be reached
    └── ServiceError                           the IoT Hub service API's errors (``code`` is IoT Hub's
        │                                      ErrorCode, sent as ``{"Message": "ErrorCode:…;…"}``)
        ├── ServiceRequestInvalid (ValidationFailed)  400 ArgumentInvalid
        ├── ServiceUnauthorized (Unauthenticated)     401 IotHubUnauthorizedAccess
        ├── ServiceForbidden (Forbidden)              403 IotHubUnauthorizedAccess (rights)
        ├── IdentityNotFound (NotFound)               404 DeviceNotFound / ModuleNotFound
        ├── DeviceNotOnline (NotFound)                404 DeviceNotOnline (direct method)
        ├── IdentityExists (Conflict)                 409 DeviceAlreadyExists / ModuleAlreadyExistsOnDevice
        ├── PreconditionFailed                        412 PreconditionFailed (If-Match etag)
        ├── ServiceThrottled (TooManyRequests)        429 ThrottlingException
        └── MethodTimeout                             504 GatewayTimeout (no method response in time)

``reason`` is the MQTT 5 reason code (``ova.hub.mqtt.reason_codes``); the gateway maps it to the
3.1.1 return code itself.
Messages never carry keys, tokens or passwords.
"""

from __future__ import annotations

from ova.common.errors import (
    Conflict,
    Forbidden,
    NotFound,
    OvaError,
    TooManyRequests,
    Unauthenticated,
    ValidationFailed,
)
from ova.hub.mqtt.reason_codes import MALFORMED, NOT_AUTHORIZED, PACKET_TOO_LARGE, PROTOCOL_ERROR


class HubError(OvaError):
    """Root of the device hub's errors."""


class ProtocolViolation(HubError, ValidationFailed):
    default_code = "ProtocolViolation"

    def __init__(self, message: str, reason: int = PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.reason = reason


class MalformedPacket(ProtocolViolation):
    default_code = "MalformedPacket"

    def __init__(self, message: str) -> None:
        super().__init__(message, MALFORMED)


class PacketTooLarge(ProtocolViolation):
    default_code = "PacketTooLarge"

    def __init__(self, message: str) -> None:
        super().__init__(message, PACKET_TOO_LARGE)


class ConnectRefused(HubError, Unauthenticated):
    default_code = "ConnectRefused"

    def __init__(self, message: str, reason: int = NOT_AUTHORIZED) -> None:
        super().__init__(message)
        self.reason = reason


class BrokerUnavailable(HubError):
    status = 503
    default_code = "BrokerUnavailable"


# The IoT Hub service API's errors (task 2).


class ServiceError(HubError):
    """An error of the IoT Hub service API; ``code`` is IoT Hub's ``ErrorCode``."""


class ServiceRequestInvalid(ServiceError, ValidationFailed):
    status = 400
    default_code = "ArgumentInvalid"


class ServiceUnauthorized(ServiceError, Unauthenticated):
    status = 401
    default_code = "IotHubUnauthorizedAccess"


class ServiceForbidden(ServiceError, Forbidden):
    status = 403
    default_code = "IotHubUnauthorizedAccess"


class IdentityNotFound(ServiceError, NotFound):
    status = 404
    default_code = "DeviceNotFound"


class DeviceNotOnline(ServiceError, NotFound):
    status = 404
    default_code = "DeviceNotOnline"


class IdentityExists(ServiceError, Conflict):
    status = 409
    default_code = "DeviceAlreadyExists"


class PreconditionFailed(ServiceError):
    status = 412
    default_code = "PreconditionFailed"


class ServiceThrottled(ServiceError, TooManyRequests):
    status = 429
    default_code = "ThrottlingException"


class MethodTimeout(ServiceError):
    status = 504
    default_code = "GatewayTimeout"
