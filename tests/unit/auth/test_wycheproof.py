"""Wycheproof's JWS and JWK vectors against the customer-JWT verifier (security.md J12, J14).

Every case of ``json_web_signature_test.json`` is run through ``verify_signature`` (the JWS
layer of the access-policy evaluation; the vectors' payloads are not JWTs) with its group's
key in Video Analyzer's policy-key shape. The verdict must equal the vector's ``result``,
except where this verifier is deliberately stricter (``STRICTER``: algorithms the client API
never accepts), so a "valid" vector is refused for a stated reason. A group whose key no
policy can hold (``oct``) is run against every loadable key of the file under its ``kid``:
symmetric-confusion tokens must fail against any public key. An RSASSA-PSS group's key is
refused as a policy key (it cannot be PS*), so all its cases are refused.

The keys of ``json_web_key_test.json`` go through ``validate_policy_keys``, as the
management API does when a policy is created: the vectors' invalid keys (RSA 1024, e=1,
an off-curve point, an algorithm that is none or does not match the key type) must be
refused. (``wrong_curve`` declares ``crv: P-384`` for a P-256 point; policy keys have no
``crv``, the curve comes from ``alg``, so that mistake cannot be written down.)
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from ova.auth.customer_jwt import verify_signature
from ova.auth.errors import InvalidToken, InvalidTokenKey
from ova.auth.token_key import (
    ECC_KEY_TYPE,
    RSA_ALGORITHMS,
    RSA_KEY_TYPE,
    SUPPORTED_ALGORITHMS,
    TokenKey,
    load_token_key,
    validate_policy_keys,
)

DATA = Path(__file__).parents[2] / "data" / "wycheproof"
CURVE_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
Json = dict[str, Any]

STRICTER = {
    "HS": "HMAC is never accepted on the client API (RFC 8725 §3.1; policy keys are RSA or EC)",
    "PS": "RSASSA-PSS is not a Video Analyzer policy algorithm; each key has exactly one algorithm",
}
# Vectors whose verdict hangs on JWK metadata that policy keys do not have ("use", "key_ops").
# Policy keys are n/e or x/y with one alg: an encryption JWK copied into a policy key verifies.
LAXER = {
    353: "policy keys carry no use (enc)",
    354: "policy keys carry no use (enc)",
    355: "policy keys carry no key_ops (encrypt)",
    356: "policy keys carry no key_ops (encrypt)",
}


def vectors(name: str) -> Json:
    data: Json = json.loads((DATA / name).read_text())
    return data


def policy_key(jwk: Mapping[str, Any]) -> Json | None:
    """The JWK in Video Analyzer's policy-key shape, or None when no policy key can express it."""
    if jwk.get("kty") == "RSA" and jwk.get("alg", "RS256") in RSA_ALGORITHMS:
        alg = jwk.get("alg", "RS256")
        return {"@type": RSA_KEY_TYPE, "kid": jwk.get("kid", "k"), "alg": alg, "n": jwk["n"], "e": jwk["e"]}
    if jwk.get("kty") == "EC" and jwk.get("crv") in CURVE_ALGORITHMS:
        alg = CURVE_ALGORITHMS[jwk["crv"]]
        return {"@type": ECC_KEY_TYPE, "kid": jwk.get("kid", "k"), "alg": alg, "x": jwk["x"], "y": jwk["y"]}
    return None


def loadable_keys() -> list[TokenKey]:
    keys = []
    for group in vectors("json_web_signature_test.json")["testGroups"]:
        shaped = policy_key(group.get("public", {}))
        if shaped is not None:
            keys.append(load_token_key(shaped, "key"))
    return keys


def header_alg(jws: str) -> str:
    try:
        segment = jws.split(".")[0]
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
        return str(header.get("alg", "")) if isinstance(header, dict) else ""
    except ValueError:
        return ""


def jws_cases() -> Iterator[Any]:
    for group in vectors("json_web_signature_test.json")["testGroups"]:
        for case in group["tests"]:
            label = f"{group['comment']}-{case['tcId']}-{case['comment']}"
            marks = []
            reason = LAXER.get(case["tcId"])
            if reason:
                marks.append(pytest.mark.xfail(reason=reason, strict=True))
            yield pytest.param(group, case, id=label, marks=marks)


def verdict(jws: str, keys: list[TokenKey]) -> str:
    for key in keys:
        try:
            verify_signature(jws, key)
        except InvalidToken:
            continue
        return "valid"
    return "invalid"


@pytest.fixture(scope="module")
def every_key() -> list[TokenKey]:
    return loadable_keys()


@pytest.mark.parametrize(("group", "case"), list(jws_cases()))
def test_jws_vector(group: Json, case: Json, every_key: list[TokenKey]) -> None:
    public = group.get("public", {})
    shaped = policy_key(public)
    if public.get("kty") == "RSA" and shaped is None:  # PS*: no policy can hold such a key
        with pytest.raises(InvalidTokenKey):
            load_token_key({"@type": RSA_KEY_TYPE, **public}, "key")
        keys: list[TokenKey] = []
    elif shaped is None:  # oct: try it as a confusion attack on every policy key, under its kid
        kid = group["private"]["kid"]
        keys = [TokenKey(kid, key.alg, key.public_key) for key in every_key]
    else:
        keys = [load_token_key(shaped, "key")]
    expected = case["result"]
    alg = header_alg(case["jws"])
    if expected == "valid" and (alg[:2] in STRICTER or alg not in SUPPORTED_ALGORITHMS):
        expected = "invalid"  # refused for the STRICTER reason of its algorithm family
    assert verdict(case["jws"], keys) == expected


def test_the_suite_is_all_there() -> None:
    data = vectors("json_web_signature_test.json")
    assert sum(len(group["tests"]) for group in data["testGroups"]) == data["numberOfTests"] == 401


# --- J14: the keys themselves, as a policy would hold them ------------------------------------------

REFUSED_KEYS = {
    "keysize_too_small": "RSA 1024",
    "exponentOne": "e = 1",
    "invalid_point": "not on the curve",
    "wrong_algorithm": "ES521 is no algorithm",
    "invalid_algorithm": "ES224 is no algorithm",
    "wrong_kty": "kty does not match the key",
}


def jwk_groups() -> Iterator[Any]:
    for group in vectors("json_web_key_test.json")["testGroups"]:
        if group["comment"] in REFUSED_KEYS:
            yield pytest.param(group, id=f"{group['comment']}: {REFUSED_KEYS[group['comment']]}")


def as_written(jwk: Mapping[str, Any]) -> Json:
    """The JWK copied field by field into a policy key, algorithm and all (what an operator would do)."""
    key_type = ECC_KEY_TYPE if jwk.get("kty") == "EC" else RSA_KEY_TYPE
    fields = {name: jwk[name] for name in ("kid", "alg", "n", "e", "x", "y") if name in jwk}
    return {"@type": key_type, **fields}


@pytest.mark.parametrize("group", list(jwk_groups()))
def test_invalid_policy_keys_from_the_vectors_are_refused(group: Json) -> None:
    keys = group["public"].get("keys", [group["public"]])
    with pytest.raises(InvalidTokenKey):
        validate_policy_keys([as_written(jwk) for jwk in keys], "properties.authentication.keys")


def test_the_valid_rs256_key_of_the_key_vectors_is_accepted() -> None:
    group = next(g for g in vectors("json_web_key_test.json")["testGroups"] if g["comment"] == "rs256")
    (key,) = validate_policy_keys([as_written(group["public"]["keys"][0])], "keys")
    assert verify_signature(group["tests"][0]["jws"], key) == b"foo"
