"""An in-memory identity registry implementing the gateway's ``DeviceAuthenticator``.

It verifies real SAS tokens (``ova.auth.iot_sas.verify``) against each identity's primary and
secondary keys, as the hub's registry does; ``revoke`` disables an identity and ``rotate``
replaces a key. ``calls`` counts authentications, so a test can see the registry untouched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ova.auth import iot_sas
from ova.contracts import iot_hub
from ova.hub.connect_auth import identity_of
from ova.hub.mqtt.codec import V311, Connect
from ova.hub.namespace import Identity

HOST = "hub.test"


@dataclass
class Record:
    primary: str = field(default_factory=iot_sas.new_key)
    secondary: str = field(default_factory=iot_sas.new_key)
    enabled: bool = True


class InMemoryIdentities:
    def __init__(self, host: str = HOST) -> None:
        self.host = host
        self.records: dict[Identity, Record] = {}
        self.calls = 0

    def add(self, device_id: str, module_id: str | None = None) -> Identity:
        identity = Identity(device_id, module_id)
        self.records[identity] = Record()
        return identity

    def revoke(self, identity: Identity) -> None:
        self.records[identity].enabled = False

    def rotate_primary(self, identity: Identity) -> None:
        self.records[identity].primary = iot_sas.new_key()

    async def authenticate(self, client_id: str, username: str, password: str, peer: str) -> Identity:
        self.calls += 1
        identity = identity_of(client_id)
        record = self.records.get(identity)
        if record is None or not record.enabled:
            raise iot_sas.InvalidSignature("The identity is unknown or disabled.")
        resource = iot_hub.sas_resource(self.host, identity.device_id, identity.module_id)
        keys = [record.primary, record.secondary]
        iot_sas.verify(password, keys, resource=resource, now=datetime.now(UTC))
        return identity

    def token(
        self, identity: Identity, *, key: str = "primary", ttl: float = 3600, of: Identity | None = None
    ) -> str:
        """A SAS token for ``identity`` signed with ``of``'s (default: its own) key."""
        record = self.records[of or identity]
        resource = iot_hub.sas_resource(self.host, identity.device_id, identity.module_id)
        expiry = int(time.time() + ttl)
        return iot_sas.sign(resource, record.primary if key == "primary" else record.secondary, expiry)

    def connect(
        self,
        identity: Identity,
        *,
        level: int = V311,
        clean: bool = True,
        keep_alive: int = 60,
        key: str = "primary",
        ttl: float = 3600,
        of: Identity | None = None,
    ) -> Connect:
        """The CONNECT an IoT Hub SDK sends for ``identity`` (its token signed with ``of``'s key)."""
        username = iot_hub.username(self.host, identity.device_id, identity.module_id)
        password = self.token(identity, key=key, ttl=ttl, of=of).encode()
        return Connect(identity.client_id, level, keep_alive, clean, username, password)
