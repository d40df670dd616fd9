"""SAS tokens that authenticate a module at MQTT CONNECT.

``KeyCredential`` signs with the module's key (a connection string's ``SharedAccessKey``);
``edge_environment.WorkloadCredential`` has the IoT Edge workload API sign instead. Both build
the same token as ``ova.auth.iot_sas.sign``: HMAC-SHA256 over ``quote(sr, safe="") + "\\n" + se``.
"""

from __future__ import annotations

from typing import Protocol
from urllib.parse import quote

from ova.auth import iot_sas


class SasCredential(Protocol):
    async def token(self, resource: str, expiry: int) -> str:
        """A SAS token for ``resource`` valid until ``expiry`` (epoch seconds); never logged."""
        ...


class KeyCredential:
    """Signs with a base64 symmetric key held in memory."""

    def __init__(self, key_b64: str) -> None:
        iot_sas.decode_key(key_b64)  # ValueError now rather than at the first connection
        self._key = key_b64

    def __repr__(self) -> str:
        return "KeyCredential(<key>)"

    async def token(self, resource: str, expiry: int) -> str:
        return iot_sas.sign(resource, self._key, expiry)


def string_to_sign(resource: str, expiry: int) -> str:
    return f"{quote(resource, safe='')}\n{expiry}"


def assemble(resource: str, signature_b64: str, expiry: int) -> str:
    """The token text from a signature computed elsewhere (by an HSM or the workload API)."""
    sig = quote(signature_b64, safe="")
    return f"{iot_sas.PREFIX}sr={quote(resource, safe='')}&sig={sig}&se={expiry}"
