"""Durable, create-only file operations: what survives a crash or a power cut once it returns.

A file is written to a temp name (``O_EXCL``), fsynced with its extended attributes, then
hard-linked to its final name (``link(2)`` fails rather than replace), and the folder holding
the new name is fsynced; folders created on the way are fsynced into their parents. Temp
files a crash left behind are swept when the store opens. Files are created mode 0600 and
folders 0700: only the user running ``ova`` reads them.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
import uuid
from pathlib import Path

STALE_TEMP_SECONDS = 3600
# Only the user running ova reads what it stores (the umask can only make these stricter).
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(path: Path, base: Path) -> list[Path]:
    """Create ``path`` and its missing parents below ``base`` durably; the folders created."""
    created: list[Path] = []
    missing: list[Path] = []
    folder = path
    while folder != base and not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue
        created.append(folder)
        fsync_dir(folder.parent)
    return created


def remove_tree(path: Path) -> bool:
    if not path.is_dir():
        return False
    shutil.rmtree(path)
    fsync_dir(path.parent)
    return True


def write_temp(folder: Path, data: bytes, attrs: dict[str, str]) -> Path:
    path = folder / uuid.uuid4().hex
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "wb", closefd=False) as handle:
            handle.write(data)
        for key, value in attrs.items():
            os.setxattr(fd, key, value.encode())
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        path.unlink(missing_ok=True)
        raise
    os.close(fd)
    return path


def link_new(temp: Path, target: Path, root: Path) -> bool:
    """Link ``temp`` to ``target`` unless the name is taken (False); then fsync the folder."""
    for _attempt in range(3):  # a concurrent delete may remove an emptied parent folder meanwhile
        make_dirs(target.parent, root)  # FileExistsError or NotADirectoryError: a file is in the way
        try:
            os.link(temp, target)
        except FileExistsError:
            return False
        except FileNotFoundError:
            continue
        fsync_dir(target.parent)
        return True
    raise FileNotFoundError(errno.ENOENT, "the target folder kept disappearing")


def sweep_temp(folder: Path, older_than: float = STALE_TEMP_SECONDS) -> int:
    """Remove temp files older than ``older_than`` seconds (left by a crash); how many went."""
    removed = 0
    cutoff = time.time() - older_than
    for entry in os.scandir(folder):
        if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
            Path(entry.path).unlink(missing_ok=True)
            removed += 1
    return removed
