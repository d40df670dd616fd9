"""``CameraNetworks``: the networks an operator allows cameras on, and the check before connecting.

A source's host is resolved once; the connection goes to a resolved address that lies in an
allowed network, never to a name resolved again later (so DNS cannot point it elsewhere between
check and connect). Link-local and cloud-metadata addresses are outside the default on purpose.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass

from ova.media.errors import SourceRefused

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_CAMERA_NETWORKS: tuple[str, ...] = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "fc00::/7",
)
"""Loopback, the private ranges (RFC 1918), carrier-grade NAT and IPv6 unique-local addresses."""

Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


@dataclass(frozen=True)
class CameraNetworks:
    """An allow-list of networks (CIDR) that camera connections may reach."""

    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, cidrs: Iterable[str]) -> CameraNetworks:
        """Raises ``ValueError`` naming the first entry that is not a network."""
        networks = []
        for cidr in cidrs:
            try:
                networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
            except ValueError:
                raise ValueError(f"{cidr!r} is not a network in CIDR notation") from None
        return cls(tuple(networks))

    @classmethod
    def default(cls) -> CameraNetworks:
        return cls.parse(DEFAULT_CAMERA_NETWORKS)

    def allows(self, address: str | IPAddress) -> bool:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == network.version and ip in network for network in self.networks)

    async def resolve(self, host: str, port: int, resolver: Resolver | None = None) -> list[str]:
        """The allowed addresses of ``host``; ``SourceRefused`` when it has none.

        The message names the host but not the addresses it resolved to, so a refusal tells
        a caller nothing about the service's network that the caller did not already know.
        """
        addresses = await (resolver or _getaddrinfo)(host, port)
        allowed = [address for address in addresses if self.allows(address)]
        if not allowed:
            raise SourceRefused(f"the camera host {host!r} is not on a network allowed for cameras")
        return allowed


async def _getaddrinfo(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise SourceRefused(f"the camera host {host!r} could not be resolved") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))
