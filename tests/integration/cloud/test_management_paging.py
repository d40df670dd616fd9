"""Paging of management lists: ``$top``, ``@nextLink`` as an absolute URL, and bad paging input."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from support.management import (
    SUBSCRIPTION,
    Arm,
    Refused,
    account_body,
    account_path,
    check_refused,
    with_version,
)

ACCOUNTS = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Media/videoAnalyzers"


def skip_token(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


BAD_PAGING = {
    "top-zero": {"$top": "0"},
    "top-text": {"$top": "abc"},
    "top-negative": {"$top": "-1"},
    "top-fraction": {"$top": "1.5"},
    "top-over-1000": {"$top": "1001"},
    "top-superscript-two": {"$top": "\u00b2"},
    "top-arabic-indic-three": {"$top": "\u0663"},
    "skip-token-not-base64": {"$skipToken": "!!!"},
    "skip-token-array": {"$skipToken": skip_token(["v1"])},
    "skip-token-number-after": {"$skipToken": skip_token({"after": 5})},
    "skip-token-deeply-nested": {"$skipToken": base64.urlsafe_b64encode(b"[" * 5000).decode()},
}

REFUSED = [
    Refused(f"{where}-{case}", "GET", path, query=query, target=next(iter(query)))
    for where, path in (
        ("videos", "videos"),
        ("accounts", ACCOUNTS),
        ("group-accounts", account_path("")[:-1]),
    )
    for case, query in BAD_PAGING.items()
]


async def test_bad_paging_input_is_refused(arm: Arm, subtests: Any) -> None:
    await check_refused(arm, subtests, REFUSED)


async def pages(client: httpx.AsyncClient, first_url: str) -> list[list[str]]:
    """The item names of every page, following ``@nextLink`` with the same client."""
    result: list[list[str]] = []
    url: str | None = first_url
    while url is not None:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        result.append([item["name"] for item in body["value"]])
        url = body.get("@nextLink")
        if url is not None:
            assert url.startswith(str(client.base_url).rstrip("/") + "/"), "nextLink is an absolute URL"
            assert "%24top=2" in url or "$top=2" in url, "nextLink keeps $top"
    return result


async def test_next_link_walks_every_collection(arm: Arm, subtests: Any) -> None:
    for index in range(5):
        await arm.ok("PUT", f"videos/V{index}", {"properties": {}})
        await arm.ok("PUT", f"edgeModules/edge{index}")

    for collection, prefix in (("videos", "V"), ("edgeModules", "edge")):
        with subtests.test(msg=collection):
            walked = await pages(arm.client, arm.url(collection, **{"$top": "2"}))
            assert walked == [[f"{prefix}0", f"{prefix}1"], [f"{prefix}2", f"{prefix}3"], [f"{prefix}4"]]
    with subtests.test(msg="default page"):
        assert await pages(arm.client, arm.url("videos")) == [[f"V{index}" for index in range(5)]]
    with subtests.test(msg="lowercase $skiptoken"):
        first = (await arm.ok("GET", "videos", **{"$top": "4"}))["@nextLink"]
        token = httpx.URL(first).params["$skipToken"]
        rest = await arm.ok("GET", "videos", **{"$skiptoken": token})
        assert [item["name"] for item in rest["value"]] == ["V4"]


async def test_next_link_walks_accounts(api: httpx.AsyncClient) -> None:
    names = ["acct0", "acct1", "acct2"]
    for index, name in enumerate(names):
        group = "rg1" if index < 2 else "rg2"
        response = await api.put(with_version(account_path(name, group)), json=account_body())
        assert response.status_code == 201, response.text

    in_subscription = await pages(api, with_version(ACCOUNTS, **{"$top": "2"}))
    in_group = await pages(api, with_version(account_path("")[:-1], **{"$top": "2"}))

    assert in_subscription == [["acct0", "acct1"], ["acct2"]]
    assert in_group == [["acct0", "acct1"]]
