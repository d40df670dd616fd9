"""The filesystem blob store: the embedded default, served to HTTP clients by the storage family.

Layout under the root directory::

    <root>/<container>/<blob name>     the bytes, one plain file per blob ('/' makes folders)
    <root>/.tmp/                        uploads in progress (container names never start with '.')

so any static file server (nginx with ``sendfile``, running as the same user: blob files are
mode 0600 and folders 0700) can serve ``<root>`` as it is. Each blob
file carries its metadata as user extended attributes, set before the file becomes visible:
``user.ova.sha256`` (hex), ``user.ova.content_md5`` (base64) and ``user.ova.content_type``.

A put is durable and create-only (``ova.storage.durable``): the bytes go to a temp file
(``O_EXCL``), which gets its attributes and is fsynced, then is hard-linked (``link(2)`` never
replaces) to the blob's name, and the folder is fsynced. When the name is taken, the stored
SHA-256 decides: same bytes, the put succeeds idempotently; other bytes, ``BlobExists``.
Every path is built from checked names and its resolved form must lie inside the container,
so no name leaves the root. All blocking I/O runs in worker threads.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import BinaryIO, NamedTuple, TypeVar
from urllib.parse import quote

from ova.storage import durable, names
from ova.storage.blob_store import DEFAULT_CONTENT_TYPE, BlobInfo
from ova.storage.errors import (
    BlobExists,
    BlobNotFound,
    ContainerNotFound,
    InvalidBlobName,
    InvalidRange,
    StorageUnavailable,
)
from ova.storage.sas import SasSigner

T = TypeVar("T")
CHUNK_SIZE = 256 * 1024
TMP_DIR = ".tmp"
SHA256_ATTR = "user.ova.sha256"
MD5_ATTR = "user.ova.content_md5"
TYPE_ATTR = "user.ova.content_type"
_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


def check_range(start: int, end: int | None) -> None:
    if start < 0 or (end is not None and end <= start):
        raise InvalidRange("A range needs 0 <= start < end.")


class FilesystemBlobStore:
    """Blobs as files under ``root`` (see the module docstring)."""

    def __init__(self, root: Path, *, signer: SasSigner | None = None, public_url: str | None = None) -> None:
        """``public_url`` is the storage family's base URL (``…/storage``) used by ``signed_url``.

        Creates ``root`` and checks that it takes extended attributes (blocking: call at start-up).
        """
        self.root = Path(os.path.realpath(root))
        self._signer = signer
        self._public_url = public_url.rstrip("/") if public_url else None
        self.root.parent.mkdir(parents=True, exist_ok=True)
        for folder in (self.root, self.root / TMP_DIR):
            folder.mkdir(mode=durable.PRIVATE_DIR_MODE, exist_ok=True)
        _probe_xattrs(self.root / TMP_DIR)
        durable.sweep_temp(self.root / TMP_DIR)

    # -- containers --------------------------------------------------------------------------

    async def create_container(self, name: str) -> None:
        path = self.root / names.container_name(name)
        await _blocking(durable.make_dirs, path, self.root)

    async def delete_container(self, name: str) -> bool:
        path = self.root / names.container_name(name)
        return await _blocking(durable.remove_tree, path)

    # -- blobs -------------------------------------------------------------------------------

    async def put(self, container: str, name: str, data: bytes, content_type: str) -> BlobInfo:
        return await self._run(container, name, self._put, data, content_type or DEFAULT_CONTENT_TYPE)

    async def get(self, container: str, name: str) -> bytes:
        return await self._run(container, name, _read_blob)

    async def stream(
        self, container: str, name: str, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        check_range(start, end)
        handle, stop = await self._run(container, name, _open_range, start, end)
        try:
            position = start
            while position < stop:
                chunk = await _blocking(handle.read, min(CHUNK_SIZE, stop - position))
                if not chunk:
                    break
                position += len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def head(self, container: str, name: str) -> BlobInfo | None:
        return await self._run(container, name, _info_or_none)

    async def local_file(self, container: str, name: str) -> tuple[Path, BlobInfo]:
        """The blob's file and info, for responses the server sends from the file itself."""
        info = await self.head(container, name)
        if info is None:
            raise BlobNotFound("The specified blob does not exist.")
        return self.root / container / name, info

    async def delete(self, container: str, name: str) -> bool:
        return await self._run(container, name, _delete_blob)

    async def signed_url(
        self,
        container: str,
        name: str | None,
        permissions: str,
        expires_at: datetime,
        start_at: datetime | None = None,
    ) -> str | None:
        if self._signer is None or self._public_url is None:
            return None
        names.container_name(container)
        if name is not None:
            names.blob_name(name)
        allow_http = not self._public_url.startswith("https:")
        query = self._signer.sign(container, name, permissions, expires_at, start_at, allow_http=allow_http)
        path = f"/{container}" + (f"/{quote(name, safe='/')}" if name is not None else "")
        return f"{self._public_url}{path}?{query}"

    async def close(self) -> None:
        return None

    async def list(self, container: str, prefix: str = "") -> AsyncIterator[BlobInfo]:
        base = self.root / names.container_name(container)
        names.blob_prefix(prefix)
        for info in await _blocking(_list_infos, base, container, prefix):
            yield info

    # -- internals ---------------------------------------------------------------------------

    async def _run(self, container: str, name: str, function: Callable[..., T], *args: object) -> T:
        """``function(blob)`` in a thread, for a blob whose path was built from checked names and
        is refused if it resolves outside its container (a symlink, say)."""
        base = self.root / names.container_name(container)
        blob = _Blob(base, base / names.blob_name(name), container, name)
        return await _blocking(_contained, blob, function, *args)

    def _put(self, blob: _Blob, data: bytes, content_type: str) -> BlobInfo:
        base, target, container, name = blob
        if not base.is_dir():
            raise ContainerNotFound("The specified container does not exist.")
        digest = hashlib.sha256(data).hexdigest()
        md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        attrs = {SHA256_ATTR: digest, MD5_ATTR: md5, TYPE_ATTR: content_type}
        temp = durable.write_temp(self.root / TMP_DIR, data, attrs)
        try:
            if not durable.link_new(temp, target, self.root):
                return _existing(target, container, name, digest)
        except (FileExistsError, NotADirectoryError):
            raise BlobExists("A blob already uses part of this name as its own name.") from None
        finally:
            os.unlink(temp)
        return _info(target, container, name)


async def _blocking(function: Callable[..., T], *args: object) -> T:
    """Run blocking file work in a thread; I/O failures become StorageUnavailable."""
    try:
        return await asyncio.to_thread(function, *args)
    except OSError as exc:
        reason = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
        raise StorageUnavailable(f"The blob store's file system failed ({reason}).") from exc


class _Blob(NamedTuple):
    base: Path
    path: Path
    container: str
    name: str


def _contained(blob: _Blob, function: Callable[..., T], *args: object) -> T:
    if not os.path.realpath(blob.path).startswith(os.path.realpath(blob.base) + os.sep):
        raise InvalidBlobName("Invalid blob name: it leads outside its container.", target="blob")
    return function(blob, *args)


def _probe_xattrs(folder: Path) -> None:
    probe = folder / f"probe-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"")
        os.setxattr(probe, SHA256_ATTR, b"probe")
    except OSError as exc:
        raise StorageUnavailable(
            f"The file system under {folder.parent} does not take user extended attributes."
        ) from exc
    finally:
        probe.unlink(missing_ok=True)


def _existing(target: Path, container: str, name: str, digest: str) -> BlobInfo:
    info = _info_or_none(_Blob(target.parent, target, container, name))
    if info is None or info.sha256 != digest:
        raise BlobExists("The specified blob already exists with other content.")
    return info


def _xattr(path: Path, key: str) -> str | None:
    try:
        return os.getxattr(path, key).decode()
    except OSError as exc:
        if exc.errno == errno.ENODATA:
            return None
        raise


def _file_digests(path: Path) -> tuple[str, str]:
    sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            sha.update(chunk)
            md5.update(chunk)
    return sha.hexdigest(), base64.b64encode(md5.digest()).decode()


def _info(path: Path, container: str, name: str) -> BlobInfo:
    """The blob's info; digests are recomputed if the attributes were lost (a copy without them)."""
    stat = os.stat(path)
    if not S_ISREG(stat.st_mode):
        raise IsADirectoryError(errno.EISDIR, "not a blob")
    sha, md5 = _xattr(path, SHA256_ATTR), _xattr(path, MD5_ATTR)
    if sha is None or md5 is None:
        sha, md5 = _file_digests(path)
    return BlobInfo(
        container=container,
        name=name,
        size=stat.st_size,
        content_type=_xattr(path, TYPE_ATTR) or DEFAULT_CONTENT_TYPE,
        etag=f'"{sha[:32]}"',
        sha256=sha,
        content_md5=md5,
        last_modified=datetime.fromtimestamp(int(stat.st_mtime), UTC),
    )


def _info_or_none(blob: _Blob) -> BlobInfo | None:
    try:
        return _info(blob.path, blob.container, blob.name)
    except _MISSING:
        return None


def _read_blob(blob: _Blob) -> bytes:
    path = blob.path
    try:
        if not path.is_file():
            raise FileNotFoundError(errno.ENOENT, "not a blob")
        return path.read_bytes()
    except _MISSING:
        raise BlobNotFound("The specified blob does not exist.") from None


def _open_range(blob: _Blob, start: int, end: int | None) -> tuple[BinaryIO, int]:
    path = blob.path
    try:
        if not path.is_file():
            raise FileNotFoundError(errno.ENOENT, "not a blob")
        handle = path.open("rb")
    except _MISSING:
        raise BlobNotFound("The specified blob does not exist.") from None
    size = os.fstat(handle.fileno()).st_size
    if start >= size and not start == size == 0:
        handle.close()
        raise InvalidRange("The range starts past the end of the blob.")
    handle.seek(start)
    return handle, size if end is None else min(end, size)


def _delete_blob(blob: _Blob) -> bool:
    base, path = blob.base, blob.path
    try:
        if not path.is_file():
            return False
        path.unlink()
    except _MISSING:
        return False
    durable.fsync_dir(path.parent)
    folder = path.parent
    while folder != base:  # drop folders the delete emptied, so listings stay clean
        try:
            folder.rmdir()
        except OSError:
            break
        folder = folder.parent
    return True


def _list_infos(base: Path, container: str, prefix: str) -> list[BlobInfo]:
    if not base.is_dir():
        raise ContainerNotFound("The specified container does not exist.")
    start = base / prefix.rpartition("/")[0]
    found = sorted(name for name in _walk(start, base) if name.startswith(prefix))
    infos = [_info_or_none(_Blob(base, base / name, container, name)) for name in found]
    return [info for info in infos if info is not None]


def _walk(folder: Path, base: Path) -> list[str]:
    """Names (relative to ``base``) of the regular files under ``folder``; symlinks are not followed."""
    try:
        entries = list(os.scandir(folder))
    except _MISSING:
        return []
    found: list[str] = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            found += _walk(Path(entry.path), base)
        elif entry.is_file(follow_symlinks=False):
            found.append(Path(entry.path).relative_to(base).as_posix())
    return found
