"""Tokens the service signs for itself: provisioning tokens, content tokens, ...

Each kind has its own ``typ`` header and audience and is verified only as that kind, so
one kind can never be presented as another (RFC 8725 §3.11). Keys are ES256; the newest
key signs and every key in the ring verifies, which is how rotation works.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ova.common.errors import Unauthenticated

ALGORITHM = "ES256"
MAX_TOKEN_LENGTH = 4096


class InvalidServiceToken(Unauthenticated):
    default_code = "InvalidToken"


@dataclass(frozen=True)
class TokenKind:
    typ: str
    audience: str


PROVISIONING = TokenKind(typ="ova-provisioning+jwt", audience="ova:edge-provisioning")
CONTENT = TokenKind(typ="ova-content+jwt", audience="ova:streaming")


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(kid=uuid.uuid4().hex, private_key=ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_pem(cls, kid: str, pem: str) -> SigningKey:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("signing keys must be EC keys")
        return cls(kid=kid, private_key=key)

    def to_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()


class ServiceTokenSigner:
    """Signs and verifies the service's own tokens with a ring of keys, newest first."""

    def __init__(self, keys: Sequence[SigningKey]) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        self._keys = list(keys)
        self._by_kid = {key.kid: key for key in keys}

    def issue(self, kind: TokenKind, claims: Mapping[str, Any], expires_at: datetime) -> str:
        key = self._keys[0]
        payload = {**claims, "aud": kind.audience, "exp": int(expires_at.timestamp())}
        payload.setdefault("jti", uuid.uuid4().hex)
        headers = {"kid": key.kid, "typ": kind.typ}
        return jwt.encode(payload, key.private_key, algorithm=ALGORITHM, headers=headers)

    def verify(self, kind: TokenKind, token: str, now: datetime) -> dict[str, Any]:
        """The token's claims, or ``InvalidServiceToken`` for anything but a valid token of ``kind``."""
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
            raise InvalidServiceToken("The token is invalid.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidServiceToken("The token is invalid.") from exc
        kid = header.get("kid")
        key = self._by_kid.get(kid) if isinstance(kid, str) else None
        if key is None or header.get("typ") != kind.typ or header.get("alg") != ALGORITHM or "crit" in header:
            raise InvalidServiceToken("The token is invalid.")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=[ALGORITHM],
                audience=kind.audience,
                options={"require": ["exp", "aud"], "verify_exp": False},
            )
        except jwt.PyJWTError as exc:
            raise InvalidServiceToken("The token is invalid.") from exc
        exp = claims.get("exp")
        if not isinstance(exp, int) or isinstance(exp, bool) or exp <= now.timestamp():
            raise InvalidServiceToken("The token has expired.")
        return claims
