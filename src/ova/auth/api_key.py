"""Operator API keys: ``ova_<key id>_<secret>``, stored as a SHA-256 of the secret.

The secret has 256 bits of entropy, so a plain hash is enough (no password stretching);
the key id finds the row, and the hash is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "ova"
KEY_FORMAT = re.compile(r"^ova_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    secret: str

    @property
    def value(self) -> str:
        return f"{PREFIX}_{self.key_id}_{self.secret}"

    @property
    def secret_hash(self) -> str:
        return hash_secret(self.secret)


def generate() -> ApiKey:
    return ApiKey(key_id=secrets.token_hex(8), secret=secrets.token_urlsafe(32))


def parse(value: str) -> ApiKey | None:
    match = KEY_FORMAT.fullmatch(value) if len(value) < 128 else None
    return ApiKey(key_id=match.group(1), secret=match.group(2)) if match else None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(key: ApiKey, stored_hash: str) -> bool:
    return hmac.compare_digest(key.secret_hash, stored_hash)
