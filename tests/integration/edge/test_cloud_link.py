"""The edge module's client of the real cloud's edge family: handshake, saved state, key rotation,
connectivity, refusals."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from edge_world import World, running_world

from ova.common.clock import FrozenClock
from ova.common.errors import Forbidden, Unauthenticated
from ova.contracts.edge_api import PublishVideoRequest, RecordingStateChange
from ova.edge.cloud_link import CloudLink, CloudLinkSettings, token_issuer
from ova.edge.errors import CloudUnavailable
from ova.edge.module_state import STATE_FILE
from support.fault_proxy import Mode, fault


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


async def provisioned(world: World, data_dir: Path, module: str = "edge1") -> CloudLink:
    link = CloudLink(
        CloudLinkSettings(), data_dir, provisioning_token=await world.token(module), clock=world.clock
    )
    await link.start()
    return link


async def test_the_token_alone_is_enough_and_the_state_is_saved_privately(
    tmp_path: Path, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running_world(tmp_path, clock) as world:
        token = await world.token()
        assert token_issuer(token) == f"{world.proxy.url}/edge"
        link = CloudLink(CloudLinkSettings(), tmp_path / "edge", provisioning_token=token, clock=clock)
        state = await link.start()
        await link.close()
        assert state.edge_module_name == "edge1" and state.key is not None
        assert os.stat(tmp_path / "edge" / STATE_FILE).st_mode & 0o777 == 0o600

        again = CloudLink(CloudLinkSettings(), tmp_path / "edge", clock=clock)  # no token: the saved key
        assert (await again.start()).instance_id == state.instance_id
        publication = await again.publish_video("camera-1", PublishVideoRequest())
        await again.recording_state(
            "camera-1", RecordingStateChange(state="started", at="2026-12-04T00:00:00Z")
        )
        await again.close()
    assert publication.video_name == "camera-1" and publication.last_sequence == 0
    logged = caplog.text
    for secret in (token, state.key.key, publication.container_sas_url.partition("?")[2]):
        assert secret not in logged


async def test_a_spent_token_is_refused(tmp_path: Path, clock: FrozenClock) -> None:
    async with running_world(tmp_path, clock) as world:
        token = await world.token()
        first = CloudLink(CloudLinkSettings(), tmp_path / "a", provisioning_token=token, clock=clock)
        await first.start()
        second = CloudLink(CloudLinkSettings(), tmp_path / "b", provisioning_token=token, clock=clock)
        with pytest.raises(Unauthenticated):
            await second.start()
        await first.close()
        await second.close()


async def test_the_key_rotates_at_half_its_lifetime_and_is_saved_before_use(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with running_world(tmp_path, clock) as world:
        link = await provisioned(world, tmp_path / "edge")
        assert link.state is not None and link.state.key is not None
        old_key = link.state.key
        assert not link.key_due(clock.now())
        clock.advance(timedelta(days=16))  # past half of the default P30D
        assert link.key_due(clock.now())
        assert await link.maintain_once()  # rotates (the key is due) and refreshes the policy
        assert link.state.key is not None
        new_key = link.state.key
        await link.close()
        assert new_key.key_id != old_key.key_id

        restarted = CloudLink(CloudLinkSettings(), tmp_path / "edge", clock=clock)
        state = await restarted.start()
        assert state.key == new_key  # what the module uses after a crash is the new key
        assert not restarted.key_due(clock.now())
        assert (await restarted.refresh_policy()).maximum_disconnected_period == "PT36H"
        await restarted.close()


async def test_connectivity_counts_from_the_last_answer_even_a_refusal(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with running_world(tmp_path, clock) as world:
        link = await provisioned(world, tmp_path / "edge")
        other = await provisioned(world, tmp_path / "other", "edge2")
        await other.publish_video("theirs", PublishVideoRequest())
        await other.close()
        assert link.disconnected_for(clock.now()) == timedelta(0)
        assert link.maximum_disconnected_period == timedelta(hours=36)
        with fault(world.proxy, Mode.REFUSE):
            clock.advance(timedelta(hours=2))
            with pytest.raises(CloudUnavailable):
                await link.refresh_policy()
            assert link.disconnected_for(clock.now()) == timedelta(hours=2)
        with pytest.raises(Forbidden):  # edge2's video: refused, but the cloud answered
            await link.publish_video("theirs", PublishVideoRequest())
        assert link.disconnected_for(clock.now()) == timedelta(0)
        await link.close()


async def test_a_rotation_missed_while_offline_happens_once_back_and_the_old_key_still_works(
    tmp_path: Path, clock: FrozenClock
) -> None:
    async with running_world(tmp_path, clock) as world:
        link = await provisioned(world, tmp_path / "edge")
        assert link.state is not None
        old_key = link.state.key
        clock.advance(timedelta(days=20))  # rotation is due
        with fault(world.proxy, Mode.REFUSE):
            assert not await link.maintain_once()
        assert link.state.key == old_key  # nothing half-done
        with fault(world.proxy, Mode.DROP_RESPONSE, drop_matching="/v1/keys HTTP"):
            assert not await link.maintain_once()  # the cloud issued a key whose answer was lost
        assert link.state.key == old_key
        assert await link.maintain_once()  # the old key (within its grace) still gets in
        assert link.state.key != old_key
        assert (await link.publish_video("camera-1", PublishVideoRequest())).video_name == "camera-1"
        await link.close()


@pytest.mark.parametrize("skew", [timedelta(minutes=-10), timedelta(minutes=10), timedelta(hours=-3)])
async def test_a_module_whose_clock_is_off_still_signs_requests_the_cloud_accepts(
    tmp_path: Path, clock: FrozenClock, skew: timedelta
) -> None:
    """D11: requests are signed on the cloud's clock (every answer carries it), not the module's."""
    async with running_world(tmp_path, clock) as world:
        token = await world.token()
        edge_clock = FrozenClock(clock.now() + skew)
        link = CloudLink(CloudLinkSettings(), tmp_path / "edge", provisioning_token=token, clock=edge_clock)
        await link.start()
        await link.close()
        # A restart knows nothing of the offset: its first request is refused, re-signed and accepted.
        again = CloudLink(CloudLinkSettings(), tmp_path / "edge", clock=edge_clock)
        await again.start()
        policy = await again.refresh_policy()
        publication = await again.publish_video("camera-1", PublishVideoRequest())
        await again.close()
    assert policy.maximum_disconnected_period == "PT36H"
    assert publication.video_name == "camera-1"
