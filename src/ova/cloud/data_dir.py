"""The data directory and the files in it that hold secrets: created private, checked at start-up.

The directory is mode 0700; the SQLite store (``ova.db`` and its ``-wal``/``-shm`` files),
the key-encryption key (``keys/kek``), the storage SAS keys and the demo's files are mode
0600, all owned by the user running ``ova``. Whatever the umask, ``prepare`` creates them so
and refuses to start (``InsecureDataDirectory``) when one already there is open to group or
others or belongs to another user, as data directories of older versions are: the message
names every such path and the command that fixes it. Blocking: call in a thread.
"""

from __future__ import annotations

import os
import shlex
import stat
from collections.abc import Iterable
from pathlib import Path

from ova.common.errors import OvaError
from ova.storage import durable

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SECRET_DIRS = ("keys",)
SECRET_FILES = ("storage-keys.json", "keys/kek", "demo.json", "demo-issuer-key.pem")
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


class InsecureDataDirectory(OvaError):
    """The data directory or a file holding secrets is readable by other users: start-up refused."""

    default_code = "InsecureDataDirectory"


def prepare(data_dir: Path, database: Path | None = None) -> None:
    """Create ``data_dir`` (0700) and the SQLite file ``database`` (0600) when missing, then check both."""
    make_private_dir(data_dir)
    check(data_dir, database)
    if database is not None and not database.exists():
        make_private_dir(database.parent)
        _create_empty(database)


def check(data_dir: Path, database: Path | None = None) -> None:
    """Raise ``InsecureDataDirectory`` naming every path other users can read or that is not ours."""
    dirs = [data_dir, *(data_dir / name for name in SECRET_DIRS)]
    files = [data_dir / name for name in SECRET_FILES]
    if database is not None:
        files += [database.with_name(database.name + suffix) for suffix in SQLITE_SUFFIXES]
    check_private(dirs, files)


def check_private(dirs: Iterable[Path] = (), files: Iterable[Path] = ()) -> None:
    """Raise ``InsecureDataDirectory`` for each existing one open to group or others, or not ours."""
    problems = [*_problems(dirs, PRIVATE_DIR_MODE), *_problems(files, PRIVATE_FILE_MODE)]
    if problems:
        raise InsecureDataDirectory(_message(problems))


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) with the last folder 0700, whatever the umask."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=PRIVATE_DIR_MODE)
    except FileExistsError:
        return
    os.chmod(path, PRIVATE_DIR_MODE)


def write_private_file(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically and durably with ``data``, mode 0600 from the first byte."""
    temp = durable.write_temp(path.parent, data, {})
    os.replace(temp, path)
    durable.fsync_dir(path.parent)


def _create_empty(path: Path) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    os.fchmod(fd, PRIVATE_FILE_MODE)
    os.close(fd)


def _problems(paths: Iterable[Path], mode: int) -> list[tuple[Path, str, int]]:
    found = []
    for path in paths:
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        if info.st_uid != os.geteuid():
            found.append((path, f"owner uid {info.st_uid}", mode))
        elif stat.S_IMODE(info.st_mode) & ~mode & 0o077:
            found.append((path, f"mode {stat.S_IMODE(info.st_mode):04o}", mode))
    return found


def _message(problems: list[tuple[Path, str, int]]) -> str:
    listed = ", ".join(f"{path} ({what})" for path, what, _ in problems)
    fixes = []
    owned = [shlex.quote(str(path)) for path, what, _ in problems if what.startswith("owner")]
    if owned:
        fixes.append(f"chown {os.geteuid()} {' '.join(owned)}")
    for mode in (PRIVATE_DIR_MODE, PRIVATE_FILE_MODE):
        paths = [shlex.quote(str(path)) for path, _, wanted in problems if wanted == mode]
        if paths:
            fixes.append(f"chmod {mode:o} {' '.join(paths)}")
    return f"other users can read or own {listed}; fix with: {' && '.join(fixes)}"
