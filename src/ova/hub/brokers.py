"""The MQTT broker behind the gateway: the embedded amqtt one, or an external one from settings.

The gateway and the hub's services reach a broker through a ``BrokerEndpoint``: an address, the
hub's internal credential and the protocol levels it speaks. The embedded broker (amqtt 0.12.1)
listens on 127.0.0.1 only, on a free port, and accepts exactly one user, the hub's, with a random
password made at start and kept in memory (``InternalCredentialAuth``); it speaks MQTT 3.1.1 only,
so the gateway answers MQTT 5 CONNECTs itself with CONNACK 0x84 (unsupported protocol version).
Two amqtt quirks the gateway covers: a clean-session CONNECT does not close an older connection
of the same client id (the gateway closes it: one connection per identity, as IoT Hub), and after
a session is discarded the next persistent CONNECT still reports "session present" (with nothing
in it).
An external broker (Mosquitto, EMQX) is configured with its own password for ``broker_username``,
reached over plain TCP (``mqtt://``) or TLS 1.2+ (``mqtts://``, verified against ``broker_ca_file``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import ssl
from dataclasses import dataclass
from typing import Any

from amqtt.broker import Broker  # type: ignore[import-untyped]
from amqtt.plugins.base import BaseAuthPlugin  # type: ignore[import-untyped]
from pydantic import SecretStr

from ova.hub.errors import BrokerUnavailable
from ova.hub.mqtt.codec import V5, V311
from ova.hub.settings import HubMqttSettings

INTERNAL_USERNAME = "ova-hub"


@dataclass(frozen=True)
class BrokerEndpoint:
    """Where the broker listens and how the hub logs in to it."""

    host: str
    port: int
    username: str
    password: SecretStr
    levels: frozenset[int]
    """MQTT protocol levels the broker speaks (4: 3.1.1, 5: MQTT 5)."""
    tls: ssl.SSLContext | None = None
    """How to reach it over TLS (``mqtts://``); None for plain TCP."""


class InternalCredentialAuth(BaseAuthPlugin):  # type: ignore[misc]
    """amqtt authentication plugin admitting only the hub's internal user (constant-time check)."""

    @dataclass
    class Config:
        username: str = INTERNAL_USERNAME
        password_sha256: str = ""
        """Hex SHA-256 of the password; the password itself is never handed to amqtt."""

    async def authenticate(self, *, session: Any) -> bool:
        config = self.context.config
        presented = hashlib.sha256((session.password or "").encode()).hexdigest()
        user_ok = hmac.compare_digest((session.username or "").encode(), config.username.encode())
        return bool(config.password_sha256) and user_ok & hmac.compare_digest(
            presented, config.password_sha256
        )


class EmbeddedBroker:
    """amqtt in this process, on 127.0.0.1 and a free port."""

    def __init__(self) -> None:
        self._broker: Any = None
        self.endpoint: BrokerEndpoint | None = None

    async def start(self) -> BrokerEndpoint:
        password = secrets.token_urlsafe(32)
        digest = hashlib.sha256(password.encode()).hexdigest()
        plugin = f"{InternalCredentialAuth.__module__}.{InternalCredentialAuth.__qualname__}"
        config = {
            "listeners": {"default": {"type": "tcp", "bind": "127.0.0.1:0"}},
            "plugins": {plugin: {"username": INTERNAL_USERNAME, "password_sha256": digest}},
        }
        broker = Broker(config)
        try:
            await broker.start()
        except Exception as error:
            raise BrokerUnavailable("The embedded broker did not start.") from error
        self._broker = broker
        # amqtt keeps its asyncio servers in a private map; it is the only way to learn port 0's pick.
        port = broker._servers["default"].instance.sockets[0].getsockname()[1]
        self.endpoint = BrokerEndpoint(
            "127.0.0.1", port, INTERNAL_USERNAME, SecretStr(password), frozenset({V311})
        )
        return self.endpoint

    async def stop(self) -> None:
        if self._broker is not None:
            broker, self._broker = self._broker, None
            await broker.shutdown()


def external_endpoint(settings: HubMqttSettings) -> BrokerEndpoint:
    """The external broker of ``settings`` (which must name one)."""
    address = settings.external_broker
    if address is None or settings.broker_password is None:
        raise ValueError("an external broker needs broker = mqtt[s]://host:port and broker_password")
    host, port = address
    tls = None
    if settings.broker_tls:
        tls = ssl.create_default_context(cafile=settings.broker_ca_file)
        tls.minimum_version = ssl.TLSVersion.TLSv1_2
    levels = frozenset({V311, V5})
    return BrokerEndpoint(host, port, settings.broker_username, settings.broker_password, levels, tls)
