"""Customer JWTs evaluated against an account's access policies (Client API).

Video Analyzer lets the customer's own issuer sign JWTs; the account's access policies
say which keys, issuers, audiences and claims are trusted (ava.md §1.4, §2.4). The
evaluation, in order:

1. Cheap rejects before any cryptography: at most ``MAX_TOKEN_LENGTH`` characters,
   exactly three strict base64url segments (five segments, JWE, is refused), header and
   payload are JSON objects without duplicate member names, ``kid`` is a string of at
   most 256 characters, ``alg`` is one this service verifies (never ``none``, ``HS*`` or
   ``PS*``), ``typ`` if present is ``JWT``, and none of ``crit``, ``b64``, ``jku``,
   ``x5u``, ``jwk``, ``x5c``, ``x5t`` appear (no extension is supported and no key is
   ever fetched or taken from the token).
2. Candidate policies are those holding a key whose ``kid`` equals the header's. Each
   candidate is judged as a whole (a key from one policy never combines with the
   issuers of another): the header ``alg`` must equal the key's ``alg``; the signature
   must verify with that key; then times, issuer, audience and required claims.
3. Times use the injected ``now`` with ``LEEWAY`` (60 s, within RFC 7519's "a few
   minutes"): ``exp`` is required and must satisfy ``exp > now - leeway``; ``nbf`` and
   ``iat``, when present, must satisfy ``value <= now + leeway``. Every time claim must
   be a finite JSON number (not a string, not a boolean). The lifetime is capped:
   ``exp - iat`` (``exp - now`` without ``iat``) must not exceed ``max_lifetime``
   (``MAX_LIFETIME``, 24 h, unless configured), so a token that never expires is refused.
4. ``iss``, when present, must be a string; when the policy lists issuers it must equal
   one exactly. A policy without issuers accepts any issuer.
5. ``aud`` is a string or a non-empty array of strings. A literal policy audience must
   equal one element. The placeholder ``${System.Runtime.BaseResourceUrlPattern}`` makes
   each element a resource-URL pattern matched against the requested Client API URL: a
   trailing ``*`` is a prefix wildcard (``.../videos/*`` also covers ``.../videos``), and
   anything else must equal the URL. The wildcard must come after ``scheme://host/``.
   A policy without audiences accepts any well-formed ``aud``.
6. Required claims: every policy ``{name, value}`` must be present in the payload as a
   string exactly equal (case-sensitive) to ``value``. An array value never matches,
   even when it contains ``value``: a policy claim names one value, and accepting arrays
   would let a token holding many roles satisfy every policy at once. Extra claims are
   allowed.

Any failure raises ``InvalidToken`` with one uniform message; with no usable policy at all
``NoAccessPolicy`` (403) is raised instead. The token is never logged or put in an error.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TypeGuard
from urllib.parse import unquote, urlsplit

from jwt import PyJWTError
from jwt.api_jws import PyJWS

from ova.auth.errors import InvalidToken, NoAccessPolicy
from ova.auth.token_key import MAX_KID_LENGTH, SUPPORTED_ALGORITHMS, TokenKey, validate_policy_keys
from ova.common.errors import OvaError, Problems, ValidationFailed

MAX_TOKEN_LENGTH = 8 * 1024
LEEWAY = timedelta(seconds=60)
MAX_LIFETIME = timedelta(hours=24)
BASE_RESOURCE_URL_PATTERN = "${System.Runtime.BaseResourceUrlPattern}"
JWT_AUTHENTICATION_TYPE = "#Microsoft.VideoAnalyzer.JwtAuthentication"
READER_ROLE = "Reader"
ACCEPTED_TYPES = frozenset({"jwt"})
OWN_TYPE_PREFIX = "ova-"
REFUSED_HEADERS = frozenset({"crit", "b64", "jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256"})

_log = logging.getLogger(__name__)
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
_VERIFIERS = {alg: PyJWS(algorithms=[alg]) for alg in SUPPORTED_ALGORITHMS}


@dataclass(frozen=True)
class RequiredClaim:
    name: str
    value: str


@dataclass(frozen=True)
class AccessPolicy:
    """One parsed access policy: the keys, issuers, audiences and claims it trusts."""

    name: str
    keys: tuple[TokenKey, ...]
    issuers: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    claims: tuple[RequiredClaim, ...] = ()

    @classmethod
    def from_properties(cls, name: str, properties: Mapping[str, object]) -> AccessPolicy:
        """Parse ARM ``properties`` of an access policy; raises ``ValidationFailed``."""
        target = "properties.authentication"
        auth = properties.get("authentication") if isinstance(properties, Mapping) else None
        if not isinstance(auth, Mapping) or auth.get("@type") != JWT_AUTHENTICATION_TYPE:
            raise ValidationFailed(f"@type must be {JWT_AUTHENTICATION_TYPE!r}.", target=f"{target}.@type")
        problems = Problems()
        if properties.get("role", READER_ROLE) != READER_ROLE:
            problems.add("properties.role", f"role must be {READER_ROLE!r}.")
        issuers = _strings(auth.get("issuers", []), f"{target}.issuers", problems)
        audiences = _strings(auth.get("audiences", []), f"{target}.audiences", problems)
        claims = _required_claims(auth.get("claims", []), f"{target}.claims", problems)
        problems.raise_if_any()
        keys = validate_policy_keys(_list(auth.get("keys")), f"{target}.keys")
        return cls(name, tuple(keys), tuple(issuers), tuple(audiences), tuple(claims))

    def admits(self, payload: Mapping[str, object], resource_url: str | None) -> bool:
        """Whether the (already verified) payload meets this policy's iss, aud and claims."""
        return (
            self._issuer_ok(payload)
            and self._audience_ok(payload, resource_url)
            and all(_claim_ok(payload, claim) for claim in self.claims)
        )

    def _issuer_ok(self, payload: Mapping[str, object]) -> bool:
        if "iss" not in payload:
            return not self.issuers
        issuer = payload["iss"]
        return isinstance(issuer, str) and (not self.issuers or issuer in self.issuers)

    def _audience_ok(self, payload: Mapping[str, object], resource_url: str | None) -> bool:
        if "aud" not in payload:
            return not self.audiences
        audiences = _token_audiences(payload["aud"])
        if audiences is None:
            return False
        if not self.audiences:
            return True
        literals = {a for a in self.audiences if a != BASE_RESOURCE_URL_PATTERN}
        if any(a in literals for a in audiences):
            return True
        if BASE_RESOURCE_URL_PATTERN not in self.audiences or resource_url is None:
            return False
        return any(resource_pattern_matches(a, resource_url) for a in audiences)


@dataclass(frozen=True)
class Grant:
    """Access granted: the policy that admitted the token and the token's verified claims."""

    policy_name: str
    claims: Mapping[str, object] = field(repr=False)

    @property
    def expires_at(self) -> datetime:
        """The token's ``exp`` (a finite number: the evaluation checked it) as a UTC time."""
        expires = self.claims.get("exp")
        if not _is_number(expires):
            raise ValueError("a granted token always has a numeric exp")
        return datetime.fromtimestamp(expires, UTC)


@dataclass(frozen=True)
class _ParsedToken:
    token: str = field(repr=False)
    kid: str
    alg: str
    payload: dict[str, object] = field(repr=False)


class _Rejected(Exception):
    """Internal: why a token was refused; logged at debug level, never shown to callers."""


class AccessPolicySet:
    """An account's access policies, parsed once, ready to evaluate customer JWTs.

    Policies that fail to parse are skipped (and named in ``skipped``) so one bad stored
    policy cannot lock out the others or crash a request.
    """

    def __init__(
        self,
        policies: Iterable[tuple[str, Mapping[str, object]]],
        *,
        max_token_length: int = MAX_TOKEN_LENGTH,
        leeway: timedelta = LEEWAY,
        max_lifetime: timedelta = MAX_LIFETIME,
    ) -> None:
        self.max_token_length = max_token_length
        self.leeway = leeway
        self.max_lifetime = max_lifetime
        self.policies: list[AccessPolicy] = []
        self.skipped: list[str] = []
        for name, properties in policies:
            try:
                self.policies.append(AccessPolicy.from_properties(name, properties))
            except (OvaError, TypeError, ValueError):
                _log.warning("Access policy %r is invalid and is ignored.", name)
                self.skipped.append(name)

    def __len__(self) -> int:
        return len(self.policies)

    def evaluate(self, token: str, requested_url: str, now: datetime) -> Grant:
        """Grant access for ``token`` on ``requested_url`` (the Client API URL) at ``now``.

        Raises ``NoAccessPolicy`` (403) when no usable policy exists, else ``InvalidToken``
        (401) on any failure. ``now`` must be timezone-aware.
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        if not self.policies:
            raise NoAccessPolicy()
        try:
            return self._grant(token, resource_url(requested_url), now.timestamp())
        except _Rejected as rejection:
            _log.debug("Access token rejected: %s", rejection)
        raise InvalidToken()

    def _grant(self, token: str, url: str | None, moment: float) -> Grant:
        parsed = _parse(token, self.max_token_length)
        candidates = [(p, k) for p in self.policies for k in p.keys if k.kid == parsed.kid]
        if not candidates:
            raise _Rejected("no policy holds a key with this kid")
        leeway, longest = self.leeway.total_seconds(), self.max_lifetime.total_seconds()
        for policy, key in candidates:
            if key.alg != parsed.alg or not _signature_valid(parsed.token, key):
                continue
            if _times_ok(parsed.payload, moment, leeway, longest) and policy.admits(parsed.payload, url):
                return Grant(policy.name, MappingProxyType(parsed.payload))
        raise _Rejected("no candidate policy admits the token")


def resource_url(requested_url: str) -> str | None:
    """The requested URL without query or fragment; ``None`` if it has dot segments."""
    url = requested_url.split("#", 1)[0].split("?", 1)[0]
    segments = urlsplit(url).path.split("/")
    if any(unquote(segment) in {".", ".."} for segment in segments):
        return None
    return url


def resource_pattern_matches(pattern: str, url: str) -> bool:
    """Match a token ``aud`` resource-URL pattern against a requested URL (ava.md §2.4)."""
    if not pattern.endswith("*"):
        return pattern == url
    prefix = pattern[:-1]
    parts = urlsplit(prefix)
    if not (parts.scheme and parts.netloc and parts.path.startswith("/")):
        return False
    return url.startswith(prefix) or (prefix.endswith("/") and url == prefix[:-1])


def well_formed(token: str, max_length: int = MAX_TOKEN_LENGTH) -> bool:
    """Whether ``token`` passes the cheap checks of step 1 (no cryptography, no policy)."""
    try:
        _parse(token, max_length)
    except _Rejected:
        return False
    return True


def verify_signature(token: str, key: TokenKey) -> bytes:
    """The JWS layer alone: step 1 without the JSON payload, then ``key``'s signature.

    The header's ``kid`` and ``alg`` must equal the key's. Returns the payload bytes;
    raises ``InvalidToken``. (Used by the Wycheproof JWS vectors, whose payloads are not JWTs.)
    """
    try:
        kid, alg, payload = _parse_jws(token, MAX_TOKEN_LENGTH)
    except _Rejected:
        raise InvalidToken() from None
    if kid != key.kid or alg != key.alg or not _signature_valid(token, key):
        raise InvalidToken()
    return payload


def _parse(token: str, max_length: int) -> _ParsedToken:
    kid, alg, payload = _parse_jws(token, max_length)
    return _ParsedToken(token, kid, alg, _json_object(payload))


def _parse_jws(token: object, max_length: int) -> tuple[str, str, bytes]:
    """The header's kid and alg and the payload bytes of a compact JWS that passes step 1."""
    if not isinstance(token, str) or not token:
        raise _Rejected("the token is not a non-empty string")
    if len(token) > max_length:
        raise _Rejected("the token is too long")
    segments = token.split(".")
    if len(segments) != 3:
        raise _Rejected("the token does not have exactly three segments")
    header = _json_object(_decode_segment(segments[0]))
    kid, alg = _check_header(header)
    payload = _decode_segment(segments[1])
    _decode_segment(segments[2])
    return kid, alg, payload


def _check_header(header: Mapping[str, object]) -> tuple[str, str]:
    refused = REFUSED_HEADERS.intersection(header)
    if refused:
        raise _Rejected("the header holds a refused parameter")
    alg, kid = header.get("alg"), header.get("kid")
    if not isinstance(alg, str) or alg not in SUPPORTED_ALGORITHMS:
        raise _Rejected("the header alg is not supported")
    if not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH:
        raise _Rejected("the header kid is missing or malformed")
    if "typ" in header:
        typ = header["typ"]
        if not isinstance(typ, str):
            raise _Rejected("the header typ is not a string")
        if typ.lower().startswith(OWN_TYPE_PREFIX):
            raise _Rejected("the header typ names one of this service's own token kinds")
        if typ.lower() not in ACCEPTED_TYPES:
            raise _Rejected("the header typ is not JWT")
    return kid, alg


def _decode_segment(segment: str) -> bytes:
    """Strict base64url without padding (RFC 7515 §2), canonical trailing bits only."""
    if not _SEGMENT.fullmatch(segment) or len(segment) % 4 == 1:
        raise _Rejected("a segment is not base64url")
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=") != segment.encode("ascii"):
        raise _Rejected("a segment is not canonical base64url")
    return data


def _json_object(data: bytes) -> dict[str, object]:
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_unique, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise _Rejected("a segment is not acceptable JSON") from None
    if not isinstance(value, dict):
        raise _Rejected("a segment is not a JSON object")
    return value


def _unique(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name")
    return result


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _signature_valid(token: str, key: TokenKey) -> bool:
    try:
        _VERIFIERS[key.alg].decode_complete(token, key.public_key, algorithms=[key.alg])
    except PyJWTError:
        return False
    return True


def _times_ok(payload: Mapping[str, object], moment: float, leeway: float, longest: float) -> bool:
    expires = payload.get("exp")
    if not _is_number(expires) or expires <= moment - leeway:
        return False
    for name in ("nbf", "iat"):
        if name in payload:
            value = payload[name]
            if not _is_number(value) or value > moment + leeway:
                return False
    issued = payload.get("iat", moment)
    return _is_number(issued) and expires - issued <= longest


def _is_number(value: object) -> TypeGuard[int | float]:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def _token_audiences(value: object) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return [str(item) for item in value]
    return None


def _claim_ok(payload: Mapping[str, object], claim: RequiredClaim) -> bool:
    value = payload.get(claim.name)
    return isinstance(value, str) and value == claim.value


def _list(value: object) -> list[Mapping[str, object]]:
    if not isinstance(value, list):
        return []
    return value


def _strings(value: object, target: str, problems: Problems) -> list[str]:
    if not isinstance(value, list):
        problems.add(target, "Must be an array of strings.")
        return []
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item:
            problems.add(f"{target}[{index}]", "Must be a non-empty string.")
    return [item for item in value if isinstance(item, str)]


def _required_claims(value: object, target: str, problems: Problems) -> list[RequiredClaim]:
    if not isinstance(value, list):
        problems.add(target, "Must be an array of {name, value} objects.")
        return []
    claims = []
    for index, item in enumerate(value):
        name = item.get("name") if isinstance(item, Mapping) else None
        claim_value = item.get("value") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name or not isinstance(claim_value, str):
            problems.add(f"{target}[{index}]", "A claim needs a non-empty string name and a string value.")
            continue
        claims.append(RequiredClaim(name, claim_value))
    return claims
