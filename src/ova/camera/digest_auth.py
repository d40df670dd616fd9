"""RTSP authentication as IP cameras do it: HTTP Basic and Digest (RFC 2617, MD5) on each request.

Digest nonces are stateless: ``<hex expiry>:<HMAC-SHA256 of the expiry>`` under a per-process
secret, valid for ``nonce_lifetime`` seconds; an expired one is answered with ``stale=true`` so
the client retries without asking its user again. Comparisons are constant time and neither
the password nor a client's ``Authorization`` value is ever logged or echoed. Parsing and the
digest computation are ``ova.media.rtsp.auth``'s, shared with the ingest's client.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from ova.media.rtsp.auth import digest_response as rfc2617_response
from ova.media.rtsp.auth import parse_digest

Scheme = Literal["any", "basic", "digest"]
REALM = "ova-camera"
__all__ = ["REALM", "Authenticator", "digest_response", "parse_digest"]


def digest_response(
    username: str, password: str, method: str, parameters: dict[str, str], realm: str = REALM
) -> str:
    """The ``response`` a client computes (RFC 2617 §3.2.2), in this camera's realm by default."""
    return rfc2617_response(username, password, method, parameters, realm)


@dataclass
class Authenticator:
    """Checks ``Authorization`` headers against one username and password."""

    username: str
    password: str
    scheme: Scheme = "any"
    nonce_lifetime: float = 300.0
    clock: Callable[[], float] = time.time
    _secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)

    def new_nonce(self) -> str:
        expiry = f"{int(self.clock() + self.nonce_lifetime):x}"
        return f"{expiry}:{self._sign(expiry)}"

    def _sign(self, expiry: str) -> str:
        return hmac.new(self._secret, expiry.encode("ascii"), hashlib.sha256).hexdigest()[:32]

    def _nonce_state(self, nonce: str) -> Literal["valid", "stale", "invalid"]:
        expiry, _, signature = nonce.partition(":")
        if not hmac.compare_digest(signature.encode(), self._sign(expiry).encode()):
            return "invalid"
        try:
            return "valid" if int(expiry, 16) >= self.clock() else "stale"
        except ValueError:
            return "invalid"

    def challenges(self, stale: bool = False) -> list[tuple[str, str]]:
        """``WWW-Authenticate`` headers for a 401, Digest first."""
        headers = []
        if self.scheme in ("any", "digest"):
            extra = ", stale=true" if stale else ""
            headers.append(("WWW-Authenticate", f'Digest realm="{REALM}", nonce="{self.new_nonce()}"{extra}'))
        if self.scheme in ("any", "basic"):
            headers.append(("WWW-Authenticate", f'Basic realm="{REALM}"'))
        return headers

    def check(self, method: str, authorization: str | None) -> Literal["ok", "stale", "denied"]:
        """Whether a request's ``Authorization`` value admits it."""
        if authorization is None:
            return "denied"
        kind, _, credential = authorization.strip().partition(" ")
        if kind.lower() == "basic" and self.scheme in ("any", "basic"):
            return "ok" if self._check_basic(credential.strip()) else "denied"
        if kind.lower() == "digest" and self.scheme in ("any", "digest"):
            return self._check_digest(method, parse_digest(credential))
        return "denied"

    def _check_basic(self, credential: str) -> bool:
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        expected = f"{self.username}:{self.password}"
        return hmac.compare_digest(decoded.encode(), expected.encode())

    def _check_digest(self, method: str, parameters: dict[str, str]) -> Literal["ok", "stale", "denied"]:
        if parameters.get("username") != self.username or parameters.get("realm") != REALM:
            return "denied"
        expected = digest_response(self.username, self.password, method, parameters)
        if not hmac.compare_digest(parameters.get("response", "").lower().encode(), expected.encode()):
            return "denied"
        state = self._nonce_state(parameters.get("nonce", ""))
        return "ok" if state == "valid" else "stale" if state == "stale" else "denied"
