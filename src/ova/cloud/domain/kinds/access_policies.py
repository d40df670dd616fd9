"""Access policies: which customer-issued JWTs the client API accepts for an account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ova.auth.token_key import validate_policy_keys
from ova.cloud.db.models import ResourceRow
from ova.cloud.domain.resources import Document, KindContext, ResourceKind, register
from ova.contracts.arm_resources import AccessPolicyProperties
from ova.contracts.model_errors import parse_model

MAX_POLICIES = 20


class AccessPolicyKind(ResourceKind):
    collection = "accessPolicies"
    noun = "access policy"
    max_per_account = MAX_POLICIES

    async def prepare(
        self, ctx: KindContext, name: str, body: Mapping[str, Any], existing: ResourceRow | None
    ) -> Document:
        props = parse_model(AccessPolicyProperties, body.get("properties", {}), "properties")
        validate_policy_keys(props.authentication.keys, "properties.authentication.keys")
        return {"properties": props.model_dump(by_alias=True, exclude_none=True)}


KIND = register(AccessPolicyKind())
