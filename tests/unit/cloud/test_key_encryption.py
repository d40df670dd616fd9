"""The key-encryption key: where it comes from, what it refuses, and what sealed text is bound to."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

import pytest

from ova.cloud import key_encryption
from ova.cloud.data_dir import InsecureDataDirectory
from ova.cloud.key_encryption import KeyEncryptionError, KeyEncryptionKey
from ova.cloud.settings import CloudSettings

PEM = "-----BEGIN PRIVATE KEY-----\nMIGH...\n-----END PRIVATE KEY-----\n"


def kek_file(path: Path, key: bytes | None = None, mode: int = 0o600) -> Path:
    path.write_bytes(base64.b64encode(key or secrets.token_bytes(32)) + b"\n")
    path.chmod(mode)
    return path


def test_sealed_text_opens_only_with_its_key_and_its_kid() -> None:
    kek = KeyEncryptionKey(secrets.token_bytes(32))
    sealed = kek.seal(PEM, "kid-1")

    assert sealed.startswith("ova-kek1:") and "PRIVATE KEY" not in sealed
    assert kek.open(sealed, "kid-1") == PEM
    assert kek.seal(PEM, "kid-1") != sealed  # a fresh nonce each time
    with pytest.raises(KeyEncryptionError, match="must share key_encryption_key_file"):
        KeyEncryptionKey(secrets.token_bytes(32)).open(sealed, "kid-1")
    with pytest.raises(KeyEncryptionError):
        kek.open(sealed, "kid-2")  # moved to another row
    with pytest.raises(KeyEncryptionError, match="not sealed"):
        kek.open(PEM, "kid-1")


def test_the_data_dir_kek_is_made_once_0600_and_then_kept(tmp_path: Path) -> None:
    settings = CloudSettings(data_dir=tmp_path)
    (tmp_path / "keys").mkdir(mode=0o700)

    first = key_encryption.resolve(settings)
    sealed = first.seal(PEM, "k")

    path = tmp_path / "keys" / "kek"
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(base64.b64decode(path.read_bytes())) == 32
    assert key_encryption.resolve(settings).open(sealed, "k") == PEM
    assert os.listdir(tmp_path / "keys") == ["kek"]


def test_a_configured_kek_file_is_used_and_must_be_private(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    path = kek_file(tmp_path / "shared-kek", key)
    settings = CloudSettings(data_dir=tmp_path / "data", key_encryption_key_file=path)

    sealed = KeyEncryptionKey(key).seal(PEM, "k")
    assert key_encryption.resolve(settings).open(sealed, "k") == PEM
    assert not (tmp_path / "data").exists()

    path.chmod(0o644)
    with pytest.raises(InsecureDataDirectory, match=f"chmod 600 {path}$"):
        key_encryption.resolve(settings)


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "does not exist"), (b"not base64!", "not base64"), (base64.b64encode(b"short"), "32 bytes")],
)
def test_an_unusable_kek_file_is_refused(tmp_path: Path, content: bytes | None, problem: str) -> None:
    path = tmp_path / "kek"
    if content is not None:
        path.write_bytes(content)
        path.chmod(0o600)
    with pytest.raises(KeyEncryptionError, match=problem):
        key_encryption.load(path)


def test_production_with_a_shared_database_needs_a_kek_file(tmp_path: Path) -> None:
    settings = CloudSettings(
        data_dir=tmp_path, profile="production", database_url="postgresql+psycopg://ova@db/ova"
    )
    with pytest.raises(KeyEncryptionError, match="OVA_KEY_ENCRYPTION_KEY_FILE"):
        key_encryption.resolve(settings)
    assert not (tmp_path / "keys").exists()
