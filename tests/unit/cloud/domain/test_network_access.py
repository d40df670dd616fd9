"""Which client addresses an account's ``publicNetworkAccess`` settings let in, per endpoint group."""

from __future__ import annotations

from ipaddress import ip_network
from typing import Any

import pytest

from ova.cloud.domain.network_access import (
    Group,
    NetworkAccessDenied,
    check,
    is_private,
    public_access_disabled,
)
from ova.cloud.settings import CloudSettings

DEFAULT_PRIVATE = CloudSettings().private_networks
G = Group


def account(public: str | None = None, **groups: str) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    if public is not None:
        properties["publicNetworkAccess"] = public
    if groups:
        properties["networkAccessControl"] = {g: {"publicNetworkAccess": v} for g, v in groups.items()}
    return {"properties": properties}


@pytest.mark.parametrize(
    ("document", "group", "disabled"),
    [
        ({}, G.CONSUMPTION, False),
        ({"properties": {"networkAccessControl": None}}, G.CONSUMPTION, False),
        (account(), G.CONSUMPTION, False),
        (account("Enabled"), G.CONSUMPTION, False),
        (account("Disabled"), G.CONSUMPTION, True),
        (account("Disabled"), G.INTEGRATION, True),
        (account(consumption="Disabled"), G.CONSUMPTION, True),
        (account(consumption="Disabled"), G.INTEGRATION, False),
        (account(consumption="Disabled"), G.INGESTION, False),
        (account(integration="Disabled", ingestion="Disabled"), G.CONSUMPTION, False),
        (account("Disabled", consumption="Enabled"), G.CONSUMPTION, False),
        (account("Disabled", consumption="Enabled"), G.INGESTION, True),
        (account("Enabled", consumption="Disabled"), G.CONSUMPTION, True),
    ],
)
def test_a_group_setting_wins_and_the_account_setting_fills_in(
    document: dict[str, Any], group: Group, disabled: bool
) -> None:
    assert public_access_disabled(document, group) is disabled


@pytest.mark.parametrize(
    ("host", "private"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("172.31.255.254", True),
        ("192.168.7.8", True),
        ("::1", True),
        ("fd12:3456::1", True),
        ("::ffff:10.0.0.5", True),
        ("172.32.0.1", False),
        ("203.0.113.5", False),
        ("8.8.8.8", False),
        ("169.254.169.254", False),
        ("2001:db8::5", False),
        ("fe80::1", False),
        ("::ffff:203.0.113.5", False),
        ("", False),
        (None, False),
        ("testclient", False),
        ("10.1.2.3.evil.example", False),
    ],
)
def test_only_addresses_inside_the_private_networks_count_as_private(host: str | None, private: bool) -> None:
    assert is_private(host, DEFAULT_PRIVATE) is private


def test_private_networks_are_whatever_the_settings_say() -> None:
    loopback_only = [ip_network("127.0.0.0/8")]
    assert is_private("127.0.0.1", loopback_only)
    assert not is_private("10.1.2.3", loopback_only)


@pytest.mark.parametrize(
    ("document", "host", "refused"),
    [
        (account(consumption="Disabled"), "203.0.113.5", True),
        (account(consumption="Disabled"), None, True),
        (account(consumption="Disabled"), "10.1.2.3", False),
        (account("Disabled"), "2001:db8::5", True),
        (account("Disabled"), "::1", False),
        (account(), "203.0.113.5", False),
        (account(integration="Disabled"), "203.0.113.5", False),
    ],
)
def test_check_refuses_public_clients_of_a_closed_group(
    document: dict[str, Any], host: str | None, refused: bool
) -> None:
    if not refused:
        check(document, G.CONSUMPTION, host, DEFAULT_PRIVATE)
        return
    with pytest.raises(NetworkAccessDenied) as caught:
        check(document, G.CONSUMPTION, host, DEFAULT_PRIVATE)
    assert (caught.value.status, caught.value.code) == (403, "NetworkAccessDenied")
    assert host is None or host not in caught.value.message
