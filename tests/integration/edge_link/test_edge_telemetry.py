"""The telemetry family: reports need the pre-shared key, the summary needs an operator key."""

from __future__ import annotations

import os
import stat
from typing import Any

import httpx

from ova.cloud.runtime import Cloud
from support.edge_api_client import Edge, Instance


def report(instance: Instance, **counts: Any) -> dict[str, Any]:
    return {
        "edgeModuleId": instance.edge_module_id,
        "instanceId": instance.instance_id,
        "moduleVersion": "1.0.0",
        "periodStart": "2026-12-04T10:00:00Z",
        "periodEnd": "2026-12-04T11:00:00Z",
        "activeLivePipelines": counts.get("pipelines", 1),
        "segmentsRecorded": counts.get("recorded", 10),
        "segmentsUploaded": counts.get("uploaded", 9),
        "bytesUploaded": counts.get("bytes", 9000),
        "dataDropped": counts.get("dropped", 0),
        "cacheBytes": 512,
        "errors": {"MediaSessionError": 1},
    }


async def send(edge: Edge, body: Any, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    return await edge.client.post("/telemetry/v1/reports", json=body, headers=headers)


async def test_reports_are_summed_per_module(edge: Edge, api: httpx.AsyncClient) -> None:
    instance = await edge.instance()
    key = instance.handshake["policy"]["telemetry"]["key"]

    first = await send(edge, report(instance, pipelines=2), key)
    second = await send(edge, report(instance, pipelines=1, uploaded=1, bytes=100, dropped=3), key)
    summary = await api.get("/telemetry/v1/summary")

    assert (first.status_code, second.status_code) == (204, 204), first.text
    assert summary.status_code == 200, summary.text
    [module] = summary.json()["value"]
    assert module["edgeModuleId"] == instance.edge_module_id
    assert module["reports"] == 2 and module["activeLivePipelines"] == 1
    assert module["totals"] == {
        "segmentsRecorded": 20,
        "segmentsUploaded": 10,
        "bytesUploaded": 9100,
        "dataDropped": 3,
    }
    assert module["lastReport"]["instanceId"] == instance.instance_id


async def test_a_wrong_key_is_refused(edge: Edge) -> None:
    instance = await edge.instance()
    key = instance.handshake["policy"]["telemetry"]["key"]

    assert (await send(edge, report(instance), key + "x")).status_code == 401
    assert (await send(edge, report(instance), None)).status_code == 401
    assert (await send(edge, report(instance), instance.key)).status_code == 401, "a module key is not it"


async def test_the_summary_needs_an_operator_key(edge: Edge, cloud: Cloud) -> None:
    instance = await edge.instance()
    key = instance.handshake["policy"]["telemetry"]["key"]

    for headers in ({}, {"Authorization": f"Bearer {key}"}):
        response = await edge.client.get("/telemetry/v1/summary", headers=headers)
        assert response.status_code == 401, response.text


async def test_reports_are_bounded_and_from_known_instances(edge: Edge) -> None:
    instance = await edge.instance()
    key = instance.handshake["policy"]["telemetry"]["key"]
    unknown = {**report(instance), "instanceId": "instance-9999"}
    too_big = {**report(instance), "moduleVersion": "1" * 40_000}

    assert (await send(edge, unknown, key)).status_code == 404
    assert (await send(edge, too_big, key)).status_code == 413
    assert (await send(edge, {**report(instance), "cameraUrl": "rtsp://x"}, key)).status_code == 400


async def test_the_generated_key_is_private(cloud: Cloud) -> None:
    path = cloud.settings.data_dir / "keys" / "telemetry-psk"

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(path.read_text().strip()) >= 32
