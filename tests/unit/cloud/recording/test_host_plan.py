"""What the pipeline host records: the camera and the video that activation resolved."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from ova.cloud.db.models import ResourceRow
from ova.cloud.recording.host import plan_for
from ova.cloud.runtime import Cloud
from support.management import Arm, live_pipeline, live_topology


async def test_a_video_named_after_the_pipeline_is_the_one_recorded(
    api: httpx.AsyncClient, cloud: Cloud
) -> None:
    arm = Arm(api, cloud)
    await arm.create_account()
    await arm.ok("PUT", "pipelineTopologies/live", live_topology(video_name="${System.PipelineName}-archive"))
    await arm.ok(
        "PUT", "livePipelines/gate", live_pipeline(rtspUrl="rtsp://127.0.0.1:9/gate", rtspPassword="p@ss")
    )
    await arm.ok("POST", "livePipelines/gate/activate")
    video = await arm.get("videos/gate-archive")

    async with cloud.services.sessions.begin() as session:
        pipeline = (await session.execute(select(ResourceRow).where(ResourceRow.name == "gate"))).scalar_one()
        plan = await plan_for(session, pipeline, None)

    assert plan is not None
    assert (
        plan.video_id.replace("-", "")
        == video["properties"]["contentUrls"]["archiveBaseUrl"].rsplit("/", 1)[1]
    )
    assert plan.camera_url == "rtsp://admin:p%40ss@127.0.0.1:9/gate"
    assert (plan.segment_ms, plan.bitrate_kbps) == (30_000, 1500)
