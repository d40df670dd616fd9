"""The identity binding at CONNECT (M1): client id, username and SAS token must name one identity."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ova.auth import iot_sas
from ova.contracts import iot_hub
from ova.hub import connect_auth
from ova.hub.errors import ConnectRefused
from ova.hub.mqtt import reason_codes as rc
from ova.hub.namespace import Identity
from support.hub_identities import InMemoryIdentities


@pytest.fixture
def identities() -> InMemoryIdentities:
    registry = InMemoryIdentities()
    registry.add("alice")
    registry.add("bob", "ova")
    return registry


@pytest.mark.parametrize(
    ("client_id", "identity"),
    [("alice", Identity("alice")), ("bob/ova", Identity("bob", "ova"))],
)
def test_a_client_id_names_a_device_or_a_module(client_id: str, identity: Identity) -> None:
    assert connect_auth.identity_of(client_id) == identity


@pytest.mark.parametrize("client_id", ["", "a/b/c", "a/", "/b", "a b", "dev#", "dev+"])
def test_other_client_ids_are_refused(client_id: str) -> None:
    with pytest.raises(ConnectRefused):
        connect_auth.identity_of(client_id)


async def test_a_matching_connect_is_admitted_until_its_token_expires(identities: InMemoryIdentities) -> None:
    module = Identity("bob", "ova")
    connect = identities.connect(module, ttl=600)
    admission = await connect_auth.admit(connect, identities, "127.0.0.1")
    assert admission.identity == module
    assert connect.password is not None
    assert admission.expires_at == iot_sas.parse(connect.password.decode()).expiry


async def test_each_mismatch_is_not_authorized_and_says_nothing_secret(
    identities: InMemoryIdentities,
) -> None:
    alice, bob = Identity("alice"), Identity("bob", "ova")
    good = identities.connect(alice)
    bad = [
        replace(good, client_id="bob/ova"),
        replace(good, username=iot_hub.username(identities.host, "bob", "ova")),
        replace(good, username="no-slash"),
        replace(good, password=identities.token(bob).encode()),
        replace(good, password=b"\xff\xfe"),
        replace(good, password=None),
        identities.connect(alice, of=bob),
    ]
    for connect in bad:
        with pytest.raises(ConnectRefused) as raised:
            await connect_auth.admit(connect, identities, "127.0.0.1")
        assert raised.value.reason == rc.NOT_AUTHORIZED
        assert (
            "sig=" not in raised.value.message
            and identities.records[alice].primary not in raised.value.message
        )


async def test_a_registry_answering_for_another_identity_is_not_trusted(
    identities: InMemoryIdentities,
) -> None:
    class Confused:
        async def authenticate(self, client_id: str, username: str, password: str, peer: str) -> Identity:
            return Identity("bob", "ova")

    with pytest.raises(ConnectRefused):
        await connect_auth.admit(identities.connect(Identity("alice")), Confused(), "127.0.0.1")
