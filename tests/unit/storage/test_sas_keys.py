"""The filesystem store's SAS keys on disk, and a rotation through them."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from ova.common.clock import FrozenClock
from ova.storage.errors import SasDenied
from ova.storage.keys import drop_secondary, load_or_create_keys, rotate
from ova.storage.sas import Operation, SasSigner

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def signer(path: Path) -> SasSigner:
    keys = load_or_create_keys(path)
    return SasSigner("acct", keys.primary, keys.secondary, clock=FrozenClock(NOW))


def test_keys_are_created_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "storage-keys.json"
    first = load_or_create_keys(path)
    assert len(first.primary) == 64 and first.secondary is None
    assert load_or_create_keys(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_rotation_keeps_issued_urls_valid_until_the_old_key_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "storage-keys.json"
    issued = parse_qsl(signer(path).sign("cam1", None, "r", NOW + timedelta(hours=1)))
    rotate(path)
    signer(path).verify(issued, "cam1", "a.m4s", Operation.READ, NOW, "https")
    fresh = parse_qsl(signer(path).sign("cam1", None, "r", NOW + timedelta(hours=1)))
    drop_secondary(path)
    signer(path).verify(fresh, "cam1", "a.m4s", Operation.READ, NOW, "https")
    with pytest.raises(SasDenied):
        signer(path).verify(issued, "cam1", "a.m4s", Operation.READ, NOW, "https")
    assert [p.name for p in tmp_path.iterdir()] == ["storage-keys.json"]
