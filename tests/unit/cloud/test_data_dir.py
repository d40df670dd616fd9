"""The data directory at rest: created private whatever the umask, refused when others can read it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from ova.cloud import data_dir
from ova.cloud.data_dir import InsecureDataDirectory
from ova.cloud.settings import CloudSettings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """umask 000, the loosest there is: every mode below comes from the code, not the umask."""
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("open_umask")
async def test_a_new_data_dir_and_everything_holding_secrets_is_private(tmp_path: Path) -> None:
    from ova.cloud.runtime import build

    data = tmp_path / "data"
    cloud = await build(CloudSettings(data_dir=data))
    try:
        await cloud.services.blobs.create_container("cam1")
        await cloud.services.blobs.put("cam1", "segments/a.m4s", b"media", "video/mp4")
        secrets = ["ova.db", "ova.db-wal", "ova.db-shm", "keys/kek", "storage-keys.json"]
        modes = {name: mode(data / name) for name in secrets}  # SQLite's own files while it is open
    finally:
        await cloud.close()

    assert modes == dict.fromkeys(secrets, 0o600)
    assert mode(data) == mode(data / "keys") == 0o700
    assert mode(data / "blobs") == mode(data / "blobs" / "cam1" / "segments") == 0o700
    assert mode(data / "blobs" / "cam1" / "segments" / "a.m4s") == 0o600
    data_dir.check(data, data / "ova.db")  # what start-up checks passes on what start-up made


def test_a_data_dir_of_an_older_version_is_refused_with_the_fix(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "ova.db").write_bytes(b"")
    (data / "ova.db").chmod(0o644)

    with pytest.raises(InsecureDataDirectory) as refused:
        data_dir.prepare(data, data / "ova.db")

    message = refused.value.message
    assert "\n" not in message
    assert f"{data} (mode 0755)" in message and f"{data / 'ova.db'} (mode 0644)" in message
    assert message.endswith(f"fix with: chmod 700 {data} && chmod 600 {data / 'ova.db'}")
    os.chmod(data, 0o700)
    os.chmod(data / "ova.db", 0o600)
    data_dir.prepare(data, data / "ova.db")  # the printed fix is enough


@pytest.mark.parametrize("name", ["keys/kek", "storage-keys.json", "demo.json", "ova.db-wal"])
def test_any_secret_file_readable_by_group_is_refused(tmp_path: Path, name: str) -> None:
    data = tmp_path / "data"
    data_dir.prepare(data, data / "ova.db")
    (data / name).parent.mkdir(mode=0o700, exist_ok=True)
    (data / name).write_bytes(b"secret")
    (data / name).chmod(0o640)

    with pytest.raises(InsecureDataDirectory, match=f"chmod 600 {data / name}$"):
        data_dir.check(data, data / "ova.db")


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away takes root")
def test_a_data_dir_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data_dir.prepare(data)
    os.chown(data, 4321, -1)

    with pytest.raises(InsecureDataDirectory, match=f"{data} \\(owner uid 4321\\).*chown 0 {data}"):
        data_dir.check(data)


@pytest.mark.usefixtures("open_umask")
def test_private_files_are_replaced_whole_and_stay_0600(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    path.write_text("old")
    path.chmod(0o644)

    data_dir.write_private_file(path, b"new")

    assert path.read_bytes() == b"new" and mode(path) == 0o600
    assert os.listdir(tmp_path) == ["demo.json"]  # no temp file left behind
