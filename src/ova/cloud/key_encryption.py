"""The key-encryption key (KEK) that seals the service's token-signing keys in the database.

A reader of the database alone (a copy of ``ova.db``, a PostgreSQL dump) finds only sealed
text, ``ova-kek1:`` then base64 of a 12-byte nonce and the AES-256-GCM ciphertext and tag;
the signing key's ``kid`` is the associated data, so a sealed key cannot be moved to another
row. The KEK is 32 random bytes, kept base64 in a file of mode 0600: ``key_encryption_key_file``
when set (replicas sharing one database must share it), else ``DATA_DIR/keys/kek``, created on
first start. The production profile refuses to start with ``database_url`` set and no
``key_encryption_key_file``, since the data directory's KEK would then be one replica's alone.
Blocking: call in a thread.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ova.cloud import data_dir
from ova.cloud.settings import CloudSettings
from ova.common.errors import OvaError

PREFIX = "ova-kek1:"
KEY_BYTES = 32
NONCE_BYTES = 12
DEFAULT_PATH = Path("keys") / "kek"


class KeyEncryptionError(OvaError):
    """The KEK is missing, malformed or not the one the stored signing keys were sealed with."""

    default_code = "KeyEncryptionKeyUnusable"


class KeyEncryptionKey:
    """Seals and opens secrets with AES-256-GCM under one 32-byte key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise KeyEncryptionError(f"A key-encryption key is {KEY_BYTES} bytes, not {len(key)}.")
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, text: str, context: str) -> str:
        """The plaintext of ``seal(…, context)``; ``KeyEncryptionError`` for any other text or key."""
        if not is_sealed(text):
            raise KeyEncryptionError(f"The stored key {context!r} is not sealed.")
        try:
            raw = base64.b64decode(text[len(PREFIX) :], validate=True)
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], context.encode()).decode()
        except (binascii.Error, InvalidTag, ValueError):
            raise KeyEncryptionError(
                f"The stored signing key {context!r} does not open with this key-encryption key; "
                "replicas sharing a database must share key_encryption_key_file."
            ) from None


def is_sealed(text: str) -> bool:
    return text.startswith(PREFIX)


def resolve(settings: CloudSettings) -> KeyEncryptionKey:
    """The deployment's KEK: the configured file, or the data directory's (created on first start)."""
    if settings.key_encryption_key_file is not None:
        return load(settings.key_encryption_key_file)
    if settings.database_url is not None and settings.profile == "production":
        raise KeyEncryptionError(
            "The production profile with database_url set needs key_encryption_key_file "
            "(OVA_KEY_ENCRYPTION_KEY_FILE), shared by every replica: create one with "
            "'openssl rand -base64 32 > FILE && chmod 600 FILE'."
        )
    return load_or_create(settings.data_dir / DEFAULT_PATH)


def load(path: Path) -> KeyEncryptionKey:
    """The KEK in ``path``: base64 of 32 bytes, in a file of mode 0600 owned by this user."""
    if not path.is_file():
        raise KeyEncryptionError(f"The key-encryption key file {path} does not exist.")
    data_dir.check_private(files=[path])
    try:
        key = base64.b64decode(path.read_bytes().strip(), validate=True)
    except binascii.Error:
        raise KeyEncryptionError(f"The key-encryption key file {path} is not base64.") from None
    if len(key) != KEY_BYTES:
        raise KeyEncryptionError(f"The key-encryption key file {path} must hold {KEY_BYTES} bytes (base64).")
    return KeyEncryptionKey(key)


def load_or_create(path: Path) -> KeyEncryptionKey:
    """The KEK in ``path``, first creating it (0600, in a 0700 folder) with 32 random bytes."""
    if not path.exists():
        data_dir.make_private_dir(path.parent)
        temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        data_dir.write_private_file(temp, base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
        try:
            os.link(temp, path)  # never replaces a KEK another process created meanwhile
        except FileExistsError:
            pass
        finally:
            temp.unlink(missing_ok=True)
    return load(path)
