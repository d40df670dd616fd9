"""The filesystem store's two SAS keys, kept in a JSON file (mode 0600) under the data directory.

``{"primary": "<base64>", "secondary": "<base64>" | null}``: created with a random 64-byte
primary on first use; ``rotate`` makes a new primary and keeps the old one as secondary, so
URLs already issued keep working until ``drop_secondary`` (after the longest SAS lifetime).
Writes are durable (temp file, fsync, rename, fsync of the folder). Blocking: call in a thread.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from ova.storage import durable

KEY_BYTES = 64


@dataclass(frozen=True)
class SasKeys:
    primary: bytes
    secondary: bytes | None = None


def load_or_create_keys(path: Path) -> SasKeys:
    """The keys in ``path``, creating the file with a fresh primary key when it is missing."""
    if not path.exists():
        _save(path, SasKeys(secrets.token_bytes(KEY_BYTES)))
    document = json.loads(path.read_text())
    secondary = document.get("secondary")
    return SasKeys(
        base64.b64decode(document["primary"], validate=True),
        base64.b64decode(secondary, validate=True) if secondary else None,
    )


def rotate(path: Path) -> SasKeys:
    """Step 1 and 2 of a rotation at once: a new primary, the old primary kept as secondary."""
    keys = SasKeys(secrets.token_bytes(KEY_BYTES), load_or_create_keys(path).primary)
    _save(path, keys)
    return keys


def drop_secondary(path: Path) -> SasKeys:
    """The last step of a rotation: URLs signed with the old key are refused from now on."""
    keys = SasKeys(load_or_create_keys(path).primary)
    _save(path, keys)
    return keys


def _save(path: Path, keys: SasKeys) -> None:
    document = {
        "primary": base64.b64encode(keys.primary).decode(),
        "secondary": base64.b64encode(keys.secondary).decode() if keys.secondary else None,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, json.dumps(document).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temp, path)
    durable.fsync_dir(path.parent)
