"""Customer JWTs against access policies: grants, and every attack of security.md J1-J18
that pure evaluation can decide."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ova.auth.customer_jwt import (
    BASE_RESOURCE_URL_PATTERN,
    AccessPolicySet,
    resource_pattern_matches,
)
from ova.auth.errors import InvalidToken, NoAccessPolicy
from ova.common.clock import FrozenClock
from ova.common.errors import Forbidden, Unauthenticated

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
T = int(NOW.timestamp())
BASE = "https://acct1.api.westus2.videoanalyzer.azure.net"
URL = f"{BASE}/videos/camera1"
ISSUER = "https://issuer.example"
AUDIENCE = "https://audience.example"
KIDS = {alg: f"kid-{alg.lower()}" for alg in ("RS256", "RS384", "RS512", "ES256", "ES384", "ES512")}
MISSING = object()
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(value: int, length: int | None = None) -> str:
    return b64url(value.to_bytes(length or (value.bit_length() + 7) // 8, "big"))


def jwk(key: PrivateKey, kid: str, alg: str) -> dict[str, object]:
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.public_key().public_numbers()
        return {
            "@type": "#Microsoft.VideoAnalyzer.RsaTokenKey",
            "kid": kid,
            "alg": alg,
            "n": uint(numbers.n),
            "e": uint(numbers.e),
        }
    point = key.public_key().public_numbers()
    size = (key.curve.key_size + 7) // 8
    return {
        "@type": "#Microsoft.VideoAnalyzer.EccTokenKey",
        "kid": kid,
        "alg": alg,
        "x": uint(point.x, size),
        "y": uint(point.y, size),
    }


def policy(
    keys: list[dict[str, object]],
    issuers: tuple[str, ...] = (ISSUER,),
    audiences: tuple[str, ...] = (AUDIENCE,),
    claims: tuple[tuple[str, str], ...] = (("role", "viewer"),),
) -> dict[str, object]:
    auth = {
        "@type": "#Microsoft.VideoAnalyzer.JwtAuthentication",
        "issuers": list(issuers),
        "audiences": list(audiences),
        "claims": [{"name": n, "value": v} for n, v in claims],
        "keys": keys,
    }
    return {"role": "Reader", "authentication": auth}


def claims(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {"iss": ISSUER, "aud": AUDIENCE, "role": "viewer", "exp": T + 3600}
    base.update(changes)
    return {name: value for name, value in base.items() if value is not MISSING}


class Forge:
    """Builds tokens, honest or not, signed by the test keys."""

    def __init__(self, keys: Mapping[str, PrivateKey]) -> None:
        self.keys = keys

    def token(
        self,
        payload: Mapping[str, object] | None = None,
        *,
        alg: str = "RS256",
        sign_as: str | None = None,
        key: PrivateKey | None = None,
        extra: Mapping[str, object] | None = None,
        **header: object,
    ) -> str:
        full = {"alg": alg, "kid": KIDS.get(alg, KIDS["RS256"]), "typ": "JWT", **header, **(extra or {})}
        full = {name: value for name, value in full.items() if value is not MISSING}
        return self.raw(
            json.dumps(full),
            json.dumps(claims() if payload is None else payload),
            sign_as=sign_as or alg,
            key=key,
        )

    def raw(self, header: str, payload: str | bytes, *, sign_as: str, key: PrivateKey | None = None) -> str:
        body = payload.encode() if isinstance(payload, str) else payload
        signing_input = f"{b64url(header.encode())}.{b64url(body)}"
        if sign_as.lower() == "none":
            return signing_input + "."
        signer = key or self.keys.get(sign_as) or self.keys["RS256"]
        signature = jwt.api_jws.get_algorithm_by_name(sign_as).sign(signing_input.encode(), signer)
        return f"{signing_input}.{b64url(signature)}"

    def hmac(self, secret: bytes, kid: str = KIDS["RS256"]) -> str:
        header = b64url(json.dumps({"alg": "HS256", "kid": kid, "typ": "JWT"}).encode())
        signing_input = f"{header}.{b64url(json.dumps(claims()).encode())}"
        digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{b64url(digest)}"


@pytest.fixture(scope="module")
def forge() -> Forge:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    curves = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
    keys: dict[str, PrivateKey] = {alg: rsa_key for alg in ("RS256", "RS384", "RS512")}
    keys.update({alg: ec.generate_private_key(curve) for alg, curve in curves.items()})
    keys["attacker"] = ec.generate_private_key(ec.SECP256R1())
    return Forge(keys)


@pytest.fixture(scope="module")
def policies(forge: Forge) -> AccessPolicySet:
    keys = [jwk(forge.keys[alg], kid, alg) for alg, kid in KIDS.items()]
    return AccessPolicySet([("main", policy(keys))])


def refused(policies: AccessPolicySet, token: str, url: str = URL, now: datetime = NOW) -> bool:
    with pytest.raises(InvalidToken) as caught:
        policies.evaluate(token, url, now)
    assert caught.value.message == "The access token is invalid."
    assert caught.value.status == 401
    assert len(token) < 8 or token not in str(caught.value)
    assert caught.value.__cause__ is None
    return True


# Positive cases --------------------------------------------------------------------------


@pytest.mark.parametrize("alg", KIDS)
def test_valid_token_is_granted_for_every_supported_algorithm(
    forge: Forge, policies: AccessPolicySet, alg: str
) -> None:
    grant = policies.evaluate(forge.token(alg=alg), URL, NOW)

    assert grant.policy_name == "main"
    assert grant.claims["role"] == "viewer"


@pytest.mark.parametrize("typ", [MISSING, "JWT", "jwt", "Jwt"], ids=["absent", "JWT", "jwt", "Jwt"])
def test_typ_jwt_is_optional_and_case_insensitive(
    forge: Forge, policies: AccessPolicySet, typ: object
) -> None:
    assert policies.evaluate(forge.token(typ=typ), URL, NOW).policy_name == "main"


def test_extra_claims_and_unknown_headers_are_allowed(forge: Forge, policies: AccessPolicySet) -> None:
    token = forge.token(claims(sub="alice", groups=["a"]), cty="text")

    assert policies.evaluate(token, URL, NOW).claims["sub"] == "alice"


# Rejections decided before or by the signature (J1-J5, J10, J11, J13, J18) ----------------

Case = Callable[[Forge], str]
SIGNED_RS256: Case = lambda f: f.token()  # noqa: E731


def pem(f: Forge) -> bytes:
    public = f.keys["RS256"].public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def der(f: Forge) -> bytes:
    public = f.keys["RS256"].public_key()
    return public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def n_and_e(f: Forge) -> bytes:
    key = f.keys["RS256"]
    assert isinstance(key, rsa.RSAPrivateKey)
    numbers = key.public_key().public_numbers()
    return numbers.n.to_bytes(256, "big") + numbers.e.to_bytes(3, "big")


def replace_signature(token: str, signature: str) -> str:
    return token.rsplit(".", 1)[0] + "." + signature


REJECTED: dict[str, Case] = {
    # J1: alg none, signature removed or kept
    "none-no-signature": lambda f: f.token(alg="none", kid=KIDS["RS256"]),
    "None-no-signature": lambda f: f.token(alg="None", kid=KIDS["RS256"]),
    "NONE-no-signature": lambda f: f.token(alg="NONE", kid=KIDS["RS256"]),
    "none-signature-kept": lambda f: f.token(alg="none", sign_as="RS256", kid=KIDS["RS256"]),
    "NONE-signature-kept": lambda f: f.token(alg="NONE", sign_as="RS256", kid=KIDS["RS256"]),
    "rs256-signature-removed": lambda f: replace_signature(f.token(), ""),
    "rs256-signature-altered": lambda f: replace_signature(f.token(), b64url(b"\0" * 256)),
    # J2: HS256 keyed with the policy's public key
    "hs256-pem": lambda f: f.hmac(pem(f)),
    "hs256-der": lambda f: f.hmac(der(f)),
    "hs256-jwk-json": lambda f: f.hmac(json.dumps(jwk(f.keys["RS256"], KIDS["RS256"], "RS256")).encode()),
    "hs256-n-and-e": lambda f: f.hmac(n_and_e(f)),
    # J3: one algorithm per key
    "rs512-on-rs256-key": lambda f: f.token(alg="RS512", kid=KIDS["RS256"]),
    "rs256-on-rs512-key": lambda f: f.token(alg="RS256", kid=KIDS["RS512"]),
    "es256-on-rsa-key": lambda f: f.token(alg="ES256", kid=KIDS["RS256"]),
    "es384-on-es256-key": lambda f: f.token(alg="ES384", kid=KIDS["ES256"]),
    "ps256-with-rsa-key": lambda f: f.token(alg="PS256", kid=KIDS["RS256"]),
    "es256-signed-by-other-key": lambda f: f.token(alg="ES256", key=f.keys["attacker"]),
    # J4: kid abuse
    "kid-missing": lambda f: f.token(kid=MISSING),
    "kid-unknown": lambda f: f.token(kid="no-such-key"),
    "kid-traversal": lambda f: f.token(kid="../../dev/null"),
    "kid-sql": lambda f: f.token(kid="' OR 1=1--"),
    "kid-64kb": lambda f: f.token(kid="k" * 65536),
    "kid-257-chars": lambda f: f.token(kid="k" * 257),
    "kid-empty": lambda f: f.token(kid=""),
    "kid-number": lambda f: f.token(kid=1),
    "kid-list": lambda f: f.token(kid=[KIDS["RS256"]]),
    "kid-null": lambda f: f.token(kid=None),
    "kid-case-variant": lambda f: f.token(kid=KIDS["RS256"].upper()),
    # J5: keys are never taken from or fetched for the token
    "jku": lambda f: f.token(jku="http://127.0.0.2/jwks.json"),
    "x5u": lambda f: f.token(x5u="http://127.0.0.2/cert.pem"),
    "x5c": lambda f: f.token(x5c=["MIIB"]),
    "x5t": lambda f: f.token(x5t="AAAA"),
    "x5t#S256": lambda f: f.token(extra={"x5t#S256": "AAAA"}),
    "jwk-embedded-attacker-key": lambda f: f.token(
        alg="ES256", key=f.keys["attacker"], jwk=jwk(f.keys["attacker"], KIDS["ES256"], "ES256")
    ),
    "jwk-embedded-policy-key": lambda f: f.token(jwk=jwk(f.keys["RS256"], KIDS["RS256"], "RS256")),
    # J10: crit, whatever it lists
    "crit-unknown": lambda f: f.token(crit=["x-unk"], extra={"x-unk": 1}),
    "crit-empty": lambda f: f.token(crit=[]),
    "crit-not-a-list": lambda f: f.token(crit="exp"),
    "crit-b64-without-header": lambda f: f.token(crit=["b64"]),
    "crit-b64-true": lambda f: f.token(crit=["b64"], b64=True),
    "b64-false-without-crit": lambda f: f.token(b64=False),
    # J18: another kind of token, or a typ we do not issue to customers
    "typ-ova-content": lambda f: f.token(typ="ova-content+jwt"),
    "typ-ova-provisioning-upper": lambda f: f.token(typ="OVA-provisioning+jwt"),
    "typ-jws": lambda f: f.token(typ="JWS"),
    "typ-number": lambda f: f.token(typ=1),
    # J11: duplicate member names, validly signed
    "duplicate-header-alg": lambda f: f.raw(
        f'{{"alg":"RS256","alg":"RS256","kid":"{KIDS["RS256"]}"}}', json.dumps(claims()), sign_as="RS256"
    ),
    "duplicate-header-kid": lambda f: f.raw(
        f'{{"alg":"RS256","kid":"other","kid":"{KIDS["RS256"]}"}}', json.dumps(claims()), sign_as="RS256"
    ),
    "duplicate-payload-aud": lambda f: f.raw(
        json.dumps({"alg": "RS256", "kid": KIDS["RS256"]}),
        json.dumps(claims())[:-1] + f', "aud": "{AUDIENCE}"}}',
        sign_as="RS256",
    ),
    "duplicate-payload-exp": lambda f: f.raw(
        json.dumps({"alg": "RS256", "kid": KIDS["RS256"]}),
        json.dumps(claims(exp=T - 3600))[:-1] + f', "exp": {T + 3600}}}',
        sign_as="RS256",
    ),
    # malformed JSON and segments
    "header-array": lambda f: f.raw(f'["RS256","{KIDS["RS256"]}"]', json.dumps(claims()), sign_as="RS256"),
    "payload-array": lambda f: f.raw(
        json.dumps({"alg": "RS256", "kid": KIDS["RS256"]}), "[1]", sign_as="RS256"
    ),
    "payload-string": lambda f: f.raw(
        json.dumps({"alg": "RS256", "kid": KIDS["RS256"]}), '"x"', sign_as="RS256"
    ),
    "payload-nan": lambda f: f.token(claims(exp=float("nan"))),
    "payload-not-utf8": lambda f: f.raw(
        json.dumps({"alg": "RS256", "kid": KIDS["RS256"]}), b"\xff{}", sign_as="RS256"
    ),
    "segment-padded": lambda f: f.token().replace(".", "=.", 1),
    "segment-not-base64url": lambda f: f.token().replace(".", "+.", 1),
    "segment-space": lambda f: " " + f.token(),
    "segment-non-ascii": lambda f: f.token() + "é",
    # J13: size and shape
    "oversized": lambda f: f.token(claims(pad="x" * 8192)),
    "jwe-five-segments": lambda f: f.token() + ".AAAA.AAAA",
    "four-segments": lambda f: f.token() + ".AAAA",
    "two-segments": lambda f: f.token().rsplit(".", 1)[0],
    "empty": lambda f: "",
    "dots-only": lambda f: "..",
}


@pytest.mark.parametrize("case", REJECTED.values(), ids=REJECTED.keys())
def test_token_is_rejected(forge: Forge, policies: AccessPolicySet, case: Case) -> None:
    assert refused(policies, case(forge))


def test_duplicate_key_control_is_granted(forge: Forge, policies: AccessPolicySet) -> None:
    """The raw crafting of the duplicate-key cases is otherwise sound."""
    token = forge.raw(
        json.dumps({"alg": "RS256", "kid": KIDS["RS256"]}), json.dumps(claims()), sign_as="RS256"
    )

    assert policies.evaluate(token, URL, NOW).policy_name == "main"


def test_long_kid_is_refused_even_when_the_token_length_cap_allows_it(forge: Forge) -> None:
    keys = [jwk(forge.keys["RS256"], KIDS["RS256"], "RS256")]
    roomy = AccessPolicySet([("main", policy(keys))], max_token_length=200_000)

    assert roomy.evaluate(forge.token(), URL, NOW).policy_name == "main"
    assert refused(roomy, forge.token(kid="k" * 65536))
    assert roomy.evaluate(forge.token(claims(pad="x" * 8192)), URL, NOW).policy_name == "main"


_watching: list[list[str]] = []


def _audit(event: str, _args: tuple[Any, ...]) -> None:
    if _watching and event in {
        "open",
        "os.listdir",
        "socket.connect",
        "socket.getaddrinfo",
        "sqlite3.connect",
    }:
        _watching[-1].append(event)


sys.addaudithook(_audit)


@pytest.mark.parametrize(
    "name", ["kid-traversal", "kid-sql", "kid-64kb", "jku", "x5u", "jwk-embedded-attacker-key"]
)
def test_hostile_headers_cause_no_file_or_network_access(
    forge: Forge, policies: AccessPolicySet, name: str
) -> None:
    token = REJECTED[name](forge)
    events: list[str] = []
    _watching.append(events)
    try:
        with pytest.raises(InvalidToken):
            policies.evaluate(token, URL, NOW)
    finally:
        _watching.pop()

    assert events == []


def test_the_audit_watch_does_see_file_access() -> None:
    events: list[str] = []
    _watching.append(events)
    try:
        with open(__file__, "rb"):
            pass
    finally:
        _watching.pop()

    assert events == ["open"]


# Time claims (J6) ------------------------------------------------------------------------

TIME_CASES: dict[str, tuple[dict[str, object], bool]] = {
    "exp-inside-leeway": ({"exp": T - 60 + 1}, True),
    "exp-at-leeway-edge": ({"exp": T - 60}, False),
    "exp-past-leeway": ({"exp": T - 60 - 1}, False),
    "exp-float": ({"exp": T + 0.5}, True),
    "exp-missing": ({"exp": MISSING}, False),
    "exp-string": ({"exp": str(T + 3600)}, False),
    "exp-bool": ({"exp": True}, False),
    "exp-null": ({"exp": None}, False),
    "exp-huge-int": ({"exp": 10**30}, False),  # lifetime cap (issue 7): never-expiring tokens
    "lifetime-at-cap": ({"iat": MISSING, "exp": T + 24 * 3600}, True),
    "lifetime-past-cap": ({"iat": MISSING, "exp": T + 24 * 3600 + 1}, False),
    "lifetime-from-iat-at-cap": ({"iat": T - 3600, "exp": T + 23 * 3600}, True),
    "lifetime-from-iat-past-cap": ({"iat": T - 3600, "exp": T + 23 * 3600 + 1}, False),
    "nbf-now": ({"nbf": T}, True),
    "nbf-inside-leeway": ({"nbf": T + 60}, True),
    "nbf-future": ({"nbf": T + 61}, False),
    "nbf-string": ({"nbf": "0"}, False),
    "nbf-bool": ({"nbf": False}, False),
    "iat-past": ({"iat": T - 10}, True),
    "iat-future": ({"iat": T + 120}, False),
    "iat-string": ({"iat": str(T)}, False),
}


@pytest.mark.parametrize(("changes", "granted"), TIME_CASES.values(), ids=TIME_CASES.keys())
def test_time_claims(
    forge: Forge, policies: AccessPolicySet, changes: dict[str, object], granted: bool
) -> None:
    token = forge.token(claims(**changes))
    clock = FrozenClock(NOW)

    if granted:
        assert policies.evaluate(token, URL, clock.now()).policy_name == "main"
    else:
        assert refused(policies, token, now=clock.now())


@pytest.mark.parametrize("literal", ["1e309", "-1e309", "Infinity", "NaN"])
def test_non_finite_exp_is_rejected(forge: Forge, policies: AccessPolicySet, literal: str) -> None:
    payload = json.dumps(claims(exp=MISSING))[:-1] + f', "exp": {literal}}}'
    token = forge.raw(json.dumps({"alg": "RS256", "kid": KIDS["RS256"]}), payload, sign_as="RS256")

    assert refused(policies, token)


def test_token_expires_when_the_clock_passes_exp_plus_leeway(forge: Forge, policies: AccessPolicySet) -> None:
    clock = FrozenClock(NOW)
    token = forge.token(claims(exp=T + 10))

    clock.advance(timedelta(seconds=69))
    assert policies.evaluate(token, URL, clock.now()).policy_name == "main"
    clock.advance(timedelta(seconds=1))
    assert refused(policies, token, now=clock.now())


def test_naive_now_is_a_programming_error(forge: Forge, policies: AccessPolicySet) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        policies.evaluate(forge.token(), URL, NOW.replace(tzinfo=None))


# Issuer, audience and required claims (J7-J9) --------------------------------------------

CLAIM_CASES: dict[str, tuple[dict[str, object], bool]] = {
    # J7: iss is an exact string match
    "iss-exact": ({"iss": ISSUER}, True),
    "iss-prefix": ({"iss": ISSUER[:-1]}, False),
    "iss-longer": ({"iss": ISSUER + "x"}, False),
    "iss-trailing-slash": ({"iss": ISSUER + "/"}, False),
    "iss-case": ({"iss": ISSUER.upper()}, False),
    "iss-array": ({"iss": [ISSUER]}, False),
    "iss-empty": ({"iss": ""}, False),
    "iss-missing": ({"iss": MISSING}, False),
    "iss-null": ({"iss": None}, False),
    # J8: aud, a string or an array one element of which equals a policy audience
    "aud-array-with-ours": ({"aud": ["https://other.example", AUDIENCE]}, True),
    "aud-array-only-ours": ({"aud": [AUDIENCE]}, True),
    "aud-empty-array": ({"aud": []}, False),
    "aud-null": ({"aud": None}, False),
    "aud-missing": ({"aud": MISSING}, False),
    "aud-suffixed": ({"aud": AUDIENCE + "X"}, False),
    "aud-prefix": ({"aud": AUDIENCE[:-1]}, False),
    "aud-case": ({"aud": AUDIENCE.upper()}, False),
    "aud-mixed-types": ({"aud": [AUDIENCE, 5]}, False),
    "aud-nested-array": ({"aud": [[AUDIENCE]]}, False),
    "aud-object": ({"aud": {"aud": AUDIENCE}}, False),
    "aud-placeholder-literal": ({"aud": BASE_RESOURCE_URL_PATTERN}, False),
    "aud-wildcard-star": ({"aud": "*"}, False),
    # J9: required claims are strings, equal exactly
    "claim-missing": ({"role": MISSING}, False),
    "claim-case-variant": ({"role": "Viewer"}, False),
    "claim-name-case-variant": ({"role": MISSING, "Role": "viewer"}, False),
    "claim-trailing-space": ({"role": "viewer "}, False),
    "claim-array-value": ({"role": ["viewer"]}, False),
    "claim-array-many-values": ({"role": ["admin", "viewer"]}, False),
    "claim-number": ({"role": 1}, False),
    "claim-bool": ({"role": True}, False),
    "claim-null": ({"role": None}, False),
    "claim-object": ({"role": {"value": "viewer"}}, False),
}


@pytest.mark.parametrize(("changes", "granted"), CLAIM_CASES.values(), ids=CLAIM_CASES.keys())
def test_issuer_audience_and_claims(
    forge: Forge, policies: AccessPolicySet, changes: dict[str, object], granted: bool
) -> None:
    token = forge.token(claims(**changes))

    if granted:
        assert policies.evaluate(token, URL, NOW).policy_name == "main"
    else:
        assert refused(policies, token)


OPEN_POLICY_CASES: dict[str, tuple[dict[str, object], bool]] = {
    "any-iss": ({"iss": "https://anyone.example"}, True),
    "no-iss": ({"iss": MISSING}, True),
    "iss-array-still-refused": ({"iss": [ISSUER]}, False),
    "any-aud": ({"aud": "https://anything.example"}, True),
    "no-aud": ({"aud": MISSING}, True),
    "aud-malformed-still-refused": ({"aud": []}, False),
    "no-claims-needed": ({"role": MISSING}, True),
    "exp-still-required": ({"exp": MISSING}, False),
}


@pytest.mark.parametrize(("changes", "granted"), OPEN_POLICY_CASES.values(), ids=OPEN_POLICY_CASES.keys())
def test_policy_without_issuers_audiences_or_claims(
    forge: Forge, changes: dict[str, object], granted: bool
) -> None:
    keys = [jwk(forge.keys["RS256"], KIDS["RS256"], "RS256")]
    open_set = AccessPolicySet([("open", policy(keys, issuers=(), audiences=(), claims=()))])
    token = forge.token(claims(**changes))

    if granted:
        assert open_set.evaluate(token, URL, NOW).policy_name == "open"
    else:
        assert refused(open_set, token)


# Audience as a resource-URL pattern (ava.md §2.4) ----------------------------------------

AUDIENCE_TABLE: list[tuple[str, str | list[str], bool]] = [
    ("/videos", "/videos/*", True),
    ("/videos", "/videos/camera1", False),
    ("/videos/camera1", "/vid*", True),
    ("/videos/camera1", "/videos/*", True),
    ("/videos/camera1", "/videos/cam*", True),
    ("/videos/camera1", "/videos/camera1", True),
    ("/videos/camera1Suffix", "/videos/camera1", False),
    ("/videos/camera2", "/videos/camera1", False),
    # beyond the table
    ("/videos/camera1/listContentToken", "/videos/camera1*", True),
    ("/videos/camera1/listContentToken", "/videos/camera1", False),
    ("/videos/camera1?api-version=2021-11-01-preview", "/videos/camera1", True),
    ("/videos/camera1/../camera2", "/videos/camera1*", False),
    ("/videos/camera1/%2e%2e/camera2", "/videos/camera1*", False),
    ("/videos/camera1", "/*", True),
    ("/videos/camera1", ["/videos/camera2", "/videos/camera1"], True),
    ("/videos/camera1", "/videos/*/", False),
    ("/videos/camera1", "/videos/Camera1", False),
]


@pytest.mark.parametrize(
    ("path", "aud", "granted"),
    AUDIENCE_TABLE,
    ids=[f"{path} aud={aud} {'grant' if ok else 'deny'}" for path, aud, ok in AUDIENCE_TABLE],
)
def test_audience_pattern_table(forge: Forge, path: str, aud: str | list[str], granted: bool) -> None:
    keys = [jwk(forge.keys["ES256"], KIDS["ES256"], "ES256")]
    patterned = AccessPolicySet([("portal", policy(keys, audiences=(BASE_RESOURCE_URL_PATTERN,)))])
    token_aud = [BASE + a for a in aud] if isinstance(aud, list) else BASE + aud
    token = forge.token(claims(aud=token_aud), alg="ES256")

    if granted:
        assert patterned.evaluate(token, BASE + path, NOW).policy_name == "portal"
    else:
        assert refused(patterned, token, url=BASE + path)


@pytest.mark.parametrize(
    ("pattern", "url", "matches"),
    [
        ("*", URL, False),
        ("https*", URL, False),
        ("https://acct1*", URL, False),
        (f"{BASE}*", URL, False),
        (f"{BASE}/*", URL, True),
        (f"{BASE}/*", BASE, True),
        ("https://acct2.api.westus2.videoanalyzer.azure.net/*", URL, False),
        (URL, URL, True),
        (URL + "*", URL, True),
    ],
)
def test_wildcard_must_follow_scheme_and_host(pattern: str, url: str, matches: bool) -> None:
    assert resource_pattern_matches(pattern, url) is matches


def test_placeholder_and_literal_audiences_combine(forge: Forge) -> None:
    keys = [jwk(forge.keys["ES256"], KIDS["ES256"], "ES256")]
    both = AccessPolicySet([("both", policy(keys, audiences=(AUDIENCE, BASE_RESOURCE_URL_PATTERN)))])

    assert both.evaluate(forge.token(alg="ES256"), URL, NOW).policy_name == "both"
    assert both.evaluate(forge.token(claims(aud=URL), alg="ES256"), URL, NOW).policy_name == "both"
    assert refused(both, forge.token(claims(aud=URL), alg="ES256"), url=URL + "x")


def test_literal_audience_is_not_a_pattern(forge: Forge) -> None:
    keys = [jwk(forge.keys["ES256"], KIDS["ES256"], "ES256")]
    literal = AccessPolicySet([("literal", policy(keys, audiences=(f"{BASE}/videos/*",)))])

    assert literal.evaluate(forge.token(claims(aud=f"{BASE}/videos/*"), alg="ES256"), URL, NOW)
    assert refused(literal, forge.token(claims(aud=URL), alg="ES256"))


# Policy sets: skipping bad policies, none at all, cross-policy mixes (J14-J16) ------------


def test_no_policy_is_forbidden_not_unauthenticated(forge: Forge) -> None:
    with pytest.raises(NoAccessPolicy) as caught:
        AccessPolicySet([]).evaluate(forge.token(), URL, NOW)

    assert isinstance(caught.value, Forbidden)
    assert not isinstance(caught.value, Unauthenticated)
    assert caught.value.status == 403


def weak_rsa_policy() -> dict[str, object]:
    weak: dict[str, object] = {
        "@type": "#Microsoft.VideoAnalyzer.RsaTokenKey",
        "kid": KIDS["RS256"],
        "alg": "RS256",
        "n": uint((1 << 1023) | 1),
        "e": "AQAB",
    }
    return policy([weak])


@pytest.mark.parametrize(
    "broken",
    [
        weak_rsa_policy(),
        {"role": "Owner", "authentication": policy([])["authentication"]},
        {"authentication": {"@type": "#Microsoft.VideoAnalyzer.Other"}},
        {"authentication": None},
        {},
        {"role": "Reader", "authentication": {**policy([])["authentication"], "issuers": "x"}},  # type: ignore[dict-item]
        {"role": "Reader", "authentication": {**policy([])["authentication"], "claims": [{"name": "a"}]}},  # type: ignore[dict-item]
    ],
    ids=[
        "rsa-1024",
        "role-owner",
        "auth-type",
        "auth-null",
        "empty",
        "issuers-string",
        "claim-without-value",
    ],
)
def test_invalid_stored_policy_is_skipped(forge: Forge, broken: dict[str, object]) -> None:
    keys = [jwk(forge.keys["RS256"], KIDS["RS256"], "RS256")]
    mixed = AccessPolicySet([("broken", broken), ("good", policy(keys))])

    assert mixed.skipped == ["broken"]
    assert len(mixed) == 1
    assert mixed.evaluate(forge.token(), URL, NOW).policy_name == "good"


def test_only_invalid_policies_count_as_none(forge: Forge) -> None:
    with pytest.raises(NoAccessPolicy):
        AccessPolicySet([("weak", weak_rsa_policy())]).evaluate(forge.token(), URL, NOW)


@pytest.fixture(scope="module")
def two_policies(forge: Forge) -> AccessPolicySet:
    a = policy([jwk(forge.keys["RS256"], "a-key", "RS256")], ("https://a",), ("aud-a",), (("tier", "a"),))
    b = policy([jwk(forge.keys["ES256"], "b-key", "ES256")], ("https://b",), ("aud-b",), (("tier", "b"),))
    return AccessPolicySet([("A", a), ("B", b)])


CROSS_CASES: dict[str, tuple[str, dict[str, object], str | None]] = {
    "a-matches-a": ("a-key", {"iss": "https://a", "aud": "aud-a", "tier": "a"}, "A"),
    "b-matches-b": ("b-key", {"iss": "https://b", "aud": "aud-b", "tier": "b"}, "B"),
    "a-key-b-claims": ("a-key", {"iss": "https://b", "aud": "aud-b", "tier": "b"}, None),
    "a-key-b-iss": ("a-key", {"iss": "https://b", "aud": "aud-a", "tier": "a"}, None),
    "a-key-b-aud": ("a-key", {"iss": "https://a", "aud": "aud-b", "tier": "a"}, None),
    "a-key-b-claim": ("a-key", {"iss": "https://a", "aud": "aud-a", "tier": "b"}, None),
    "a-key-both-auds": ("a-key", {"iss": "https://a", "aud": ["aud-a", "aud-b"], "tier": "a"}, "A"),
    "b-key-a-claims": ("b-key", {"iss": "https://a", "aud": "aud-a", "tier": "a"}, None),
}


@pytest.mark.parametrize(("kid", "changes", "granted_to"), CROSS_CASES.values(), ids=CROSS_CASES.keys())
def test_each_policy_is_evaluated_as_a_whole(
    forge: Forge, two_policies: AccessPolicySet, kid: str, changes: dict[str, object], granted_to: str | None
) -> None:
    alg = "RS256" if kid == "a-key" else "ES256"
    token = forge.token(claims(**changes), alg=alg, kid=kid)

    if granted_to:
        assert two_policies.evaluate(token, URL, NOW).policy_name == granted_to
    else:
        assert refused(two_policies, token)


def test_a_key_shared_by_two_policies_is_granted_by_the_one_that_admits(forge: Forge) -> None:
    shared = jwk(forge.keys["RS256"], "shared", "RS256")
    sharing = AccessPolicySet(
        [("strict", policy([shared], claims=(("tier", "gold"),))), ("lenient", policy([shared], claims=()))]
    )

    assert sharing.evaluate(forge.token(kid="shared"), URL, NOW).policy_name == "lenient"
    assert sharing.evaluate(forge.token(claims(tier="gold"), kid="shared"), URL, NOW).policy_name == "strict"


def test_grant_and_error_do_not_reveal_the_token(forge: Forge, policies: AccessPolicySet) -> None:
    token = forge.token()

    grant = policies.evaluate(token, URL, NOW)

    assert token not in repr(grant)
    assert refused(policies, token, url=URL, now=NOW + timedelta(days=1))
