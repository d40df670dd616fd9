"""What every management request shares: api-version, operator keys, unknown paths, the error envelope."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from ova.auth import api_key
from ova.cloud.domain import accounts
from ova.cloud.domain.operator_keys import create_key, revoke_key
from ova.cloud.runtime import Cloud
from support.management import (
    COLLECTIONS,
    SUBSCRIPTION,
    Arm,
    Refused,
    account_path,
    arm_error,
    check_refused,
    with_version,
)

OLD_VERSION = "2021-05-01-preview"
OPERATIONS = "/providers/Microsoft.Media/operations"

REFUSED = [
    *(
        Refused(f"{name}-{method}-{path or 'account'}", method, path, body, api_version=version, code=code)
        for name, version, code in (
            ("missing-version", None, "MissingApiVersionParameter"),
            ("old-version", OLD_VERSION, "InvalidApiVersionParameter"),
            ("empty-version", "", "InvalidApiVersionParameter"),
        )
        for method, path, body in (
            ("GET", "", None),
            ("PUT", "videos/v2", {"properties": {}}),
            ("DELETE", "videos/v1", None),
            ("POST", "videos/v1/listContentToken", None),
            ("GET", OPERATIONS, None),
        )
    ),
    Refused("unknown-path-in-family", "GET", f"/subscriptions/{SUBSCRIPTION}/whatever", status=404),
    Refused("unknown-root", "GET", "/nothing-here", status=404, code="NotFound"),
    Refused("method-not-allowed", "POST", "videos/v1", {}, status=405, code="MethodNotAllowed"),
    Refused("list-in-unknown-account", "GET", f"{account_path('nosuch')}/videos", status=404),
    Refused("delete-in-unknown-account", "DELETE", f"{account_path('nosuch')}/videos/v1", status=404),
    Refused("body-too-large", "PUT", "videos/v2", raw=b" " * (4 * 1024 * 1024 + 1), status=413),
    *(
        Refused(
            f"get-unknown-{collection}", "GET", f"{collection}/nosuch", status=404, code="ResourceNotFound"
        )
        for collection in COLLECTIONS
    ),
]


async def test_refused_requests_change_nothing(arm: Arm, subtests: Any) -> None:
    await arm.ok("PUT", "videos/v1", {"properties": {"title": "kept"}})
    await check_refused(arm, subtests, REFUSED)


async def test_deleting_what_does_not_exist_is_204(arm: Arm, subtests: Any) -> None:
    before = await arm.snapshot()
    paths = [*(f"{collection}/nosuch" for collection in COLLECTIONS), account_path("nosuch")]
    for path in paths:
        with subtests.test(msg=path):
            response = await arm.call("DELETE", path)
            assert (response.status_code, response.content) == (204, b"")
            assert await arm.snapshot() == before


async def test_provider_operations_list_every_resource_and_action(api: httpx.AsyncClient) -> None:
    response = await api.get(with_version(OPERATIONS))

    assert response.status_code == 200, response.text
    names = {operation["name"] for operation in response.json()["value"]}
    base = "Microsoft.Media/videoAnalyzers"
    for resource in (base, *(f"{base}/{collection}" for collection in COLLECTIONS)):
        assert {f"{resource}/read", f"{resource}/write", f"{resource}/delete"} <= names, resource
    assert {
        f"{base}/edgeModules/listProvisioningToken/action",
        f"{base}/videos/listContentToken/action",
        f"{base}/livePipelines/activate/action",
        f"{base}/livePipelines/deactivate/action",
        f"{base}/pipelineJobs/cancel/action",
    } <= names


@pytest.fixture
async def revoked_key(cloud: Cloud, anonymous: httpx.AsyncClient, arm: Arm) -> str:
    """A key that worked until it was revoked."""
    async with cloud.services.sessions.begin() as session:
        value = await create_key(session, cloud.services.clock, "soon revoked")
    headers = {"Authorization": f"Bearer {value}"}
    assert (await anonymous.get(arm.url(""), headers=headers)).status_code == 200
    parsed = api_key.parse(value)
    assert parsed is not None
    async with cloud.services.sessions.begin() as session:
        assert await revoke_key(session, cloud.services.clock, parsed.key_id)
    return value


def bad_credentials(operator_key: str, revoked_key: str) -> dict[str, str | None]:
    last = operator_key[-1]
    wrong_secret = operator_key[:-1] + ("A" if last != "A" else "B")
    return {
        "no-header": None,
        "basic-scheme": "Basic " + base64.b64encode(b"operator:" + operator_key.encode()).decode(),
        "empty-bearer": "Bearer ",
        "not-a-key": "Bearer hello",
        "key-without-scheme": operator_key,
        "unknown-key": f"Bearer {api_key.generate().value}",
        "wrong-secret": f"Bearer {wrong_secret}",
        "revoked-key": f"Bearer {revoked_key}",
        "oversized": "Bearer " + "a" * 9000,
    }


async def test_requests_without_a_valid_operator_key_get_401(
    arm: Arm, anonymous: httpx.AsyncClient, operator_key: str, revoked_key: str, subtests: Any
) -> None:
    before = await arm.snapshot()
    requests = [
        ("GET", arm.url(""), None),
        ("PUT", arm.url("videos/v9"), {"properties": {}}),
        ("DELETE", arm.url(""), None),
        (
            "GET",
            with_version(f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Media/videoAnalyzers"),
            None,
        ),
    ]
    for case, header in bad_credentials(operator_key, revoked_key).items():
        with subtests.test(msg=case):
            headers = {} if header is None else {"Authorization": header}
            for method, url, body in requests:
                response = await anonymous.request(method, url, json=body, headers=headers)
                arm_error(response, 401, "AuthenticationFailed")
                assert response.headers["WWW-Authenticate"].startswith("Bearer")
                assert operator_key.split("_")[-1] not in response.text
            assert await arm.snapshot() == before


async def test_unexpected_errors_hide_their_details(
    arm: Arm, cloud: Cloud, operator_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: Any) -> Any:
        raise RuntimeError("connection to db.internal:5432 failed for password hunter2")

    monkeypatch.setattr(accounts, "render", explode)
    listener, app = cloud.listeners[0]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"Bearer {operator_key}"}
    async with httpx.AsyncClient(
        transport=transport, base_url=listener.base_url(), headers=headers
    ) as client:
        response = await client.get(arm.url(""))

    error = arm_error(response, 500, "InternalServerError")
    assert "Correlation id" in error["message"]
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
