"""Hub access policies: rights as IoT Hub names them, and the service SAS check."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ova.auth import iot_sas
from ova.common.clock import FrozenClock
from ova.hub.errors import ServiceForbidden, ServiceRequestInvalid, ServiceUnauthorized
from ova.hub.service_auth import Policy, Right, ServiceAuthenticator, parse_rights, require
from support.hub_store import key_wrapper, open_store

HOST = "hub.example.net"


def test_registry_write_implies_read_but_not_service_connect() -> None:
    writer = Policy("writer", parse_rights("RegistryWrite"))
    require(writer, Right.REGISTRY_READ)
    with pytest.raises(ServiceForbidden):
        require(writer, Right.SERVICE_CONNECT)
    with pytest.raises(ServiceRequestInvalid):
        parse_rights("registryRead, deviceConnect")


async def test_the_service_signature_names_this_hub_and_a_policy_key(tmp_path: Path) -> None:
    engine, sessions = await open_store(tmp_path)
    auth = ServiceAuthenticator(sessions, key_wrapper(), FrozenClock(datetime.now(UTC)), HOST)
    try:
        created = await auth.create_policy("service", {Right.SERVICE_CONNECT})
        assert created.host_name == HOST and created.shared_access_key_name == "service"
        expiry = int(time.time()) + 600
        policy = await auth.authenticate(
            iot_sas.sign(f"{HOST}:443", created.shared_access_key, expiry, "service")
        )
        assert policy.rights == frozenset({Right.SERVICE_CONNECT})
        refused = [
            iot_sas.sign("evil.example.net", created.shared_access_key, expiry, "service"),
            iot_sas.sign(f"{HOST}/devices/d", created.shared_access_key, expiry, "service"),
            iot_sas.sign(HOST, created.shared_access_key, expiry),
            iot_sas.sign(HOST, created.shared_access_key, expiry + 400 * 24 * 3600, "service"),
            "Bearer abc",
            None,
        ]
        for header in refused:
            with pytest.raises(ServiceUnauthorized):
                await auth.authenticate(header)
    finally:
        await engine.dispose()
