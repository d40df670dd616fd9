"""What only the filesystem store promises: durable create-only writes, metadata in xattrs, no escapes."""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ova.common.clock import FrozenClock
from ova.storage import filesystem
from ova.storage.errors import BlobExists, BlobNotFound, InvalidBlobName, StorageUnavailable
from ova.storage.filesystem import FilesystemBlobStore
from ova.storage.sas import SasSigner

NAME = "segments/2030/01/01/12/1893499200000-1.m4s"


@pytest.fixture
async def store(tmp_path: Path) -> FilesystemBlobStore:
    store = FilesystemBlobStore(tmp_path / "root")
    await store.create_container("cam1")
    return store


def temp_files(store: FilesystemBlobStore) -> list[str]:
    return os.listdir(store.root / filesystem.TMP_DIR)


async def test_put_fsyncs_the_file_before_linking_and_the_folder_after(
    store: FilesystemBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_link = os.fsync, os.link

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync-file")
        real_fsync(fd)

    def link(src: str | Path, dst: str | Path) -> None:
        events.append("link")
        real_link(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "link", link)
    await store.put("cam1", NAME, b"media", "video/mp4")
    assert events.index("fsync-file") < events.index("link") < len(events) - 1
    assert events[-1] == "fsync-dir"
    assert temp_files(store) == []


async def test_metadata_travels_with_the_file(store: FilesystemBlobStore) -> None:
    await store.put("cam1", NAME, b"media", "video/mp4")
    path = store.root / "cam1" / NAME
    assert path.read_bytes() == b"media"
    assert os.getxattr(path, filesystem.SHA256_ATTR).decode() == hashlib.sha256(b"media").hexdigest()
    assert os.getxattr(path, filesystem.TYPE_ATTR) == b"video/mp4"


async def test_a_copy_without_attributes_still_reports_its_digest(store: FilesystemBlobStore) -> None:
    info = await store.put("cam1", NAME, b"media", "video/mp4")
    path = store.root / "cam1" / NAME
    shutil.copyfile(path, path.with_suffix(".copy"))
    path.unlink()
    path.with_suffix(".copy").rename(path)
    head = await store.head("cam1", NAME)
    assert head is not None
    assert (head.sha256, head.content_md5, head.etag) == (info.sha256, info.content_md5, info.etag)
    assert head.content_type == "application/octet-stream"
    await store.put("cam1", NAME, b"media", "video/mp4")  # still idempotent
    with pytest.raises(BlobExists):
        await store.put("cam1", NAME, b"other", "video/mp4")


async def test_failures_leave_no_temp_file_and_no_blob(
    store: FilesystemBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_fsync(_fd: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(StorageUnavailable, match="EIO"):
        await store.put("cam1", NAME, b"media", "video/mp4")
    monkeypatch.undo()
    assert temp_files(store) == []
    assert await store.head("cam1", NAME) is None


async def test_concurrent_identical_puts_all_succeed(store: FilesystemBlobStore) -> None:
    infos = await asyncio.gather(*(store.put("cam1", NAME, b"same", "video/mp4") for _ in range(8)))
    assert len({info.etag for info in infos}) == 1
    assert temp_files(store) == []


async def test_a_blob_and_a_folder_cannot_share_a_name(store: FilesystemBlobStore) -> None:
    await store.put("cam1", "a/b", b"x", "text/plain")
    with pytest.raises(BlobExists):
        await store.put("cam1", "a", b"y", "text/plain")
    with pytest.raises(BlobExists):
        await store.put("cam1", "a/b/c", b"y", "text/plain")
    with pytest.raises(BlobNotFound):
        await store.get("cam1", "a")
    assert await store.head("cam1", "a") is None
    assert await store.delete("cam1", "a") is False


async def test_delete_prunes_emptied_folders(store: FilesystemBlobStore) -> None:
    await store.put("cam1", "segments/2030/01/a.m4s", b"x", "video/mp4")
    await store.put("cam1", "segments/keep.m4s", b"x", "video/mp4")
    assert await store.delete("cam1", "segments/2030/01/a.m4s")
    assert sorted(os.listdir(store.root / "cam1" / "segments")) == ["keep.m4s"]


async def test_symlinks_cannot_lead_out(store: FilesystemBlobStore, tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_bytes(b"secret")
    (store.root / "cam1" / "escape").symlink_to(tmp_path / "outside")
    with pytest.raises(InvalidBlobName):
        await store.get("cam1", "escape/secret")
    with pytest.raises(InvalidBlobName):
        await store.put("cam1", "escape/new", b"x", "text/plain")
    assert [info.name async for info in store.list("cam1")] == []
    assert not (tmp_path / "outside" / "new").exists()


async def test_a_file_system_without_xattrs_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(*_args: object) -> None:
        raise OSError(errno.ENOTSUP, "Operation not supported")

    monkeypatch.setattr(os, "setxattr", unsupported)
    with pytest.raises(StorageUnavailable, match="extended attributes"):
        FilesystemBlobStore(tmp_path / "root")


async def test_signed_urls_need_a_signer_and_a_public_url(tmp_path: Path) -> None:
    expiry = datetime(2030, 1, 1, 13, tzinfo=UTC)
    assert await FilesystemBlobStore(tmp_path / "a").signed_url("cam1", NAME, "r", expiry) is None
    key = b"k" * 32
    signer = SasSigner("acct", key, clock=FrozenClock(expiry - timedelta(hours=1)))
    plain = FilesystemBlobStore(tmp_path / "b", signer=signer, public_url="http://127.0.0.1:8080/storage/")
    url = await plain.signed_url("cam1", "a b.mp4", "r", expiry)
    assert url is not None
    assert url.startswith("http://127.0.0.1:8080/storage/cam1/a%20b.mp4?sv=")
    assert "spr=https%2Chttp" in url
    tls = FilesystemBlobStore(tmp_path / "c", signer=signer, public_url="https://media.example.com/storage")
    assert "spr=https&" in (await tls.signed_url("cam1", None, "rl", expiry) or "")


async def test_temp_files_left_by_a_crash_are_swept_at_start(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "root")
    stale, fresh = store.root / filesystem.TMP_DIR / "stale", store.root / filesystem.TMP_DIR / "fresh"
    stale.write_bytes(b"half an upload")
    fresh.write_bytes(b"an upload in progress")
    hours_ago = time.time() - 2 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    FilesystemBlobStore(tmp_path / "root")
    assert sorted(temp_files(store)) == ["fresh"]


async def test_blobs_are_0600_in_0700_folders_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        store = FilesystemBlobStore(tmp_path / "elsewhere" / "blobs")
        await store.create_container("cam1")
        await store.put("cam1", "init/a.mp4", b"init", "video/mp4")
    finally:
        os.umask(previous)

    def mode(path: Path) -> int:
        return path.stat().st_mode & 0o777

    assert mode(store.root) == mode(store.root / ".tmp") == mode(store.root / "cam1" / "init") == 0o700
    assert mode(store.root / "cam1" / "init" / "a.mp4") == 0o600
