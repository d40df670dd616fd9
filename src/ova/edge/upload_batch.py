"""Which cached files go up together, and what the commit of a batch tells the cloud.

A batch is the leading run of init and media segments of a video's cache (at most
``most_segments`` segments and ``MAX_INITS_PER_COMMIT`` inits, committed in one
``SegmentCommit``), or the leading preview images of one instant (one ``PreviewCommit``).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlsplit, urlunsplit

from ova.contracts.edge_api import CommittedInit, CommittedSegment, SegmentCommit
from ova.edge.cache_entry import Entry, EntryKind

MAX_INITS_PER_COMMIT = 16


def next_batch(pending: list[Entry], most_segments: int) -> list[Entry]:
    """The leading run of inits and segments (bounded), or the leading previews of one instant."""
    if not pending:
        return []
    if pending[0].kind is EntryKind.PREVIEW:
        at = pending[0].details.get("atMs")
        return _leading(
            pending, lambda entry: entry.kind is EntryKind.PREVIEW and entry.details.get("atMs") == at, 3
        )
    batch: list[Entry] = []
    segments = inits = 0
    for entry in pending:
        if entry.kind is EntryKind.PREVIEW:
            break
        segments += entry.kind is EntryKind.SEGMENT
        inits += entry.kind is EntryKind.INIT
        if segments > most_segments or inits > MAX_INITS_PER_COMMIT:
            break
        batch.append(entry)
    return batch


def _leading(pending: list[Entry], keep: Callable[[Entry], bool], most: int) -> list[Entry]:
    batch: list[Entry] = []
    for entry in pending[:most]:
        if not keep(entry):
            break
        batch.append(entry)
    return batch


def segment_commit(batch: list[Entry]) -> SegmentCommit:
    inits = [
        CommittedInit.model_validate({**entry.details, "blobName": entry.blob_name})
        for entry in batch
        if entry.kind is EntryKind.INIT
    ]
    segments = [
        CommittedSegment.model_validate(
            {**entry.details, "blobName": entry.blob_name, "size": entry.size, "sha256": entry.sha256}
        )
        for entry in batch
        if entry.kind is EntryKind.SEGMENT
    ]
    return SegmentCommit(inits=inits, segments=segments)


def blob_url(container_sas_url: str, blob_name: str) -> str:
    """``{container URL}/{blob}?{sas}`` from the container's SAS URL."""
    parts = urlsplit(container_sas_url)
    path = parts.path.rstrip("/") + "/" + quote(blob_name, safe="/")
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
