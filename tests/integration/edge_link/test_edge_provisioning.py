"""The provisioning handshake: a single-use token buys a module key and the policy (security matrix M4)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import jwt

from ova.auth.service_tokens import PROVISIONING
from ova.cloud.db.models import ProvisioningTokenRow
from ova.cloud.runtime import Cloud
from support.edge_api_client import Edge


async def test_a_handshake_answers_a_working_key_and_the_policy(edge: Edge, cloud: Cloud) -> None:
    token = await edge.token()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == f"{cloud.listeners[0][0].base_url()}/edge", "the token says where to shake hands"

    instance = await edge.instance()

    answer = instance.handshake
    assert answer["edgeModuleName"] == "edge1"
    assert answer["accountId"].endswith("/providers/Microsoft.Media/videoAnalyzers/acct1")
    assert answer["policy"]["maximumDisconnectedPeriod"] == "PT36H"
    telemetry = answer["policy"]["telemetry"]
    assert telemetry["enabled"] and telemetry["url"].endswith("/telemetry/v1/reports") and telemetry["key"]
    policy = await instance.call("GET", "/v1/policy")
    assert policy.status_code == 200, policy.text
    assert policy.json() == answer["policy"]


async def test_a_token_works_once(edge: Edge) -> None:
    token = await edge.token()
    assert (await edge.provision(token)).status_code == 200

    replay = await edge.provision(token, "instance-0002")

    assert replay.status_code == 401
    assert replay.json()["error"]["code"] == "InvalidToken"


async def test_two_racing_instances_get_exactly_one_key(edge: Edge) -> None:
    token = await edge.token()

    answers = await asyncio.gather(*(edge.provision(token, f"instance-{n:04d}") for n in range(4)))

    assert sorted(answer.status_code for answer in answers) == [200, 401, 401, 401]


async def test_an_expired_token_is_refused(edge: Edge) -> None:
    token = await edge.token(days=1)
    edge.clock.advance(timedelta(days=1, seconds=1))

    assert (await edge.provision(token)).status_code == 401


async def test_another_modules_token_is_refused(edge: Edge, cloud: Cloud) -> None:
    """A token whose jti is edge1's but whose edgeModuleId is edge2's gets neither module in."""
    real = jwt.decode(await edge.token("edge1"), options={"verify_signature": False})
    other = jwt.decode(await edge.token("edge2"), options={"verify_signature": False})
    forged_claims = {**real, "edgeModuleId": other["edgeModuleId"]}
    expires = edge.clock.now() + timedelta(days=1)
    forged = cloud.services.tokens.issue(PROVISIONING, forged_claims, expires)

    assert (await edge.provision(forged)).status_code == 401
    async with cloud.services.sessions() as session:
        row = await session.get(ProvisioningTokenRow, real["jti"])
        assert row is not None and row.consumed_at is None, "the refusal spent nothing"


async def test_a_deleted_modules_token_is_refused(edge: Edge) -> None:
    token = await edge.token()
    await edge.arm.ok("DELETE", "edgeModules/edge1")

    assert (await edge.provision(token)).status_code == 401


async def test_a_malformed_handshake_is_a_400_in_the_envelope(edge: Edge) -> None:
    response = await edge.client.post(
        "/edge/v1/provisioning", json={"provisioningToken": "x", "instanceId": "a"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["target"] == "instanceId"
