"""Video publishing: a module instance records only into its own videos (security matrix S8), through a
create-only container SAS."""

from __future__ import annotations

from ova.cloud.domain import segment_index
from ova.cloud.domain.segment_index import StoredSegment
from ova.cloud.runtime import Cloud
from ova.recording import archive_layout
from support.edge_api_client import Edge, Upload

CREATION = {
    "creation": {
        "title": "Lobby",
        "description": "Front door",
        "segmentLength": "PT30S",
        "retentionPeriod": "P7D",
    }
}


async def test_publishing_creates_the_video_and_answers_a_sas(edge: Edge) -> None:
    instance = await edge.instance()

    response = await instance.publish("lobby", CREATION)

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["videoName"] == "lobby" and answer["lastSequence"] == 0
    assert answer["segmentLength"] == "PT30S"
    assert "sp=c&" in answer["containerSasUrl"] or answer["containerSasUrl"].endswith("sp=c")
    video = await edge.arm.get("videos/lobby")
    assert video["properties"]["title"] == "Lobby"
    assert video["properties"]["archival"] == {"retentionPeriod": "P7D"}
    assert video["properties"]["type"] == "Archive"
    again = await instance.publish("lobby", CREATION)
    assert again.status_code == 200 and again.json()["videoId"] == answer["videoId"]
    renewed = await instance.call("POST", "/v1/videos/lobby/sas")
    assert renewed.status_code == 200 and renewed.json()["videoId"] == answer["videoId"]


async def test_another_modules_video_is_forbidden(edge: Edge) -> None:
    one, two = await edge.instance("edge1"), await edge.instance("edge2")
    assert (await one.publish("lobby")).status_code == 200

    for response in (
        await two.publish("lobby"),
        await two.call("POST", "/v1/videos/lobby/sas"),
        await two.call("POST", "/v1/videos/lobby/segments", {"segments": []}),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "VideoNotOwned"
        assert "containerSasUrl" not in response.text


async def test_another_instance_of_the_same_module_is_forbidden(edge: Edge) -> None:
    first = await edge.instance("edge1", "instance-0001")
    second = await edge.instance("edge1", "instance-0002")
    assert (await first.publish("lobby")).status_code == 200

    assert (await second.publish("lobby")).status_code == 403


async def test_a_video_the_cloud_records_is_forbidden(edge: Edge, cloud: Cloud) -> None:
    await edge.arm.ok("PUT", "videos/cloudcam", {"properties": {}})
    video = await edge.arm.get("videos/cloudcam")
    async with cloud.services.sessions.begin() as session:
        row_id = await video_row_id(cloud, "cloudcam")
        segment = StoredSegment(0, 2000, 1, archive_layout.segment_blob_name(0, 1), 10, "", "c0ffee01", False)
        await segment_index.add_segment(session, row_id, segment, cloud.services.clock.now())
    instance = await edge.instance()

    assert video["properties"]["type"] == "Archive"
    assert (await instance.publish("cloudcam")).status_code == 403


async def test_an_empty_video_an_operator_made_is_claimed(edge: Edge) -> None:
    await edge.arm.ok("PUT", "videos/prepared", {"properties": {"title": "Prepared"}})
    instance = await edge.instance()

    assert (await instance.publish("prepared")).status_code == 200
    assert (await (await edge.instance("edge2")).publish("prepared")).status_code == 403


async def test_the_sas_creates_only(edge: Edge) -> None:
    instance = await edge.instance()
    upload = Upload((await instance.publish("lobby")).json()["containerSasUrl"])
    segment = await upload.segment(edge.client, 1_700_000_000_000, 1)

    overwrite = await upload.put(edge.client, segment["blobName"], b"other bytes", archive_layout.M4S)
    read = await edge.client.get(upload.blob_url(segment["blobName"]))
    delete = await edge.client.delete(upload.blob_url(segment["blobName"]))

    assert overwrite.status_code in {409, 412}, overwrite.text
    assert read.status_code == 403, read.text
    assert delete.status_code == 403, delete.text


async def video_row_id(cloud: Cloud, name: str) -> str:
    from sqlalchemy import select

    from ova.cloud.db.models import ResourceRow

    async with cloud.services.sessions() as session:
        statement = select(ResourceRow.id).where(ResourceRow.kind == "videos", ResourceRow.name_key == name)
        return str((await session.execute(statement)).scalar_one())
