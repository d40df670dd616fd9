"""IoT Hub shared access signatures: the form the official SDKs send, checked strictly."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from ova.auth import iot_sas
from ova.auth.iot_sas import InvalidSignature

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
KEY = base64.b64encode(b"k" * 32).decode()
OTHER = base64.b64encode(b"o" * 32).decode()
RESOURCE = "hub.example.net/devices/cam-gw/modules/avaedge"
LATER = int(NOW.timestamp()) + 600


def sdk_token(resource: str, key: str, expiry: int, key_name: str | None = None) -> str:
    """What azure-iot-device's SasToken builds (sastoken.py), written out independently."""
    encoded = quote(resource, safe="")
    digest = hmac.new(base64.b64decode(key), f"{encoded}\n{expiry}".encode(), hashlib.sha256).digest()
    sig = quote(base64.b64encode(digest).decode(), safe="")
    token = f"SharedAccessSignature sr={encoded}&sig={sig}&se={expiry}"
    return token + (f"&skn={key_name}" if key_name else "")


def test_signs_exactly_as_the_sdk_does() -> None:
    assert iot_sas.sign(RESOURCE, KEY, LATER) == sdk_token(RESOURCE, KEY, LATER)
    assert iot_sas.sign("h", KEY, LATER, "iothubowner") == sdk_token("h", KEY, LATER, "iothubowner")


def test_verifies_an_sdk_token_with_either_key_of_a_roll() -> None:
    token = sdk_token(RESOURCE, KEY, LATER)
    parsed = iot_sas.verify(token, [OTHER, KEY], resource=RESOURCE, now=NOW)
    assert (parsed.resource, parsed.expiry, parsed.key_name) == (RESOURCE, LATER, None)


def test_resource_compares_without_case_and_covers_what_is_below_it() -> None:
    token = iot_sas.sign("HUB.example.net", KEY, LATER, "service")
    assert iot_sas.verify(token, [KEY], resource="hub.example.net/devices/x", now=NOW).key_name == "service"


@pytest.mark.parametrize(
    ("token", "resource", "why"),
    [
        (iot_sas.sign(RESOURCE, OTHER, LATER), RESOURCE, "does not match"),
        (iot_sas.sign(RESOURCE, KEY, int(NOW.timestamp())), RESOURCE, "expired"),
        (iot_sas.sign("hub.example.net/devices/other", KEY, LATER), RESOURCE, "not for this resource"),
        (iot_sas.sign("hub.example.net/devices/cam", KEY, LATER), RESOURCE, "not for this resource"),
        ("SharedAccessSignature sr=a&se=1", RESOURCE, "malformed"),
        ("Bearer abc", RESOURCE, "malformed"),
        ("SharedAccessSignature sr=a&sig=b&se=12x", RESOURCE, "malformed"),
        ("SharedAccessSignature sr=a&sr=b&sig=c&se=1", RESOURCE, "malformed"),
        ("SharedAccessSignature sr=" + "a" * 3000, RESOURCE, "malformed"),
    ],
)
def test_refuses(token: str, resource: str, why: str) -> None:
    with pytest.raises(InvalidSignature, match=why):
        iot_sas.verify(token, [KEY], resource=resource, now=NOW)


def test_bounds_how_far_ahead_a_token_may_expire() -> None:
    token = iot_sas.sign(RESOURCE, KEY, int(NOW.timestamp()) + 7200)
    with pytest.raises(InvalidSignature, match="too long"):
        iot_sas.verify(token, [KEY], resource=RESOURCE, now=NOW, max_lifetime_s=3600)


def test_keys_are_base64_of_16_to_128_bytes() -> None:
    assert len(iot_sas.decode_key(iot_sas.new_key())) == 32
    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError):
            iot_sas.decode_key(bad)
    # a malformed key in the list is skipped, never an exception out of verify
    token = iot_sas.sign(RESOURCE, KEY, LATER)
    assert iot_sas.verify(token, ["???", KEY], resource=RESOURCE, now=NOW).expiry == LATER
