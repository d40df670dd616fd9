"""A customer's own token issuer, as a Video Analyzer customer runs one: keys, policy, JWTs.

``CustomerIssuer.generate()`` makes fresh keys (RSA 2048 for RS256, EC P-256 for ES256,
EC P-384 for ES384). ``policy()`` is the access-policy body that trusts them, with each key's
public numbers written as base64url exactly as an operator pastes them into the portal.
``token()`` signs an honest customer JWT; ``sign()`` signs any header and payload at all,
so tests can forge what an attacker would send.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
Json = dict[str, Any]

ISSUER = "https://login.contoso.example"
BASE_RESOURCE_URL_PATTERN = "${System.Runtime.BaseResourceUrlPattern}"
ALGORITHMS = ("RS256", "ES256", "ES384")
P = "#Microsoft.VideoAnalyzer."


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(value: int, length: int | None = None) -> str:
    """An unsigned big-endian integer as unpadded base64url (JWK ``n``, ``e``, ``x``, ``y``)."""
    return b64url(value.to_bytes(length or (value.bit_length() + 7) // 8, "big"))


def token_key(key: PrivateKey, kid: str, alg: str) -> Json:
    """The access-policy key (``RsaTokenKey`` or ``EccTokenKey``) for ``key``'s public half."""
    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.public_key().public_numbers()
        return {
            "@type": f"{P}RsaTokenKey",
            "kid": kid,
            "alg": alg,
            "n": uint(numbers.n),
            "e": uint(numbers.e),
        }
    point = key.public_key().public_numbers()
    size = (key.curve.key_size + 7) // 8
    return {
        "@type": f"{P}EccTokenKey",
        "kid": kid,
        "alg": alg,
        "x": uint(point.x, size),
        "y": uint(point.y, size),
    }


@dataclass(frozen=True)
class CustomerIssuer:
    """One customer's signing keys (by algorithm) and the issuer name its tokens carry."""

    name: str
    keys: Mapping[str, PrivateKey]
    issuer: str = ISSUER

    @classmethod
    def generate(cls, name: str, issuer: str = ISSUER) -> CustomerIssuer:
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        keys: dict[str, PrivateKey] = {
            "RS256": rsa_key,
            "ES256": ec.generate_private_key(ec.SECP256R1()),
            "ES384": ec.generate_private_key(ec.SECP384R1()),
        }
        return cls(name, keys, issuer)

    def kid(self, alg: str = "RS256") -> str:
        return f"{self.name}-{alg.lower()}"

    def token_keys(self, algorithms: Sequence[str] = ALGORITHMS) -> list[Json]:
        return [token_key(self.keys[alg], self.kid(alg), alg) for alg in algorithms]

    def policy(
        self,
        *,
        algorithms: Sequence[str] = ALGORITHMS,
        issuers: Sequence[str] | None = None,
        audiences: Sequence[str] = (BASE_RESOURCE_URL_PATTERN,),
        claims: Mapping[str, str] | None = None,
    ) -> Json:
        """An access-policy resource body trusting this issuer's keys."""
        authentication = {
            "@type": f"{P}JwtAuthentication",
            "issuers": list(issuers if issuers is not None else [self.issuer]),
            "audiences": list(audiences),
            "claims": [{"name": name, "value": value} for name, value in (claims or {}).items()],
            "keys": self.token_keys(algorithms),
        }
        return {"properties": {"role": "Reader", "authentication": authentication}}

    def claims(self, aud: str | list[str], lifetime: int = 600, **extra: Any) -> Json:
        now = int(time.time())
        return {"iss": self.issuer, "aud": aud, "iat": now, "exp": now + lifetime, **extra}

    def token(self, aud: str | list[str], *, alg: str = "RS256", lifetime: int = 600, **extra: Any) -> str:
        """An honest customer JWT for ``aud``, signed with this issuer's ``alg`` key."""
        header = {"alg": alg, "kid": self.kid(alg), "typ": "JWT"}
        return self.sign(header, self.claims(aud, lifetime, **extra), sign_as=alg)

    def sign(
        self,
        header: Mapping[str, Any] | str,
        payload: Mapping[str, Any] | str,
        *,
        sign_as: str = "RS256",
        key: PrivateKey | None = None,
    ) -> str:
        """Sign any header and payload (JSON text is used as given, so it may be malformed)."""
        header_text = header if isinstance(header, str) else json.dumps(header)
        payload_text = payload if isinstance(payload, str) else json.dumps(payload)
        signing_input = f"{b64url(header_text.encode())}.{b64url(payload_text.encode())}"
        signer = key or self.keys[sign_as]
        signature = jwt.api_jws.get_algorithm_by_name(sign_as).sign(signing_input.encode(), signer)
        return f"{signing_input}.{b64url(signature)}"
