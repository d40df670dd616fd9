"""Wycheproof's invalid JWK keys offered as access-policy keys: 400 at creation (security.md J14).

The vectors' keys are copied into Video Analyzer's key shape field by field, as an operator
would; the management API must refuse each with 400 and store nothing. (The full vector
suite runs at unit level in tests/unit/auth/test_wycheproof.py.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ova.auth.token_key import ECC_KEY_TYPE, RSA_KEY_TYPE
from support.management import Arm, access_policy, arm_error

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
VECTORS = Path(__file__).parents[2] / "data" / "wycheproof" / "json_web_key_test.json"
REFUSED = ("keysize_too_small", "exponentOne", "invalid_point", "wrong_algorithm", "wrong_kty")


def policy_key(jwk: dict[str, Any]) -> dict[str, Any]:
    key_type = ECC_KEY_TYPE if jwk.get("kty") == "EC" else RSA_KEY_TYPE
    return {"@type": key_type, **{k: jwk[k] for k in ("kid", "alg", "n", "e", "x", "y") if k in jwk}}


def refused_keys() -> dict[str, dict[str, Any]]:
    groups = json.loads(VECTORS.read_text())["testGroups"]
    return {
        g["comment"]: policy_key(g["public"].get("keys", [g["public"]])[0])
        for g in groups
        if g["comment"] in REFUSED
    }


async def test_the_invalid_vector_keys_are_refused_with_400(arm: Arm) -> None:
    await arm.create_account()
    keys = refused_keys()
    assert sorted(keys) == sorted(REFUSED)

    for name, key in keys.items():
        response = await arm.call("PUT", f"accessPolicies/{name}", access_policy(key))
        arm_error(response, 400)
        arm_error(await arm.call("GET", f"accessPolicies/{name}"), 404)
