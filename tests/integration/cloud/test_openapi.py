"""The committed OpenAPI documents (docs/openapi/<family>.json) match what the code serves."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from ova.cloud import openapi
from ova.cloud.runtime import build
from ova.cloud.settings import CloudSettings, Family, ListenerSettings
from support.listeners import serving

COMMITTED = Path(__file__).parents[3] / "docs" / "openapi"
REGENERATE = "run `make openapi` (.venv/bin/python -m ova.cloud.openapi docs/openapi) and commit the result"


async def test_committed_documents_match_the_code() -> None:
    documents = await openapi.documents()

    assert set(documents) == {family.value for family in Family}
    assert {path.stem for path in COMMITTED.glob("*.json")} == set(documents), REGENERATE
    stale = [
        f"docs/openapi/{family}.json"
        for family, document in sorted(documents.items())
        if (COMMITTED / f"{family}.json").read_text() != openapi.render(document)
    ]
    assert not stale, f"{', '.join(stale)} out of date with the code: {REGENERATE}"


def test_the_generator_writes_every_family(tmp_path: Path) -> None:
    assert openapi.main([str(tmp_path)]) == 0
    assert {path.name for path in tmp_path.iterdir()} == {f"{family.value}.json" for family in Family}
    assert json.loads((tmp_path / "management.json").read_text())["openapi"].startswith("3.")


@pytest.fixture
async def listener(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    cloud = await build(CloudSettings(data_dir=tmp_path / "data", listeners=[ListenerSettings(port=0)]))
    try:
        async with (
            serving(cloud) as [port],
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client,
        ):
            yield client
    finally:
        await cloud.close()


async def test_the_listener_serves_the_committed_management_document(listener: httpx.AsyncClient) -> None:
    response = await listener.get("/openapi/management.json")

    assert response.status_code == 200
    committed = json.loads((COMMITTED / "management.json").read_text())
    assert response.json() == committed, f"docs/openapi/management.json is stale: {REGENERATE}"


async def test_an_unknown_family_document_is_404(listener: httpx.AsyncClient) -> None:
    response = await listener.get("/openapi/nope.json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"


@pytest.mark.parametrize("family", [family.value for family in Family])
def test_committed_documents_are_valid_openapi(family: str) -> None:
    validate(json.loads((COMMITTED / f"{family}.json").read_text()))


def test_management_documents_request_bodies() -> None:
    document = json.loads((COMMITTED / "management.json").read_text())
    operations = {
        operation["operationId"]: operation
        for path_item in document["paths"].values()
        for operation in path_item.values()
    }
    body = operations["LivePipelines_CreateOrUpdate"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["properties"] == {"$ref": "#/components/schemas/LivePipelineProperties"}
    assert "bitrateKbps" in document["components"]["schemas"]["LivePipelineProperties"]["properties"]
    assert "CloudTopology" in document["components"]["schemas"]
