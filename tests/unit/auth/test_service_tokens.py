"""The service's own tokens: one kind is never another, expiry, tampering, and key rotation."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ova.auth.service_tokens import (
    CONTENT,
    PROVISIONING,
    InvalidServiceToken,
    ServiceTokenSigner,
    SigningKey,
    TokenKind,
)

NOW = datetime(2021, 10, 5, 12, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(hours=1)
KINDS = [PROVISIONING, CONTENT]


@pytest.fixture(scope="module")
def old_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def new_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def signer(new_key: SigningKey, old_key: SigningKey) -> ServiceTokenSigner:
    return ServiceTokenSigner([new_key, old_key])


def header(token: str) -> dict[str, Any]:
    return jwt.get_unverified_header(token)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.typ)
def test_round_trip(signer: ServiceTokenSigner, new_key: SigningKey, kind: TokenKind) -> None:
    token = signer.issue(kind, {"sub": "video-1", "jti": "fixed"}, EXPIRES)

    claims = signer.verify(kind, token, NOW)

    assert claims == {"sub": "video-1", "jti": "fixed", "aud": kind.audience, "exp": int(EXPIRES.timestamp())}
    assert header(token) == {"alg": "ES256", "kid": new_key.kid, "typ": kind.typ}


@pytest.mark.parametrize(("issued", "presented"), [(PROVISIONING, CONTENT), (CONTENT, PROVISIONING)])
def test_kinds_are_not_interchangeable(
    signer: ServiceTokenSigner, issued: TokenKind, presented: TokenKind
) -> None:
    token = signer.issue(issued, {"sub": "x"}, EXPIRES)

    with pytest.raises(InvalidServiceToken):
        signer.verify(presented, token, NOW)


def test_a_kind_needs_both_its_type_and_its_audience(signer: ServiceTokenSigner) -> None:
    mixed = [
        TokenKind(typ=PROVISIONING.typ, audience=CONTENT.audience),
        TokenKind(typ=CONTENT.typ, audience=PROVISIONING.audience),
    ]
    for kind in mixed:
        token = signer.issue(kind, {}, EXPIRES)
        for genuine in KINDS:
            with pytest.raises(InvalidServiceToken):
                signer.verify(genuine, token, NOW)


def test_expiry(signer: ServiceTokenSigner) -> None:
    token = signer.issue(CONTENT, {}, EXPIRES)

    assert signer.verify(CONTENT, token, EXPIRES - timedelta(seconds=1))
    for moment in (EXPIRES, EXPIRES + timedelta(days=1)):
        with pytest.raises(InvalidServiceToken, match="expired"):
            signer.verify(CONTENT, token, moment)


def b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def unb64(segment: str) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    return decoded


def with_payload(token: str, **changes: Any) -> str:
    head, payload, signature = token.split(".")
    return ".".join([head, b64({**unb64(payload), **changes}), signature])


def with_header(token: str, **changes: Any) -> str:
    head, payload, signature = token.split(".")
    return ".".join([b64({**unb64(head), **changes}), payload, signature])


def flip_signature(token: str) -> str:
    head, payload, signature = token.split(".")
    return ".".join([head, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])


TAMPERING: dict[str, Callable[[str], str]] = {
    "payload-subject": lambda token: with_payload(token, sub="another-video"),
    "payload-expiry": lambda token: with_payload(token, exp=int((EXPIRES + timedelta(days=30)).timestamp())),
    "signature": flip_signature,
    "alg-none": lambda token: with_header(token, alg="none").rsplit(".", 1)[0] + ".",
    "alg-hs256": lambda token: with_header(token, alg="HS256"),
    "crit-header": lambda token: with_header(token, crit=["exp"]),
    "unknown-kid": lambda token: with_header(token, kid="not-a-key"),
    "no-kid": lambda token: b64({"alg": "ES256", "typ": CONTENT.typ}) + "." + token.split(".", 1)[1],
    "truncated": lambda token: token[: len(token) // 2],
    "extra-segment": lambda token: token + ".e30",
    "not-a-jwt": lambda token: "hello",
    "oversized": lambda token: token + "A" * 5000,
}


@pytest.mark.parametrize("tamper", TAMPERING.values(), ids=TAMPERING.keys())
def test_tampered_tokens_fail(signer: ServiceTokenSigner, tamper: Callable[[str], str]) -> None:
    token = signer.issue(CONTENT, {"sub": "video-1"}, EXPIRES)

    with pytest.raises(InvalidServiceToken):
        signer.verify(CONTENT, tamper(token), NOW)


def test_hs256_signed_with_the_public_key_fails(signer: ServiceTokenSigner, new_key: SigningKey) -> None:
    public_pem = new_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    payload = {"aud": CONTENT.audience, "exp": int(EXPIRES.timestamp())}
    headers = {"kid": new_key.kid, "typ": CONTENT.typ}
    forged = jwt.encode(payload, public_pem[:32], algorithm="HS256", headers=headers)

    with pytest.raises(InvalidServiceToken):
        signer.verify(CONTENT, forged, NOW)


def test_claims_the_signer_needs_are_required(new_key: SigningKey) -> None:
    signer = ServiceTokenSigner([new_key])
    headers = {"kid": new_key.kid, "typ": CONTENT.typ}
    for payload in ({"aud": CONTENT.audience}, {"exp": int(EXPIRES.timestamp())}):
        token = jwt.encode(payload, new_key.private_key, algorithm="ES256", headers=headers)
        with pytest.raises(InvalidServiceToken):
            signer.verify(CONTENT, token, NOW)


def test_rotation_keeps_older_tokens_valid_while_the_ring_holds_their_key(
    old_key: SigningKey, new_key: SigningKey
) -> None:
    before_rotation = ServiceTokenSigner([old_key])
    old_token = before_rotation.issue(PROVISIONING, {"sub": "edge"}, EXPIRES)
    rotated = ServiceTokenSigner([new_key, old_key])

    assert rotated.verify(PROVISIONING, old_token, NOW)["sub"] == "edge"
    new_token = rotated.issue(PROVISIONING, {"sub": "edge"}, EXPIRES)
    assert header(new_token)["kid"] == new_key.kid, "the newest key signs"
    with pytest.raises(InvalidServiceToken):
        before_rotation.verify(PROVISIONING, new_token, NOW)

    retired = ServiceTokenSigner([new_key])
    with pytest.raises(InvalidServiceToken):
        retired.verify(PROVISIONING, old_token, NOW)


def test_a_token_from_a_foreign_key_fails(signer: ServiceTokenSigner, new_key: SigningKey) -> None:
    foreign = SigningKey.generate()
    own_kid = ServiceTokenSigner([foreign]).issue(CONTENT, {}, EXPIRES)
    borrowed_kid = ServiceTokenSigner([SigningKey(kid=new_key.kid, private_key=foreign.private_key)]).issue(
        CONTENT, {}, EXPIRES
    )

    for token in (own_kid, borrowed_kid):
        with pytest.raises(InvalidServiceToken):
            signer.verify(CONTENT, token, NOW)


def test_signing_keys_survive_pem_and_must_be_ec(new_key: SigningKey) -> None:
    restored = SigningKey.from_pem(new_key.kid, new_key.to_pem())
    token = ServiceTokenSigner([new_key]).issue(CONTENT, {}, EXPIRES)

    assert ServiceTokenSigner([restored]).verify(CONTENT, token, NOW)
    ed25519_pem = (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode()
    )
    with pytest.raises(ValueError, match="EC"):
        SigningKey.from_pem("ed25519", ed25519_pem)
    assert isinstance(SigningKey.generate().private_key.curve, ec.SECP256R1)
    with pytest.raises(ValueError):
        ServiceTokenSigner([])
