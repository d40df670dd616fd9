"""Fixtures of the client and streaming family tests: a customer, its account, and its viewers.

``tenant`` is account ``acct1`` with videos ``lobby`` and ``garage`` and an access policy
``viewers`` that trusts the ``contoso`` issuer with the portal's default audience (the
resource-URL placeholder). ``viewer`` is an HTTP client *without* the operator key, as a
customer's browser would be. Settings differ per test through the ``cloud_settings``
marker, e.g. ``@pytest.mark.cloud_settings(client_api={"rate_limit_requests": 5})``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ova.cloud.runtime import Cloud
from ova.cloud.settings import CloudSettings
from support.client_api import Tenant, open_tenant
from support.customer_issuer import CustomerIssuer

# Generous, so that only the rate-limit tests ever meet the limit.
TEST_RATE_LIMIT = 1000
ViewerAt = Callable[[str], httpx.AsyncClient]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "cloud_settings(**fields): CloudSettings fields of this test's cloud (client_api={...})"
    )


@pytest.fixture
def cloud_settings(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> CloudSettings:
    marker = request.node.get_closest_marker("cloud_settings")
    fields: dict[str, Any] = dict(marker.kwargs) if marker else {}
    limits = {"rate_limit_requests": TEST_RATE_LIMIT, "failed_requests_per_address": TEST_RATE_LIMIT}
    client_api = {**limits, **fields.pop("client_api", {})}
    return CloudSettings(
        data_dir=tmp_path / "data", database_url=database_url, client_api=client_api, **fields
    )


@pytest.fixture(scope="session")
def issuer() -> CustomerIssuer:
    return CustomerIssuer.generate("contoso")


@pytest.fixture(scope="session")
def attacker() -> CustomerIssuer:
    """Keys nobody trusts, under ``contoso``'s key ids and issuer: forgeries that look right."""
    return CustomerIssuer.generate("contoso")


@pytest.fixture
async def bare_tenant(api: httpx.AsyncClient, cloud: Cloud) -> Tenant:
    """Account ``acct1`` with videos ``lobby`` and ``garage`` and no access policy."""
    tenant = await open_tenant(api, cloud, "acct1")
    for name in ("lobby", "garage"):
        await tenant.video(name)
    return tenant


@pytest.fixture
async def tenant(bare_tenant: Tenant, issuer: CustomerIssuer) -> Tenant:
    """``bare_tenant`` with the access policy ``viewers`` trusting ``issuer``."""
    await bare_tenant.arm.ok("PUT", "accessPolicies/viewers", issuer.policy())
    return bare_tenant


@pytest.fixture
async def viewer_at(cloud: Cloud) -> AsyncIterator[ViewerAt]:
    """Anonymous HTTP clients to the cloud's listener, each from the client address asked for."""
    listener, app = cloud.listeners[0]
    clients: list[httpx.AsyncClient] = []

    def connect(host: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(host, 40000), raise_app_exceptions=False)
        clients.append(httpx.AsyncClient(transport=transport, base_url=listener.base_url()))
        return clients[-1]

    yield connect
    for client in clients:
        await client.aclose()


@pytest.fixture
def viewer(viewer_at: ViewerAt) -> httpx.AsyncClient:
    """A customer's browser on the loopback network, with no credentials of its own."""
    return viewer_at("127.0.0.1")
