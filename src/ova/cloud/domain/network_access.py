"""An account's ``networkAccessControl``: which endpoint groups refuse public networks.

Groups, as in the original: integration = the edge family, ingestion = the device hub,
consumption = the client and streaming families. A group is closed to public networks
when its own ``publicNetworkAccess`` is ``Disabled``, or, when it sets nothing, when the
account-wide ``publicNetworkAccess`` is ``Disabled``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from ipaddress import ip_address
from typing import Any

from ova.cloud.settings import Network
from ova.common.errors import Forbidden


class Group(StrEnum):
    INTEGRATION = "integration"
    INGESTION = "ingestion"
    CONSUMPTION = "consumption"


class NetworkAccessDenied(Forbidden):
    default_code = "NetworkAccessDenied"


def public_access_disabled(account_document: Mapping[str, Any], group: Group) -> bool:
    properties = account_document.get("properties", {})
    control = (properties.get("networkAccessControl") or {}).get(group.value) or {}
    setting = control.get("publicNetworkAccess") or properties.get("publicNetworkAccess") or "Enabled"
    return bool(setting == "Disabled")


def is_private(client_host: str | None, private_networks: Sequence[Network]) -> bool:
    """Whether ``client_host`` (IPv4-mapped IPv6 unwrapped) lies in one of the networks."""
    if not client_host:
        return False
    try:
        address = ip_address(client_host)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in private_networks)


def check(
    account_document: Mapping[str, Any],
    group: Group,
    client_host: str | None,
    private_networks: Sequence[Network],
) -> None:
    """Raise ``NetworkAccessDenied`` when the account closes ``group`` to the client's network."""
    if public_access_disabled(account_document, group) and not is_private(client_host, private_networks):
        raise NetworkAccessDenied("Public network access to this account is disabled.")
