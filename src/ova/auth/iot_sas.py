"""IoT Hub's shared access signatures: ``SharedAccessSignature sr=…&sig=…&se=…[&skn=…]``.

The same token form authenticates a device or module at MQTT CONNECT (the password; ``sr`` is
``{host}/devices/{deviceId}[/modules/{moduleId}]``), a service client on the hub's REST API
(``sr`` is the host, ``skn`` the policy name) and an edge module on the edge-integration family
(``sr`` is the edge module id, ``skn`` the module key id). The signature is HMAC-SHA256, keyed
with the base64-decoded key, over ``quote(sr, safe="") + "\\n" + se``, as the official SDKs do.

``verify`` compares in constant time and bounds everything it reads.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, quote

from ova.common.errors import Unauthenticated

PREFIX = "SharedAccessSignature "
MAX_TOKEN_LENGTH = 2048
MAX_KEY_BYTES = 128


class InvalidSignature(Unauthenticated):
    default_code = "InvalidSignature"


@dataclass(frozen=True)
class SasToken:
    resource: str
    """``sr``, decoded."""
    signature: str
    """``sig``, decoded (base64 text)."""
    expiry: int
    """``se``, seconds since the epoch."""
    key_name: str | None = None
    """``skn``: the policy (service) or key id (edge module); None for device keys."""


def decode_key(key_b64: str) -> bytes:
    """A symmetric key from its base64 text; ``ValueError`` for anything else."""
    try:
        key = base64.b64decode(key_b64, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a key is base64 text") from None
    if not 16 <= len(key) <= MAX_KEY_BYTES:
        raise ValueError("a key is 16 to 128 bytes")
    return key


def new_key() -> str:
    """A fresh 256-bit symmetric key, base64 (as IoT Hub generates them)."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def signature(resource: str, expiry: int, key_b64: str) -> str:
    message = f"{quote(resource, safe='')}\n{expiry}".encode()
    digest = hmac.new(decode_key(key_b64), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def sign(resource: str, key_b64: str, expiry: int, key_name: str | None = None) -> str:
    """The token text for ``resource``, valid until ``expiry`` (epoch seconds)."""
    sig = quote(signature(resource, expiry, key_b64), safe="")
    token = f"{PREFIX}sr={quote(resource, safe='')}&sig={sig}&se={expiry}"
    return token + (f"&skn={quote(key_name, safe='')}" if key_name else "")


def parse(token: str) -> SasToken:
    """The fields of a token, or ``InvalidSignature`` when it is not one."""
    if len(token) > MAX_TOKEN_LENGTH or not token.startswith(PREFIX):
        raise InvalidSignature("The shared access signature is malformed.")
    fields: dict[str, str] = {}
    for key, value in parse_qsl(token[len(PREFIX) :], keep_blank_values=True, max_num_fields=8):
        if key in fields:
            raise InvalidSignature("The shared access signature is malformed.")
        fields[key] = value
    resource, sig, expiry = fields.get("sr"), fields.get("sig"), fields.get("se", "")
    if not resource or not sig or not expiry.isascii() or not expiry.isdigit() or len(expiry) > 12:
        raise InvalidSignature("The shared access signature is malformed.")
    return SasToken(resource, sig, int(expiry), fields.get("skn"))


def verify(
    token: str | SasToken,
    keys: Iterable[str],
    *,
    resource: str,
    now: datetime,
    max_lifetime_s: int | None = None,
) -> SasToken:
    """The token when one of ``keys`` signed it for ``resource`` (or a resource below it) and it has
    not expired (nor expires further ahead than ``max_lifetime_s``); ``InvalidSignature`` otherwise.

    ``resource`` comparison ignores case and a trailing slash, as IoT Hub does.
    """
    parsed = parse(token) if isinstance(token, str) else token
    wanted = resource.rstrip("/").lower()
    claimed = parsed.resource.rstrip("/").lower()
    if claimed != wanted and not wanted.startswith(claimed + "/"):
        raise InvalidSignature("The shared access signature is not for this resource.")
    seconds = now.timestamp()
    if parsed.expiry <= seconds:
        raise InvalidSignature("The shared access signature has expired.")
    if max_lifetime_s is not None and parsed.expiry - seconds > max_lifetime_s:
        raise InvalidSignature("The shared access signature lives too long.")
    presented = parsed.signature.encode()
    matched = False
    for key in keys:
        try:
            expected = signature(parsed.resource, parsed.expiry, key).encode()
        except ValueError:
            continue
        matched |= hmac.compare_digest(expected, presented)
    if not matched:
        raise InvalidSignature("The shared access signature does not match.")
    return parsed
