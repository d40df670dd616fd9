"""Edge modules and their provisioning tokens: issued over the API, redeemed once by the edge."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ova.auth.service_tokens import CONTENT, PROVISIONING, InvalidServiceToken
from ova.cloud.domain.kinds.edge_modules import redeem_provisioning_token
from ova.cloud.runtime import Cloud
from support.management import Arm, Refused, check_refused, dumps

TOKEN = "edgeModules/edge1/listProvisioningToken"


def in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat().replace("+00:00", "Z")


REFUSED = [
    Refused("name-leading-dash", "PUT", "edgeModules/-edge", {}, code="InvalidResourceName"),
    Refused("name-newline", "PUT", "edgeModules/edge2%0A", {}, code="InvalidResourceName"),
    Refused("writable-property", "PUT", "edgeModules/edge2", {"properties": {"x": 1}}, target="properties"),
    Refused("non-object-body", "PUT", "edgeModules/edge2", raw=b"[]", target="body"),
    Refused("patch", "PATCH", "edgeModules/edge1", {}, status=405),
    Refused("token-no-body", "POST", TOKEN, raw=b"", target="body"),
    Refused("token-invalid-json", "POST", TOKEN, raw=b'{"expirationDate": "2030-', target="body"),
    Refused("token-non-object", "POST", TOKEN, raw=dumps(in_days(7)), target="body"),
    Refused("token-no-expiration", "POST", TOKEN, {}, target="expirationDate"),
    Refused(
        "token-expiration-number", "POST", TOKEN, {"expirationDate": 1700000000}, target="expirationDate"
    ),
    Refused(
        "token-expiration-not-a-date", "POST", TOKEN, {"expirationDate": "next week"}, target="expirationDate"
    ),
    Refused("token-expiration-past", "POST", TOKEN, {"expirationDate": in_days(-1)}, target="expirationDate"),
    Refused(
        "token-expiration-now-ish", "POST", TOKEN, {"expirationDate": in_days(0)}, target="expirationDate"
    ),
    Refused(
        "token-expiration-too-far", "POST", TOKEN, {"expirationDate": in_days(366)}, target="expirationDate"
    ),
    Refused(
        "token-expiration-without-zone",
        "POST",
        TOKEN,
        {"expirationDate": in_days(7).removesuffix("Z")},
        target="expirationDate",
    ),
    Refused("token-unknown-field", "POST", TOKEN, {"expirationDate": in_days(7), "scope": "all"}),
    Refused(
        "token-unknown-module",
        "POST",
        "edgeModules/edge2/listProvisioningToken",
        {"expirationDate": in_days(7)},
        404,
    ),
]


async def test_refused_edge_module_requests_change_nothing(arm: Arm, subtests: Any) -> None:
    await arm.ok("PUT", "edgeModules/edge1")
    await check_refused(arm, subtests, REFUSED)


async def test_put_keeps_the_module_id(arm: Arm) -> None:
    created = await arm.call("PUT", "edgeModules/edge1")
    assert created.status_code == 201, created.text
    module_id = created.json()["properties"]["edgeModuleId"]

    again = await arm.call("PUT", "edgeModules/edge1", {"properties": {"edgeModuleId": "mine"}})

    assert again.status_code == 200
    assert again.json()["properties"]["edgeModuleId"] == module_id, "edgeModuleId is read-only"


async def issue(arm: Arm, name: str = "edge1", days: float = 7) -> tuple[str, datetime]:
    expiration = in_days(days)
    answer = await arm.ok("POST", f"edgeModules/{name}/listProvisioningToken", {"expirationDate": expiration})
    returned = datetime.fromisoformat(answer["expirationDate"].replace("Z", "+00:00"))
    assert returned == datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    return answer["token"], returned


async def redeem(cloud: Cloud, token: str, now: datetime | None = None) -> str:
    """The name of the edge module the token provisions (``InvalidServiceToken`` when it does not)."""
    async with cloud.services.sessions.begin() as session:
        row = await redeem_provisioning_token(session, cloud.services.tokens, token, now or datetime.now(UTC))
        return row.name


@pytest.fixture
async def edge(arm: Arm) -> Arm:
    await arm.ok("PUT", "edgeModules/edge1")
    return arm


async def test_a_token_redeems_once(edge: Arm, cloud: Cloud) -> None:
    token, _ = await issue(edge)

    assert await redeem(cloud, token) == "edge1"
    with pytest.raises(InvalidServiceToken):
        await redeem(cloud, token)


async def test_a_token_of_a_deleted_module_fails_even_after_recreation(edge: Arm, cloud: Cloud) -> None:
    token, _ = await issue(edge)
    await edge.ok("DELETE", "edgeModules/edge1")
    await edge.ok("PUT", "edgeModules/edge1")

    with pytest.raises(InvalidServiceToken):
        await redeem(cloud, token)
    fresh, _ = await issue(edge)
    assert await redeem(cloud, fresh) == "edge1"


async def test_an_expired_token_fails(edge: Arm, cloud: Cloud) -> None:
    token, expires = await issue(edge, days=1)

    with pytest.raises(InvalidServiceToken):
        await redeem(cloud, token, now=expires + timedelta(seconds=1))
    assert await redeem(cloud, token, now=expires - timedelta(seconds=1)) == "edge1", (
        "the failure used nothing up"
    )


async def test_content_and_provisioning_tokens_are_not_interchangeable(edge: Arm, cloud: Cloud) -> None:
    await edge.ok("PUT", "videos/v1", {"properties": {}})
    content = (await edge.ok("POST", "videos/v1/listContentToken"))["token"]
    provisioning, _ = await issue(edge)
    now = datetime.now(UTC)

    with pytest.raises(InvalidServiceToken):
        await redeem(cloud, content)
    with pytest.raises(InvalidServiceToken):
        cloud.services.tokens.verify(CONTENT, provisioning, now)
    assert cloud.services.tokens.verify(CONTENT, content, now)["sub"]
    assert cloud.services.tokens.verify(PROVISIONING, provisioning, now)["sub"].endswith("/edgeModules/edge1")


async def test_two_concurrent_redeems_let_exactly_one_through(edge: Arm, cloud: Cloud) -> None:
    token, _ = await issue(edge)

    results = await asyncio.gather(redeem(cloud, token), redeem(cloud, token), return_exceptions=True)

    assert sorted(type(result).__name__ for result in results) == ["InvalidServiceToken", "str"], results
