"""Access-policy token keys: what may be stored, and the errors a caller sees (J14)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Mapping

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ova.auth.errors import InvalidTokenKey
from ova.auth.token_key import ECC_KEY_TYPE, RSA_KEY_TYPE, TokenKey, load_token_key, validate_policy_keys
from ova.common.errors import ValidationFailed

TARGET = "properties.authentication.keys[1]"
Key = dict[str, object]


def b64url(value: int, length: int | None = None) -> str:
    raw = value.to_bytes(length or (value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def odd_modulus(bits: int) -> int:
    """A modulus-shaped number of exactly ``bits`` bits, without generating a key."""
    return secrets.randbits(bits) | (1 << (bits - 1)) | 1


@pytest.fixture(scope="module")
def rsa_public() -> rsa.RSAPublicKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()


@pytest.fixture(scope="module")
def ec_publics() -> dict[str, ec.EllipticCurvePublicKey]:
    curves = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
    return {alg: ec.generate_private_key(curve).public_key() for alg, curve in curves.items()}


@pytest.fixture
def rsa_jwk(rsa_public: rsa.RSAPublicKey) -> Key:
    numbers = rsa_public.public_numbers()
    return {
        "@type": RSA_KEY_TYPE,
        "kid": "rsa",
        "alg": "RS256",
        "n": b64url(numbers.n),
        "e": b64url(numbers.e),
    }


@pytest.fixture
def ec_jwk(ec_publics: dict[str, ec.EllipticCurvePublicKey]) -> Key:
    return ecc_jwk(ec_publics["ES256"], "ES256")


def ecc_jwk(public: ec.EllipticCurvePublicKey, alg: str, kid: str = "ecc") -> Key:
    numbers = public.public_numbers()
    size = (public.curve.key_size + 7) // 8
    return {
        "@type": ECC_KEY_TYPE,
        "kid": kid,
        "alg": alg,
        "x": b64url(numbers.x, size),
        "y": b64url(numbers.y, size),
    }


def standard_b64(text: str, padded: bool) -> str:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    encoded = base64.b64encode(raw).decode()
    return encoded if padded else encoded.rstrip("=")


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
def test_rsa_key_loads_with_its_algorithm(rsa_jwk: Key, rsa_public: rsa.RSAPublicKey, alg: str) -> None:
    key = load_token_key({**rsa_jwk, "alg": alg}, TARGET)

    assert key == TokenKey("rsa", alg, key.public_key)
    assert isinstance(key.public_key, rsa.RSAPublicKey)
    assert key.public_key.public_numbers() == rsa_public.public_numbers()


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512"])
def test_ecc_key_loads_on_the_curve_its_algorithm_names(
    ec_publics: dict[str, ec.EllipticCurvePublicKey], alg: str
) -> None:
    key = load_token_key(ecc_jwk(ec_publics[alg], alg), TARGET)

    assert key.alg == alg
    assert isinstance(key.public_key, ec.EllipticCurvePublicKey)
    assert key.public_key.public_numbers() == ec_publics[alg].public_numbers()


@pytest.mark.parametrize("padded", [True, False], ids=["padded", "unpadded"])
@pytest.mark.parametrize("fields", [("n", "e"), ("x", "y")], ids=["rsa", "ecc"])
def test_standard_base64_is_accepted_like_base64url(
    rsa_jwk: Key, ec_jwk: Key, fields: tuple[str, str], padded: bool
) -> None:
    jwk = rsa_jwk if fields[0] == "n" else ec_jwk
    converted = {**jwk, **{name: standard_b64(str(jwk[name]), padded) for name in fields}}

    original = load_token_key(jwk, TARGET).public_key.public_numbers()

    assert load_token_key(converted, TARGET).public_key.public_numbers() == original


def test_base64url_with_padding_is_accepted(rsa_jwk: Key) -> None:
    padded = {**rsa_jwk, "e": "AQAB", "n": str(rsa_jwk["n"]) + "=" * (-len(str(rsa_jwk["n"])) % 4)}

    assert load_token_key(padded, TARGET).kid == "rsa"


def test_rsa_modulus_bounds_are_inclusive() -> None:
    for bits in (2048, 8192):
        jwk = {"@type": RSA_KEY_TYPE, "kid": "k", "alg": "RS256", "n": b64url(odd_modulus(bits)), "e": "AQAB"}

        assert load_token_key(jwk, TARGET).public_key.key_size == bits


Mutation = Callable[[Key], Key]


def change(**fields: object) -> Mutation:
    return lambda jwk: {**jwk, **{name.replace("_type", "@type"): value for name, value in fields.items()}}


def drop(name: str) -> Mutation:
    return lambda jwk: {k: v for k, v in jwk.items() if k != name}


RSA_REJECTS: dict[str, tuple[Mutation, str]] = {
    "rsa-1024": (change(n=b64url(odd_modulus(1024))), ".n"),
    "rsa-2047": (change(n=b64url(odd_modulus(2047))), ".n"),
    "rsa-8193": (change(n=b64url(odd_modulus(8193))), ".n"),
    "rsa-16384": (change(n=b64url(odd_modulus(16384))), ".n"),
    "even-modulus": (change(n=b64url(odd_modulus(2048) - 1)), ".n"),
    "e-1": (change(e=b64url(1)), ".e"),
    "e-even": (change(e=b64url(65536)), ".e"),
    "e-2": (change(e=b64url(2)), ".e"),
    "e-above-2^32": (change(e=b64url(2**32 + 1)), ".e"),
    "e-zero": (change(e="AA"), ".e"),
    "n-missing": (drop("n"), ".n"),
    "n-not-base64": (change(n="***"), ".n"),
    "n-with-space": (change(n="AQ AB"), ".n"),
    "n-number": (change(n=12345), ".n"),
    "e-bad-padding": (change(e="AQAB=="), ".e"),
    "e-three-pads": (change(e="AQ==="), ".e"),
    "alg-es256": (change(alg="ES256"), ".alg"),
    "alg-ps256": (change(alg="PS256"), ".alg"),
    "alg-hs256": (change(alg="HS256"), ".alg"),
    "alg-none": (change(alg="none"), ".alg"),
    "alg-lowercase": (change(alg="rs256"), ".alg"),
    "alg-list": (change(alg=["RS256"]), ".alg"),
    "type-unknown": (change(_type="#Microsoft.VideoAnalyzer.PemTokenKey"), ".@type"),
    "type-missing": (drop("@type"), ".@type"),
    "kid-missing": (drop("kid"), ".kid"),
    "kid-empty": (change(kid=""), ".kid"),
    "kid-number": (change(kid=7), ".kid"),
    "kid-257": (change(kid="k" * 257), ".kid"),
}


@pytest.mark.parametrize(("mutate", "field"), RSA_REJECTS.values(), ids=RSA_REJECTS.keys())
def test_rsa_key_rejected(rsa_jwk: Key, mutate: Mutation, field: str) -> None:
    with pytest.raises(InvalidTokenKey) as caught:
        load_token_key(mutate(rsa_jwk), TARGET)

    assert caught.value.target == TARGET + field
    assert caught.value.status == 400
    assert caught.value.message


def off_curve(jwk: Key) -> Key:
    y = int.from_bytes(base64.urlsafe_b64decode(str(jwk["y"]) + "=="), "big")
    return {**jwk, "y": b64url(y ^ 1, 32)}


ECC_REJECTS: dict[str, tuple[Mutation, str]] = {
    "off-curve": (off_curve, ""),
    "x-31-bytes": (change(x=b64url(1, 31)), ".x"),
    "x-33-bytes": (change(x=b64url(1, 33)), ".x"),
    "y-missing": (drop("y"), ".y"),
    "origin": (change(x=b64url(0, 32), y=b64url(0, 32)), ""),
    "alg-es384-on-p256": (change(alg="ES384"), ".x"),
    "alg-rs256": (change(alg="RS256"), ".alg"),
    "alg-none": (change(alg="none"), ".alg"),
    "type-rsa": (change(_type=RSA_KEY_TYPE), ".alg"),
    "kid-257": (change(kid="k" * 257), ".kid"),
}


@pytest.mark.parametrize(("mutate", "field"), ECC_REJECTS.values(), ids=ECC_REJECTS.keys())
def test_ecc_key_rejected(ec_jwk: Key, mutate: Mutation, field: str) -> None:
    with pytest.raises(InvalidTokenKey) as caught:
        load_token_key(mutate(ec_jwk), TARGET)

    assert caught.value.target == TARGET + field


def test_a_key_that_is_not_an_object_is_rejected() -> None:
    with pytest.raises(InvalidTokenKey) as caught:
        load_token_key("rsa", TARGET)  # type: ignore[arg-type]

    assert caught.value.target == TARGET


def test_policy_keys_of_both_types_load_in_order(rsa_jwk: Key, ec_jwk: Key) -> None:
    keys = validate_policy_keys([rsa_jwk, ec_jwk], "properties.authentication.keys")

    assert [(key.kid, key.alg) for key in keys] == [("rsa", "RS256"), ("ecc", "ES256")]


@pytest.mark.parametrize("keys", [[], "", {}], ids=["empty-list", "string", "object"])
def test_policy_without_keys_is_rejected(keys: list[Mapping[str, object]]) -> None:
    with pytest.raises(InvalidTokenKey) as caught:
        validate_policy_keys(keys, "properties.authentication.keys")

    assert caught.value.target == "properties.authentication.keys"


def test_duplicate_kid_within_a_policy_is_rejected(rsa_jwk: Key, ec_jwk: Key) -> None:
    with pytest.raises(InvalidTokenKey) as caught:
        validate_policy_keys([rsa_jwk, {**ec_jwk, "kid": "rsa"}], "keys")

    assert caught.value.target == "keys[1].kid"
    assert "rsa" in caught.value.message


def test_every_key_problem_is_reported_at_once(rsa_jwk: Key, ec_jwk: Key) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_policy_keys([{**rsa_jwk, "e": b64url(1)}, ec_jwk, {**ec_jwk, "alg": "RS256"}], "keys")

    assert [detail.target for detail in caught.value.details] == ["keys[0].e", "keys[2].alg"]
    assert caught.value.message == "2 token key problems found."
