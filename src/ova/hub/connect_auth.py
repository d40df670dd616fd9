"""Who a CONNECT is: IoT Hub's identity binding between client id, username and SAS token (M1).

A device or module connects with client id ``{d}[/{m}]``, username
``{host}/{d}[/{m}]/?api-version=…`` and a SAS token for ``{host}/devices/{d}[/modules/{m}]`` as its
password. ``admit`` refuses (``ConnectRefused``, not authorized) unless all three name the same
identity *and* the ``DeviceAuthenticator`` (the identity registry) accepts the token. It
returns the identity and the token's expiry, at which the gateway closes the connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ova.auth import iot_sas
from ova.common.errors import OvaError
from ova.contracts import iot_hub
from ova.hub.errors import ConnectRefused
from ova.hub.mqtt.codec import Connect
from ova.hub.mqtt.reason_codes import NOT_AUTHORIZED
from ova.hub.namespace import Identity


class DeviceAuthenticator(Protocol):
    """The identity registry, as the gateway needs it."""

    async def authenticate(self, client_id: str, username: str, password: str, peer: str) -> Identity:
        """The identity whose valid SAS token ``password`` is; raises ``InvalidSignature`` or a hub
        error for a refusal (unknown, disabled or revoked identity, wrong or expired token)."""
        ...


@dataclass(frozen=True)
class Admission:
    identity: Identity
    expires_at: float
    """The SAS token's ``se`` (epoch seconds)."""


def identity_of(client_id: str) -> Identity:
    """The identity a client id ``{d}`` or ``{d}/{m}`` names; ``ConnectRefused`` for anything else."""
    parts = client_id.split("/")
    if not 1 <= len(parts) <= 2 or not all(iot_hub.IDENTITY_ID.match(part) for part in parts):
        raise ConnectRefused("The client id is not a device or module id.")
    return Identity(parts[0], parts[1] if len(parts) == 2 else None)


def _check_binding(identity: Identity, username: str, token: iot_sas.SasToken) -> None:
    host, _, rest = username.partition("/")
    if not host or not rest.startswith(identity.client_id + "/"):
        raise ConnectRefused("The username names another identity than the client id.")
    suffix = "/" + iot_hub.sas_resource("", identity.device_id, identity.module_id).lstrip("/")
    if not token.resource.rstrip("/").lower().endswith(suffix.lower()):
        raise ConnectRefused("The token is for another identity than the client id.")


async def admit(connect: Connect, authenticator: DeviceAuthenticator, peer: str) -> Admission:
    """The identity of a CONNECT the registry accepts; ``ConnectRefused`` otherwise."""
    identity = identity_of(connect.client_id)
    if connect.username is None or connect.password is None:
        raise ConnectRefused("A username and a SAS token are required.")
    try:
        password = connect.password.decode()
        token = iot_sas.parse(password)
    except (UnicodeDecodeError, iot_sas.InvalidSignature):
        raise ConnectRefused("The password is not a shared access signature.") from None
    _check_binding(identity, connect.username, token)
    try:
        accepted = await authenticator.authenticate(connect.client_id, connect.username, password, peer)
    except OvaError as refusal:
        raise ConnectRefused(f"The identity was refused: {refusal.code}.", NOT_AUTHORIZED) from None
    if accepted != identity:
        raise ConnectRefused("The registry accepted another identity than the client id.")
    return Admission(identity, float(token.expiry))
