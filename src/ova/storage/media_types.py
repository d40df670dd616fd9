"""The media types a video archive holds, and the only ones a blob is stored or served with.

The archive's blobs are CMAF init segments (``init/<hash>.mp4``, ``video/mp4``), media segments
(``segments/.../<start>-<seq>.m4s``, ``video/iso.segment``) and preview images
(``preview/.../<size>.jpg``, ``image/jpeg``); a blob uploaded without a type is
``application/octet-stream``. Nothing else is accepted, so no one holding an upload SAS can
make this service's origin serve a page (``text/html``, ``image/svg+xml``) or a script. On
the way out, a stored type outside the list (a store written before this rule, say) is served
as ``application/octet-stream`` and as an attachment.
"""

from __future__ import annotations

from ova.storage.blob_store import DEFAULT_CONTENT_TYPE

ARCHIVE_MEDIA_TYPES = frozenset({"video/mp4", "video/iso.segment", "image/jpeg", DEFAULT_CONTENT_TYPE})
MAX_MEDIA_TYPE_LENGTH = 128


def essence(declared: str) -> str:
    """The type and subtype of a ``Content-Type`` value, lowercased, without its parameters."""
    return declared.split(";", 1)[0].strip().lower()


def stored_type(declared: str | None) -> str | None:
    """The type to store for an upload that declared ``declared``; None when it is not allowed."""
    if not declared or not declared.strip():
        return DEFAULT_CONTENT_TYPE
    if len(declared) > MAX_MEDIA_TYPE_LENGTH:
        return None
    kind = essence(declared)
    return kind if kind in ARCHIVE_MEDIA_TYPES else None


def served_type(stored: str) -> tuple[str, bool]:
    """The ``Content-Type`` to serve a blob stored as ``stored``, and whether as an attachment."""
    kind = essence(stored)
    if kind in ARCHIVE_MEDIA_TYPES and kind != DEFAULT_CONTENT_TYPE:
        return kind, False
    return DEFAULT_CONTENT_TYPE, True
