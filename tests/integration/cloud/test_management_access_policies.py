"""Access policies over the management API: token keys that must not be stored, and the quota."""

from __future__ import annotations

from typing import Any

from support.management import (
    Arm,
    P,
    Refused,
    access_policy,
    arm_error,
    check_refused,
    ec_key,
    rsa_key,
)

KEYS = "properties.authentication.keys"


def without(key: dict[str, Any], field: str) -> dict[str, Any]:
    return {name: value for name, value in key.items() if name != field}


def authentication(**changes: Any) -> dict[str, Any]:
    body = access_policy()
    body["properties"]["authentication"].update(changes)
    return body


BAD_KEYS = [
    ("rsa-1024-bits", [rsa_key(bits=1024)], f"{KEYS}[0].n"),
    ("rsa-exponent-1", [rsa_key(e=1)], f"{KEYS}[0].e"),
    ("rsa-even-exponent", [rsa_key(e=65536)], f"{KEYS}[0].e"),
    ("ec-point-off-curve", [ec_key(y_delta=1)], f"{KEYS}[0]"),
    ("rsa-key-with-es256", [rsa_key(alg="ES256")], f"{KEYS}[0].alg"),
    ("ec-key-with-rs256", [ec_key(alg="RS256", curve_alg="ES256")], f"{KEYS}[0].alg"),
    ("p256-point-with-es384", [ec_key(alg="ES384", curve_alg="ES256")], f"{KEYS}[0].x"),
    ("rsa-without-kid", [without(rsa_key(), "kid")], f"{KEYS}[0].kid"),
    ("ec-with-empty-kid", [ec_key(kid="")], f"{KEYS}[0].kid"),
    ("duplicate-kid", [rsa_key(kid="k"), ec_key(kid="k")], f"{KEYS}[1].kid"),
    ("unknown-key-type", [{**rsa_key(), "@type": f"{P}HmacTokenKey"}], f"{KEYS}[0].@type"),
    ("n-not-base64", [{**rsa_key(), "n": "not base64!"}], f"{KEYS}[0].n"),
    ("no-keys", [], KEYS),
]

REFUSED = [
    *(
        Refused(
            f"key-{case}",
            "PUT",
            "accessPolicies/p2",
            access_policy(*keys) if keys else authentication(keys=[]),
        )
        for case, keys, _ in BAD_KEYS
    ),
    *(
        Refused(f"patch-key-{case}", "PATCH", "accessPolicies/p1", authentication(keys=keys), target=target)
        for case, keys, target in BAD_KEYS
    ),
    Refused(
        "authentication-type",
        "PUT",
        "accessPolicies/p2",
        authentication(**{"@type": f"{P}CertificateAuthentication"}),
        target="properties.authentication.@type",
    ),
    Refused(
        "role-writer",
        "PUT",
        "accessPolicies/p2",
        {"properties": {**access_policy()["properties"], "role": "Writer"}},
    ),
    Refused("no-authentication", "PUT", "accessPolicies/p2", {"properties": {"role": "Reader"}}),
    Refused(
        "issuers-not-a-list",
        "PUT",
        "accessPolicies/p2",
        authentication(issuers="https://x"),
        target="properties.authentication.issuers",
    ),
    Refused("keys-not-objects", "PUT", "accessPolicies/p2", authentication(keys=["k"]), target=f"{KEYS}[0]"),
    Refused("name-leading-dash", "PUT", "accessPolicies/-p2", access_policy(), code="InvalidResourceName"),
    Refused("get-unknown-policy", "GET", "accessPolicies/p2", status=404, code="ResourceNotFound"),
]


async def test_refused_access_policy_requests_change_nothing(arm: Arm, subtests: Any) -> None:
    await arm.ok("PUT", "accessPolicies/p1", access_policy(rsa_key(), ec_key()))
    await check_refused(arm, subtests, REFUSED)


async def test_key_problems_are_reported_at_the_key(arm: Arm, subtests: Any) -> None:
    for case, keys, target in BAD_KEYS:
        with subtests.test(msg=case):
            response = await arm.call("PUT", "accessPolicies/p2", authentication(keys=keys))
            error = arm_error(response, 400, target=target)
            assert error["code"] in {"InvalidTokenKey", "InvalidRequest"}


async def test_policy_keeps_its_keys(arm: Arm) -> None:
    keys = [rsa_key(alg="RS512"), ec_key(alg="ES384"), ec_key(kid="ec-2", alg="ES512")]

    created = await arm.call("PUT", "accessPolicies/reader", access_policy(*keys))

    assert created.status_code == 201, created.text
    assert created.json()["properties"]["authentication"]["keys"] == keys
    assert (await arm.get("accessPolicies/reader"))["properties"]["role"] == "Reader"


async def test_twenty_first_policy_exceeds_the_quota(arm: Arm, subtests: Any) -> None:
    for index in range(20):
        await arm.ok("PUT", f"accessPolicies/p{index}", access_policy())

    await check_refused(
        arm, subtests, [Refused("21st", "PUT", "accessPolicies/p20", access_policy(), code="QuotaExceeded")]
    )
    replaced = await arm.call("PUT", "accessPolicies/p7", access_policy(issuer="https://other.example"))
    assert replaced.status_code == 200, "replacing one of the 20 is not a 21st"
    await arm.ok("DELETE", "accessPolicies/p0")
    assert (await arm.call("PUT", "accessPolicies/p20", access_policy())).status_code == 201
