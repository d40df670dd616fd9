"""RTSP authentication, client side: HTTP Basic and Digest (RFC 2617, MD5) as cameras use them.

A 401 is answered once with credentials from the URL: Digest when the camera offers it, else
Basic. ``parse_digest`` and ``digest_response`` are shared with the camera simulator, which
checks what a client computes here. Neither the password nor an ``Authorization`` value is
ever logged.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass

_PARAMETER = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))\s*,?')


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def parse_digest(value: str) -> dict[str, str]:
    """The parameters of a ``Digest`` challenge or credential (names lower-cased, unquoted)."""
    parameters = {}
    for match in _PARAMETER.finditer(value):
        name, quoted, token = match.groups()
        parameters[name.lower()] = quoted.replace('\\"', '"') if quoted is not None else token
    return parameters


def digest_response(username: str, password: str, method: str, parameters: dict[str, str], realm: str) -> str:
    """The ``response`` of RFC 2617 §3.2.2, with or without ``qop=auth``."""
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{parameters.get('uri', '')}")
    nonce = parameters.get("nonce", "")
    if parameters.get("qop") == "auth":
        nc, cnonce = parameters.get("nc", ""), parameters.get("cnonce", "")
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


@dataclass
class Credentials:
    """A user name and password, and the challenge the camera answered with (once known)."""

    username: str
    password: str
    challenge: dict[str, str] | None = None
    basic: bool = False
    _count: int = 0

    def accept_challenges(self, values: list[str]) -> bool:
        """Picks Digest (else Basic) among ``WWW-Authenticate`` values; ``False`` when neither."""
        for value in values:
            scheme, _, rest = value.strip().partition(" ")
            if scheme.lower() == "digest":
                self.challenge, self.basic, self._count = parse_digest(rest), False, 0
                return True
        self.basic = any(value.strip().lower().startswith("basic") for value in values)
        return self.basic

    def authorization(self, method: str, uri: str) -> str | None:
        """The ``Authorization`` value for a request, or ``None`` before any challenge."""
        if self.basic:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
            return f"Basic {token}"
        if self.challenge is None:
            return None
        return self._digest(method, uri, self.challenge)

    def _digest(self, method: str, uri: str, challenge: dict[str, str]) -> str:
        realm, nonce = challenge.get("realm", ""), challenge.get("nonce", "")
        parameters = {"uri": uri, "nonce": nonce}
        qop = "auth" if "auth" in challenge.get("qop", "").split(",") else None
        fields = [f'username="{_quote(self.username)}"', f'realm="{_quote(realm)}"']
        fields += [f'nonce="{_quote(nonce)}"', f'uri="{_quote(uri)}"']
        if qop is not None:
            self._count += 1
            parameters |= {"qop": qop, "nc": f"{self._count:08x}", "cnonce": secrets.token_hex(8)}
            fields += [f"qop={qop}", f"nc={parameters['nc']}", f'cnonce="{parameters["cnonce"]}"']
        response = digest_response(self.username, self.password, method, parameters, realm)
        fields.append(f'response="{response}"')
        if "opaque" in challenge:
            fields.append(f'opaque="{_quote(challenge["opaque"])}"')
        return "Digest " + ", ".join(fields)
