"""Module keys: every request signed, rotation with a grace period (D10), deleted modules locked out."""

from __future__ import annotations

from datetime import timedelta

from ova.auth import iot_sas
from support.edge_api_client import Edge, Instance


async def policy_status(instance: Instance, **auth: object) -> int:
    return (await instance.call("GET", "/v1/policy", **auth)).status_code


async def test_requests_without_a_valid_signature_are_refused(edge: Edge) -> None:
    instance = await edge.instance()
    other_key = iot_sas.new_key()

    assert await policy_status(instance) == 200
    assert await policy_status(instance, key=other_key) == 401
    assert await policy_status(instance, key_id="unknown-key") == 401
    assert await policy_status(instance, ahead_s=3700) == 401, "at most an hour ahead"
    assert await policy_status(instance, ahead_s=-1) == 401, "expired"
    bare = await edge.client.get("/edge/v1/policy")
    assert bare.status_code == 401 and bare.json()["error"]["code"] == "AuthenticationFailed"


async def test_a_signature_for_another_module_is_refused(edge: Edge) -> None:
    one, two = await edge.instance("edge1"), await edge.instance("edge2")
    expiry = int(edge.clock.now().timestamp()) + 600
    crossed = iot_sas.sign(two.edge_module_id, one.key, expiry, key_name=one.key_id)

    response = await edge.client.get("/edge/v1/policy", headers={"Authorization": crossed})

    assert response.status_code == 401


async def test_the_old_key_works_until_the_grace_period_ends(edge: Edge) -> None:
    instance = await edge.instance()
    old_id, old_key = instance.key_id, instance.key
    answer = await instance.rotate()
    assert answer["keyId"] != old_id and answer["key"] != old_key

    edge.clock.advance(timedelta(days=6, hours=23))
    assert await policy_status(instance, key_id=old_id, key=old_key) == 200, "within the 7-day grace"
    assert await policy_status(instance) == 200

    edge.clock.advance(timedelta(hours=2))
    assert await policy_status(instance, key_id=old_id, key=old_key) == 401, "grace over"
    assert await policy_status(instance) == 200


async def test_a_lost_rotation_answer_leaves_the_previous_key_working(edge: Edge) -> None:
    """D10: the module rotated, lost the answer and went offline; back within grace it rotates again."""
    instance = await edge.instance()
    old_id, old_key = instance.key_id, instance.key
    await instance.call("POST", "/v1/keys")  # the answer is lost
    edge.clock.advance(timedelta(days=3))

    instance.key_id, instance.key = old_id, old_key
    await instance.rotate()

    assert await policy_status(instance) == 200
    edge.clock.advance(timedelta(days=8))
    assert await policy_status(instance, key_id=old_id, key=old_key) == 401
    assert await policy_status(instance) == 200, "the newest key outlives every grace"


async def test_a_key_past_its_lifetime_is_refused(edge: Edge) -> None:
    instance = await edge.instance()
    edge.clock.advance(timedelta(days=30, seconds=1))

    assert await policy_status(instance) == 401


async def test_a_deleted_modules_keys_stop_at_once(edge: Edge) -> None:
    instance = await edge.instance()
    await edge.arm.ok("DELETE", "edgeModules/edge1")

    assert await policy_status(instance) == 401
    assert (await instance.publish("v1")).status_code == 401


async def test_a_second_handshake_of_the_instance_replaces_its_keys(edge: Edge) -> None:
    first = await edge.instance()
    second = await edge.instance()

    assert await policy_status(first) == 401
    assert await policy_status(second) == 200
