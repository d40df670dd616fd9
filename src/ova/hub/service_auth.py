"""Hub access policies and the IoT Hub service SAS that the service API accepts.

A service client (``azure-iot-hub``'s ``IoTHubRegistryManager``) sends ``Authorization:
SharedAccessSignature sr={host}&sig=…&se=…&skn={policy}``: ``sr`` is the hub's host name
(compared without case, with or without a ``:port``), ``skn`` a policy, the signature made with
either of the policy's keys; the token must be unexpired and live at most
``max_token_lifetime_s``. Each policy grants rights (IoT Hub's names): ``registryRead``,
``registryWrite`` (implies ``registryRead``) and ``serviceConnect`` (twins, direct methods,
device-to-cloud messages). Policy keys are sealed in the store like identity keys; a policy's
connection string is shown once, when it is created.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ova.auth import iot_sas
from ova.common.clock import Clock
from ova.contracts.iot_hub import ConnectionString
from ova.hub.errors import IdentityExists, ServiceForbidden, ServiceRequestInvalid, ServiceUnauthorized
from ova.hub.store import KeyWrapper, PolicyRow, key_context

MAX_TOKEN_LIFETIME_S = 366 * 24 * 3600
POLICY_NAME_LENGTH = 64


class Right(StrEnum):
    REGISTRY_READ = "registryRead"
    REGISTRY_WRITE = "registryWrite"
    SERVICE_CONNECT = "serviceConnect"


@dataclass(frozen=True)
class Policy:
    name: str
    rights: frozenset[Right]

    def allows(self, right: Right) -> bool:
        if right is Right.REGISTRY_READ and Right.REGISTRY_WRITE in self.rights:
            return True
        return right in self.rights


def parse_rights(text: str) -> frozenset[Right]:
    """``"registryRead, serviceConnect"`` (IoT Hub's spelling, case-insensitive) as rights."""
    known = {right.value.lower(): right for right in Right}
    rights = set()
    for part in text.replace(" ", "").split(","):
        if part.lower() not in known:
            raise ServiceRequestInvalid(f"Unknown right {part!r}; rights are {', '.join(Right)}.")
        rights.add(known[part.lower()])
    return frozenset(rights)


class ServiceAuthenticator:
    """Creates hub access policies and checks the service SAS of each request."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        keys: KeyWrapper,
        clock: Clock,
        host_name: str,
        *,
        max_token_lifetime_s: int = MAX_TOKEN_LIFETIME_S,
    ) -> None:
        self._sessions = sessions
        self._wrapper = keys
        self._clock = clock
        self._host = host_name.lower().split(":", 1)[0]
        self._host_name = host_name
        self._max_lifetime = max_token_lifetime_s

    async def create_policy(self, name: str, rights: Iterable[Right]) -> ConnectionString:
        """A new policy; its connection string (primary key) is returned only here."""
        if not name or len(name) > POLICY_NAME_LENGTH or not name.replace("-", "").replace("_", "").isalnum():
            raise ServiceRequestInvalid("A policy name is 1 to 64 letters, digits, '-' or '_'.")
        primary, secondary = iot_sas.new_key(), iot_sas.new_key()
        async with self._sessions.begin() as session:
            if await session.get(PolicyRow, name) is not None:
                raise IdentityExists(f"The policy {name} already exists.", code="PolicyAlreadyExists")
            session.add(
                PolicyRow(
                    name=name,
                    rights=",".join(sorted(Right(right).value for right in rights)),
                    primary_key=self._wrapper.seal(primary, key_context("policy", name, "primary")),
                    secondary_key=self._wrapper.seal(secondary, key_context("policy", name, "secondary")),
                    created_at=self._clock.now(),
                )
            )
        return ConnectionString(
            host_name=self._host_name, shared_access_key=primary, shared_access_key_name=name
        )

    async def authenticate(self, authorization: str | None) -> Policy:
        """The policy that signed ``authorization``; ``ServiceUnauthorized`` for anything else."""
        if not authorization:
            raise ServiceUnauthorized("The request has no Authorization header.")
        try:
            token = iot_sas.parse(authorization)
        except iot_sas.InvalidSignature:
            raise ServiceUnauthorized("The Authorization header is not a shared access signature.") from None
        host = token.resource.rstrip("/").lower().split(":", 1)[0]
        if host != self._host or "/" in token.resource.rstrip("/") or not token.key_name:
            raise ServiceUnauthorized("The shared access signature is not for this hub.")
        async with self._sessions() as session:
            row = await session.get(PolicyRow, token.key_name[:POLICY_NAME_LENGTH])
            if row is None:
                raise ServiceUnauthorized("The shared access signature is not valid.")
            keys = [
                self._wrapper.open(row.primary_key, key_context("policy", row.name, "primary")),
                self._wrapper.open(row.secondary_key, key_context("policy", row.name, "secondary")),
            ]
            rights = parse_rights(row.rights)
        try:
            iot_sas.verify(
                token, keys, resource=token.resource, now=self._clock.now(), max_lifetime_s=self._max_lifetime
            )
        except iot_sas.InvalidSignature:
            raise ServiceUnauthorized("The shared access signature is not valid.") from None
        return Policy(row.name, rights)


def require(policy: Policy, right: Right) -> None:
    if not policy.allows(right):
        raise ServiceForbidden(f"The policy {policy.name} lacks the {right.value} right.")
