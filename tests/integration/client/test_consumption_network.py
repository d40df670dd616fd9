"""An account closed to public networks for consumption (client API and streaming).

``properties.networkAccessControl.consumption.publicNetworkAccess`` (or, when it says
nothing, the account-wide ``publicNetworkAccess``) decides whether viewers on public
addresses are served; the integration and ingestion groups never affect consumption.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from support.client_api import Tenant, available_media, bearer, content_token
from support.customer_issuer import CustomerIssuer
from support.management import account_body, arm_error

PUBLIC, PUBLIC_V6 = "203.0.113.5", "2001:db8::5"
PRIVATE = ("127.0.0.1", "10.1.2.3", "192.168.7.8", "::1")

# (row, account properties PATCHed in, whether a public viewer is refused)
SETTINGS: list[tuple[str, dict[str, Any], bool]] = [
    (
        "consumption disabled",
        {"networkAccessControl": {"consumption": {"publicNetworkAccess": "Disabled"}}},
        True,
    ),
    ("account-wide disabled", {"publicNetworkAccess": "Disabled"}, True),
    (
        "integration and ingestion disabled",
        {
            "networkAccessControl": {
                "integration": {"publicNetworkAccess": "Disabled"},
                "ingestion": {"publicNetworkAccess": "Disabled"},
            }
        },
        False,
    ),
    (
        "consumption enabled over account-wide disabled",
        {
            "publicNetworkAccess": "Disabled",
            "networkAccessControl": {"consumption": {"publicNetworkAccess": "Enabled"}},
        },
        False,
    ),
    ("nothing set", {}, False),
]


async def statuses(viewer: httpx.AsyncClient, tenant: Tenant, jwt: str, token: str) -> list[httpx.Response]:
    """Every consumption call a player makes, from ``viewer``'s address."""
    archive = await tenant.archive_url("lobby")
    return [
        await viewer.get(tenant.url("/videos"), headers=bearer(jwt)),
        await viewer.get(tenant.url("/videos/lobby"), headers=bearer(jwt)),
        await viewer.post(tenant.url("/videos/lobby/listContentToken"), headers=bearer(jwt)),
        await viewer.get(available_media(archive, token)),
    ]


async def test_public_viewers_are_refused_only_when_consumption_is_closed(
    viewer_at: Callable[[str], httpx.AsyncClient],
    tenant: Tenant,
    issuer: CustomerIssuer,
    subtests: pytest.Subtests,
) -> None:
    jwt = issuer.token(tenant.aud("/videos/*"))
    token = await content_token(viewer_at("127.0.0.1"), tenant, "lobby", jwt)
    for row, properties, refused in SETTINGS:
        await tenant.arm.ok("PUT", "", account_body())
        if properties:
            await tenant.arm.ok("PATCH", "", {"properties": properties})
        with subtests.test(msg=row):
            for host in (PUBLIC, PUBLIC_V6):
                for response in await statuses(viewer_at(host), tenant, jwt, token):
                    if refused:
                        arm_error(response, 403, "NetworkAccessDenied")
                    else:
                        assert response.status_code == 200, (host, response.text)
            for host in PRIVATE:
                for response in await statuses(viewer_at(host), tenant, jwt, token):
                    assert response.status_code == 200, (host, response.text)
