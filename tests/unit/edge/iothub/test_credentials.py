"""Tokens for MQTT CONNECT: signed with the key, or assembled from a signature made elsewhere."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime

import pytest

from ova.auth import iot_sas
from ova.edge.iothub.credentials import KeyCredential, assemble, string_to_sign

KEY = iot_sas.new_key()
RESOURCE = "myhub.azure-devices.net/devices/box/modules/avaedge"


async def test_key_credential_signs_what_iot_hub_verifies() -> None:
    token = await KeyCredential(KEY).token(RESOURCE, 2_000_000_000)
    parsed = iot_sas.verify(token, [KEY], resource=RESOURCE, now=datetime(2030, 1, 1, tzinfo=UTC))
    assert parsed.expiry == 2_000_000_000 and parsed.key_name is None
    assert KEY not in repr(KeyCredential(KEY))


def test_assembled_token_equals_the_signed_one() -> None:
    digest = hmac.new(base64.b64decode(KEY), string_to_sign(RESOURCE, 123).encode(), hashlib.sha256).digest()
    assert assemble(RESOURCE, base64.b64encode(digest).decode(), 123) == iot_sas.sign(RESOURCE, KEY, 123)


def test_a_key_that_is_not_base64_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="base64"):
        KeyCredential("not a key!")
