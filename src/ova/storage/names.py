"""Container and blob names: what every backend accepts, checked before any I/O.

Containers follow Azure's rules: 3 to 63 characters of lowercase letters, digits and single
dashes, starting and ending with a letter or digit.

Blob names are stricter than Azure's so that one name means one file on every backend and
one URL path on the storage family: at most 1024 characters; ``/``-separated segments, none
empty (no leading or trailing ``/``, no ``//``) and none ``.`` or ``..``; no backslash, no
``%`` (a name is decoded exactly once, so a ``%`` left over means double encoding), and no
control characters (NUL included).
"""

from __future__ import annotations

import re

from ova.storage.errors import InvalidBlobName

MAX_BLOB_NAME = 1024
_CONTAINER = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f\\%]")


def container_name(name: str) -> str:
    """``name`` when it is a valid container name; InvalidBlobName otherwise."""
    if not _CONTAINER.fullmatch(name):
        raise InvalidBlobName(
            "Container names are 3-63 lowercase letters, digits and single dashes, "
            "starting and ending with a letter or digit.",
            target="container",
        )
    return name


def blob_name(name: str) -> str:
    """``name`` when it is a valid blob name; InvalidBlobName otherwise."""
    problem = _blob_name_problem(name)
    if problem:
        raise InvalidBlobName(f"Invalid blob name: {problem}.", target="blob")
    return name


def _blob_name_problem(name: str) -> str | None:
    if not name:
        return "it is empty"
    if len(name) > MAX_BLOB_NAME:
        return f"it is longer than {MAX_BLOB_NAME} characters"
    if _FORBIDDEN.search(name):
        return "it holds a control character, a backslash or a percent sign"
    for segment in name.split("/"):
        if segment in ("", ".", ".."):
            return "its '/'-separated segments must be non-empty and not '.' or '..'"
    return None


def blob_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a blob name's beginning (it may end with ``/``)."""
    if not prefix:
        return prefix
    blob_name(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix
