"""``$filter`` on the pipeline lists, through the management API."""

from __future__ import annotations

from support.management import Arm, live_pipeline


async def test_filter_live_pipelines_by_state(topologies: Arm) -> None:
    for name in ("a1", "a2", "b1"):
        await topologies.ok("PUT", f"livePipelines/{name}", live_pipeline(videoName=f"video-{name}"))
    await topologies.ok("POST", "livePipelines/a2/activate")

    active = await topologies.ok("GET", "livePipelines", **{"$filter": "properties/state eq 'Active'"})
    assert [item["name"] for item in active["value"]] == ["a2"]

    first = await topologies.ok(
        "GET", "livePipelines", **{"$filter": "properties/state eq 'Inactive'", "$top": "1"}
    )
    assert [item["name"] for item in first["value"]] == ["a1"]
    rest = (await topologies.client.get(first["@nextLink"])).json()
    assert [item["name"] for item in rest["value"]] == ["b1"]
    assert "@nextLink" not in rest


async def test_filter_topologies_by_kind(topologies: Arm) -> None:
    batch = await topologies.ok("GET", "pipelineTopologies", **{"$filter": "kind eq 'Batch'"})
    assert [item["name"] for item in batch["value"]] == ["batch"]


async def test_unsupported_filter_is_a_400(topologies: Arm) -> None:
    response = await topologies.call("GET", "livePipelines", **{"$filter": "properties/state ne 'Active'"})
    assert response.status_code == 400
    assert response.json()["error"]["target"] == "$filter"
