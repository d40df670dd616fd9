"""ARM vocabulary shared by every management resource: ids, names, systemData, paging."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ova.common.clock import isoformat
from ova.common.errors import ValidationFailed

PROVIDER = "Microsoft.Media"
ACCOUNT_TYPE = f"{PROVIDER}/videoAnalyzers"
API_VERSION = "2021-11-01-preview"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
RESOURCE_GROUP_NAME = re.compile(r"^[-\w\._\(\)]{1,90}$")
SUBSCRIPTION_ID = re.compile(r"^[0-9A-Za-z-]{1,64}$")


@dataclass(frozen=True)
class Principal:
    """Who made a request, as ``systemData`` records it."""

    name: str
    type: str = "Key"


@dataclass(frozen=True)
class AccountScope:
    subscription_id: str
    resource_group: str
    name: str

    def arm_id(self) -> str:
        return (
            f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
            f"/providers/{ACCOUNT_TYPE}/{self.name}"
        )


def check_scope(subscription_id: str, resource_group: str) -> None:
    if not SUBSCRIPTION_ID.fullmatch(subscription_id):
        raise ValidationFailed("The subscription id is invalid.", code="InvalidSubscriptionId")
    if not RESOURCE_GROUP_NAME.fullmatch(resource_group) or resource_group.endswith("."):
        raise ValidationFailed("The resource group name is invalid.", code="InvalidResourceGroupName")


def check_name(name: str, pattern: re.Pattern[str], rule: str, kind: str) -> None:
    if not pattern.fullmatch(name):  # fullmatch: ``$`` alone lets a trailing newline through
        raise ValidationFailed(
            f"The {kind} name '{name[:64]}' is invalid. {rule}", code="InvalidResourceName"
        )


def system_data(
    created_at: datetime, created_by: str, modified_at: datetime, modified_by: str, by_type: str = "Key"
) -> dict[str, str]:
    return {
        "createdBy": created_by,
        "createdByType": by_type,
        "createdAt": isoformat(created_at),
        "lastModifiedBy": modified_by,
        "lastModifiedByType": by_type,
        "lastModifiedAt": isoformat(modified_at),
    }


@dataclass(frozen=True)
class Page:
    """``$top`` and the continuation position taken from ``$skipToken``."""

    size: int
    after: str | None


def parse_page(top: str | None, skip_token: str | None) -> Page:
    size = DEFAULT_PAGE_SIZE
    if top is not None:
        if not (top.isascii() and top.isdigit()) or not 1 <= int(top) <= MAX_PAGE_SIZE:
            raise ValidationFailed(f"$top must be an integer from 1 to {MAX_PAGE_SIZE}.", target="$top")
        size = int(top)
    return Page(size=size, after=decode_skip_token(skip_token) if skip_token else None)


def encode_skip_token(name_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": name_key}).encode()).decode().rstrip("=")


def decode_skip_token(token: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        value: Any = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, RecursionError) as exc:
        raise ValidationFailed("$skipToken is invalid.", target="$skipToken") from exc
    if not isinstance(value, dict) or not isinstance(value.get("after"), str):
        raise ValidationFailed("$skipToken is invalid.", target="$skipToken")
    after: str = value["after"]
    return after
