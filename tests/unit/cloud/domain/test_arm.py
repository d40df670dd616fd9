"""ARM vocabulary: resource names, subscription and group names, paging parameters and tokens."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import pytest

from ova.cloud.domain.arm import (
    ACCOUNT_NAME,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Page,
    check_name,
    check_scope,
    decode_skip_token,
    encode_skip_token,
    parse_page,
    system_data,
)
from ova.cloud.domain.resources import ENTITY_NAME, PIPELINE_NAME
from ova.common.errors import ValidationFailed

NAMES: list[tuple[re.Pattern[str], str, bool]] = [
    (ACCOUNT_NAME, "abc", True),
    (ACCOUNT_NAME, "a" * 24, True),
    (ACCOUNT_NAME, "cam2024", True),
    (ACCOUNT_NAME, "ab", False),
    (ACCOUNT_NAME, "a" * 25, False),
    (ACCOUNT_NAME, "Abc", False),
    (ACCOUNT_NAME, "a-b-c", False),
    (ACCOUNT_NAME, "abc\n", False),
    (ACCOUNT_NAME, "", False),
    (PIPELINE_NAME, "a", True),
    (PIPELINE_NAME, "Cam-1", True),
    (PIPELINE_NAME, "c" * 32, True),
    (PIPELINE_NAME, "c" * 33, False),
    (PIPELINE_NAME, "-cam", False),
    (PIPELINE_NAME, "cam-", False),
    (PIPELINE_NAME, "cam_1", False),
    (PIPELINE_NAME, "cam.1", False),
    (PIPELINE_NAME, "cam1\n", False),
    (ENTITY_NAME, "v", True),
    (ENTITY_NAME, "Lobby_cam.2021-10-05", True),
    (ENTITY_NAME, "v" * 260, True),
    (ENTITY_NAME, "v" * 261, False),
    (ENTITY_NAME, "_v", False),
    (ENTITY_NAME, "v.", False),
    (ENTITY_NAME, "v v", False),
    (ENTITY_NAME, "caf\u00e9", False),
    (ENTITY_NAME, "v\n", False),
]


@pytest.mark.parametrize(("pattern", "name", "valid"), NAMES, ids=[repr(n) for _, n, _ in NAMES])
def test_check_name(pattern: re.Pattern[str], name: str, valid: bool) -> None:
    if valid:
        check_name(name, pattern, "rule", "video")
        return
    with pytest.raises(ValidationFailed) as caught:
        check_name(name, pattern, "Use letters.", "video")
    assert caught.value.code == "InvalidResourceName"
    assert caught.value.message.endswith("Use letters.")


@pytest.mark.parametrize(
    ("subscription", "group", "code"),
    [
        ("00000000-0000-0000-0000-000000000001", "rg1", None),
        ("sub", "My_Group.(test)-1", None),
        ("sub", "g" * 90, None),
        ("sub!", "rg1", "InvalidSubscriptionId"),
        ("s" * 65, "rg1", "InvalidSubscriptionId"),
        ("sub\n", "rg1", "InvalidSubscriptionId"),
        ("sub", "g" * 91, "InvalidResourceGroupName"),
        ("sub", "rg.", "InvalidResourceGroupName"),
        ("sub", "rg/1", "InvalidResourceGroupName"),
        ("sub", "rg1\n", "InvalidResourceGroupName"),
        ("sub", "", "InvalidResourceGroupName"),
    ],
)
def test_check_scope(subscription: str, group: str, code: str | None) -> None:
    if code is None:
        check_scope(subscription, group)
        return
    with pytest.raises(ValidationFailed) as caught:
        check_scope(subscription, group)
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("top", "size"),
    [(None, DEFAULT_PAGE_SIZE), ("1", 1), ("25", 25), ("010", 10), (str(MAX_PAGE_SIZE), MAX_PAGE_SIZE)],
)
def test_parse_page_size(top: str | None, size: int) -> None:
    assert parse_page(top, None) == Page(size=size, after=None)


@pytest.mark.parametrize("top", ["0", "-1", "1001", "abc", "1.5", " 5", "5 ", "", "\u00b2", "\u0663", "1e3"])
def test_parse_page_refuses_bad_top(top: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_page(top, None)
    assert caught.value.target == "$top"


@pytest.mark.parametrize("name_key", ["a", "camera-1", "v" * 260, "lobby_cam.2021", "caf\u00e9"])
def test_skip_token_round_trip(name_key: str) -> None:
    token = encode_skip_token(name_key)

    assert re.fullmatch(r"[A-Za-z0-9_-]+", token), "URL-safe and unpadded"
    assert decode_skip_token(token) == name_key
    assert parse_page("5", token) == Page(size=5, after=name_key)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "!!!",
        "a",
        b64(b"not json"),
        b64(b"\xff\xfe"),
        b64(json.dumps(["a"]).encode()),
        b64(json.dumps({"after": 5}).encode()),
        b64(json.dumps({"before": "a"}).encode()),
        b64(json.dumps("a").encode()),
        b64(b"[" * 100_000),
        b64(b'{"after":' * 5_000),
    ],
    ids=lambda token: token[:16],
)
def test_decode_skip_token_refuses_garbage(token: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        decode_skip_token(token)
    assert caught.value.target == "$skipToken"


def test_system_data_is_iso_8601_utc() -> None:
    created = datetime(2021, 10, 5, 3, 30, tzinfo=UTC)
    modified = datetime(2021, 10, 6, 4, 0, 0, 500_000, tzinfo=UTC)

    assert system_data(created, "key:ops", modified, "key:ci") == {
        "createdBy": "key:ops",
        "createdByType": "Key",
        "createdAt": "2021-10-05T03:30:00Z",
        "lastModifiedBy": "key:ci",
        "lastModifiedByType": "Key",
        "lastModifiedAt": "2021-10-06T04:00:00.500000Z",
    }
