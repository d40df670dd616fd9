"""Video Analyzer accounts over the management API: names, scope, location, PATCH as an LRO."""

from __future__ import annotations

from typing import Any

import httpx

from ova.cloud.runtime import Cloud
from support.management import (
    GROUP,
    LOCATION,
    SUBSCRIPTION,
    Arm,
    Refused,
    account_body,
    account_path,
    arm_error,
    check_refused,
    dumps,
    with_version,
)

OTHER_SUBSCRIPTION = "00000000-0000-0000-0000-0000000000bb"
LOCATIONS = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Media/locations"


def account(name: str, group: str = GROUP, subscription: str = SUBSCRIPTION) -> str:
    return account_path(name, group, subscription)


BAD_NAMES = {
    "two-characters": "ab",
    "twenty-five-characters": "a" * 25,
    "uppercase": "Camera1",
    "dash": "my-account",
    "underscore": "my_account",
    "dot": "my.account",
    "non-ascii": "caf%C3%A9",
    "trailing-newline": "acct2%0A",
}

REFUSED = [
    *(
        Refused(f"name-{case}", "PUT", account(name), account_body(), code="InvalidResourceName")
        for case, name in BAD_NAMES.items()
    ),
    Refused("location-change", "PUT", "", account_body("eastus"), code="LocationCannotChange"),
    Refused("name-in-other-group", "PUT", account("acct1", "rg2"), account_body(), 409, "NameUnavailable"),
    Refused(
        "name-in-other-subscription",
        "PUT",
        account("acct1", subscription=OTHER_SUBSCRIPTION),
        account_body(),
        409,
        "NameUnavailable",
    ),
    Refused(
        "bad-resource-group", "PUT", account("acct2", "rg."), account_body(), code="InvalidResourceGroupName"
    ),
    Refused(
        "bad-subscription",
        "PUT",
        account("acct2", subscription="sub!"),
        account_body(),
        code="InvalidSubscriptionId",
    ),
    Refused("no-location", "PUT", account("acct2"), {"properties": {}}, target="location"),
    Refused(
        "location-not-a-string", "PUT", account("acct2"), {**account_body(), "location": 5}, target="location"
    ),
    Refused("tags-not-an-object", "PUT", account("acct2"), account_body(tags=["a"]), target="tags"),
    Refused("tag-value-not-a-string", "PUT", account("acct2"), account_body(tags={"a": 1}), target="tags.a"),
    Refused(
        "two-storage-accounts",
        "PUT",
        account("acct2"),
        {"location": LOCATION, "properties": {"storageAccounts": [{"id": "/a"}, {"id": "/b"}]}},
        target="properties.storageAccounts",
    ),
    Refused(
        "unknown-property",
        "PUT",
        account("acct2"),
        {"location": LOCATION, "properties": {"colour": "blue"}},
        target="properties.colour",
    ),
    Refused(
        "public-network-access-not-allowed-value",
        "PATCH",
        "",
        {"properties": {"publicNetworkAccess": "Sometimes"}},
        target="properties.publicNetworkAccess",
    ),
    Refused("patch-location", "PATCH", "", {"location": "eastus"}, target="location"),
    Refused("patch-tags-not-an-object", "PATCH", "", {"tags": "x"}, target="tags"),
    Refused("patch-unknown-account", "PATCH", account("nosuch"), {"tags": {}}, 404, "ResourceNotFound"),
    Refused("put-invalid-json", "PUT", account("acct2"), raw=b'{"location": ', target="body"),
    Refused("put-json-array", "PUT", account("acct2"), raw=dumps([account_body()]), target="body"),
    Refused("put-json-string", "PUT", account("acct2"), raw=b'"westus"', target="body"),
    Refused("put-empty-body", "PUT", account("acct2"), raw=b" ", target="body"),
    Refused("patch-invalid-json", "PATCH", "", raw=b"{tags: 1}", target="body"),
    Refused("patch-non-object", "PATCH", "", raw=b"null", target="body"),
    Refused("get-unknown-account", "GET", account("nosuch"), status=404, code="ResourceNotFound"),
    Refused("get-unknown-group", "GET", account("acct1", "rg2"), status=404, code="ResourceNotFound"),
]


async def test_refused_account_requests_change_nothing(arm: Arm, subtests: Any) -> None:
    await check_refused(arm, subtests, REFUSED)


async def test_put_creates_then_replaces(api: httpx.AsyncClient, cloud: Cloud) -> None:
    arm = Arm(api, cloud, account="store1")
    created = await arm.call("PUT", "", account_body(tags={"env": "test"}))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"] == account_path("store1")
    assert body["type"] == "Microsoft.Media/videoAnalyzers"
    assert body["location"] == LOCATION and body["tags"] == {"env": "test"}
    assert body["properties"]["provisioningState"] == "Succeeded"

    replaced = await arm.call("PUT", "", account_body(LOCATION.upper()))
    assert replaced.status_code == 200, replaced.text
    assert "tags" not in replaced.json(), "PUT replaces the whole resource"
    assert (await arm.get(""))["location"] == LOCATION


async def test_patch_is_a_finished_long_running_operation(arm: Arm) -> None:
    response = await arm.call("PATCH", "", {"tags": {"team": "video"}})

    assert response.status_code == 202, response.text
    assert response.json()["tags"] == {"team": "video"}
    status = await arm.client.get(response.headers["Azure-AsyncOperation"])
    assert status.status_code == 200, status.text
    assert status.json()["status"] == "Succeeded"
    result = await arm.client.get(response.headers["Location"])
    assert result.json()["tags"] == {"team": "video"}
    account_after = await arm.get("")
    assert account_after["tags"] == {"team": "video"}
    assert account_after["properties"]["storageAccounts"], "PATCH keeps what it does not mention"


async def test_unknown_operation_status_is_404(arm: Arm) -> None:
    path = f"{LOCATIONS}/{LOCATION}/videoAnalyzerOperationStatuses/nope"
    response = await arm.client.get(with_version(path))
    arm_error(response, 404, "OperationNotFound")


async def test_delete_removes_the_account_and_its_resources(arm: Arm) -> None:
    await arm.ok("PUT", "videos/v1", {"properties": {"title": "kept?"}})

    assert (await arm.call("DELETE", "")).status_code == 200
    assert (await arm.call("DELETE", "")).status_code == 204
    arm_error(await arm.call("GET", ""), 404)
    arm_error(await arm.call("GET", "videos/v1"), 404)

    await arm.create_account()
    assert await arm.list_all("videos") == []


NAME_AVAILABILITY = [
    ("freename", True, None),
    ("acct1", False, "AlreadyExists"),
    ("ACCT1", False, "Invalid"),
    ("ab", False, "Invalid"),
    ("acct1\n", False, "Invalid"),
    ("", False, "Invalid"),
]


async def test_check_name_availability(arm: Arm, subtests: Any) -> None:
    path = f"{LOCATIONS}/{LOCATION}/checkNameAvailability"
    for name, available, reason in NAME_AVAILABILITY:
        with subtests.test(msg=repr(name)):
            answer = await arm.ok("POST", path, {"name": name, "type": "Microsoft.Media/videoAnalyzers"})
            assert answer["nameAvailable"] is available
            assert answer.get("reason") == reason
