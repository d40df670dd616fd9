"""Access-policy token keys in Video Analyzer's JSON shape, validated and loaded.

Two key types exist (ARM ``properties.authentication.keys[]``)::

    {"@type": "#Microsoft.VideoAnalyzer.RsaTokenKey", "kid": "k1", "alg": "RS256", "n": "..", "e": ".."}
    {"@type": "#Microsoft.VideoAnalyzer.EccTokenKey", "kid": "k2", "alg": "ES256", "x": "..", "y": ".."}

``n``, ``e``, ``x`` and ``y`` are big-endian unsigned integers in base64url or standard
base64, with or without padding. Each key is bound to exactly one algorithm (RFC 8725
§3.1): the algorithm a token may use always comes from here, never from the token.
"""

from __future__ import annotations

import base64
import binascii
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ova.auth.errors import InvalidTokenKey
from ova.common.errors import ErrorDetail

RSA_KEY_TYPE = "#Microsoft.VideoAnalyzer.RsaTokenKey"
ECC_KEY_TYPE = "#Microsoft.VideoAnalyzer.EccTokenKey"

RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})
ECC_CURVES: Mapping[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(),
    "ES384": ec.SECP384R1(),
    "ES512": ec.SECP521R1(),
}
SUPPORTED_ALGORITHMS = RSA_ALGORITHMS | frozenset(ECC_CURVES)

MAX_KID_LENGTH = 256
MIN_RSA_BITS = 2048
MAX_RSA_BITS = 8192
MIN_RSA_EXPONENT = 3
MAX_RSA_EXPONENT = 2**32

# Longest base64 text accepted for one integer: an 8192-bit modulus with a leading zero
# byte and padding is 1368 characters; anything much longer is refused before decoding.
_MAX_ENCODED_LENGTH = 1400
_BASE64_ALPHABET = frozenset(string.ascii_letters + string.digits + "+/")

PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class TokenKey:
    """A validated policy key: its id, its one algorithm, and the public key."""

    kid: str
    alg: str
    public_key: PublicKey


def load_token_key(obj: Mapping[str, object], target: str) -> TokenKey:
    """Validate one key object and load its public key.

    ``target`` names the key in the request (``properties.authentication.keys[1]``);
    errors point at the offending field below it. Raises ``InvalidTokenKey``.
    """
    if not isinstance(obj, Mapping):
        raise InvalidTokenKey("A token key must be a JSON object.", target=target)
    kid = _kid(obj.get("kid"), f"{target}.kid")
    key_type = obj.get("@type")
    alg = obj.get("alg")
    if key_type == RSA_KEY_TYPE:
        if not isinstance(alg, str) or alg not in RSA_ALGORITHMS:
            raise InvalidTokenKey(
                f"An RSA token key needs alg RS256, RS384 or RS512, not {alg!r}.", target=f"{target}.alg"
            )
        return TokenKey(kid, alg, _rsa_key(obj, target))
    if key_type == ECC_KEY_TYPE:
        if not isinstance(alg, str) or alg not in ECC_CURVES:
            raise InvalidTokenKey(
                f"An ECC token key needs alg ES256, ES384 or ES512, not {alg!r}.", target=f"{target}.alg"
            )
        return TokenKey(kid, alg, _ecc_key(obj, ECC_CURVES[alg], target))
    raise InvalidTokenKey(
        f"Unknown token key type {key_type!r}; expected {RSA_KEY_TYPE!r} or {ECC_KEY_TYPE!r}.",
        target=f"{target}.@type",
    )


def validate_policy_keys(keys: Sequence[Mapping[str, object]], target_prefix: str) -> list[TokenKey]:
    """Validate a policy's whole key list; every problem is reported at once.

    ``target_prefix`` names the list (``properties.authentication.keys``). The list must
    be non-empty and no two keys may share a ``kid``. Raises ``InvalidTokenKey`` whose
    ``details`` hold one entry per problem.
    """
    if isinstance(keys, str | bytes) or not isinstance(keys, Sequence) or not keys:
        raise InvalidTokenKey("An access policy needs at least one token key.", target=target_prefix)
    loaded: list[TokenKey] = []
    problems: list[ErrorDetail] = []
    seen: set[str] = set()
    for index, obj in enumerate(keys):
        target = f"{target_prefix}[{index}]"
        try:
            key = load_token_key(obj, target)
        except InvalidTokenKey as error:
            problems.append(ErrorDetail(code=error.code, message=error.message, target=error.target))
            continue
        if key.kid in seen:
            problems.append(
                ErrorDetail(InvalidTokenKey.default_code, f"Duplicate kid {key.kid!r}.", f"{target}.kid")
            )
        seen.add(key.kid)
        loaded.append(key)
    if problems:
        first = problems[0]
        message = first.message if len(problems) == 1 else f"{len(problems)} token key problems found."
        raise InvalidTokenKey(message, target=first.target, details=problems)
    return loaded


def _kid(value: object, target: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidTokenKey("A token key needs a non-empty string kid.", target=target)
    if len(value) > MAX_KID_LENGTH:
        raise InvalidTokenKey(f"A kid is at most {MAX_KID_LENGTH} characters.", target=target)
    return value


def _rsa_key(obj: Mapping[str, object], target: str) -> rsa.RSAPublicKey:
    n = _integer(obj.get("n"), f"{target}.n")
    e = _integer(obj.get("e"), f"{target}.e")
    if not MIN_RSA_BITS <= n.bit_length() <= MAX_RSA_BITS:
        raise InvalidTokenKey(
            f"The RSA modulus has {n.bit_length()} bits; it must have {MIN_RSA_BITS} to {MAX_RSA_BITS}.",
            target=f"{target}.n",
        )
    if n % 2 == 0:
        raise InvalidTokenKey("The RSA modulus must be odd.", target=f"{target}.n")
    if e % 2 == 0 or not MIN_RSA_EXPONENT <= e <= MAX_RSA_EXPONENT:
        raise InvalidTokenKey(
            f"The RSA exponent must be odd and between {MIN_RSA_EXPONENT} and 2^32.", target=f"{target}.e"
        )
    try:
        return rsa.RSAPublicNumbers(e, n).public_key()
    except ValueError as error:
        raise InvalidTokenKey(f"The RSA key is not usable: {error}", target=target) from None


def _ecc_key(obj: Mapping[str, object], curve: ec.EllipticCurve, target: str) -> ec.EllipticCurvePublicKey:
    size = (curve.key_size + 7) // 8
    coordinates = []
    for name in ("x", "y"):
        raw = _decode(obj.get(name), f"{target}.{name}")
        if len(raw) != size:
            raise InvalidTokenKey(
                f"{name} must be {size} bytes for {curve.name}, not {len(raw)}.", target=f"{target}.{name}"
            )
        coordinates.append(int.from_bytes(raw, "big"))
    try:
        return ec.EllipticCurvePublicNumbers(coordinates[0], coordinates[1], curve).public_key()
    except ValueError:
        raise InvalidTokenKey(f"(x, y) is not a point on {curve.name}.", target=target) from None


def _integer(value: object, target: str) -> int:
    number = int.from_bytes(_decode(value, target), "big")
    if number == 0:
        raise InvalidTokenKey("The value must be a positive integer.", target=target)
    return number


def _decode(value: object, target: str) -> bytes:
    """Decode base64url or standard base64, padded or not, refusing anything else."""
    if not isinstance(value, str) or not value:
        raise InvalidTokenKey("A non-empty base64 or base64url string is required.", target=target)
    if len(value) > _MAX_ENCODED_LENGTH:
        raise InvalidTokenKey("The value is too long.", target=target)
    text = value.rstrip("=").replace("-", "+").replace("_", "/")
    padding = len(value) - len(value.rstrip("="))
    if padding > 2 or not set(text) <= _BASE64_ALPHABET or len(text) % 4 == 1:
        raise InvalidTokenKey("The value is not valid base64 or base64url.", target=target)
    if padding and len(value) % 4:
        raise InvalidTokenKey("The value has wrong base64 padding.", target=target)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise InvalidTokenKey("The value is not valid base64 or base64url.", target=target) from None
