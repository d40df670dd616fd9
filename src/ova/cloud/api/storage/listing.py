"""List Blobs (``?restype=container&comp=list``) as Azure's ``EnumerationResults`` XML.

Supports ``prefix``, ``marker`` (continue after that name), ``maxresults`` (1-5000) and
``include=metadata`` (the ``sha256`` the store recorded); ``delimiter`` is refused.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.utils import format_datetime

from starlette.datastructures import QueryParams

from ova.common.errors import ValidationFailed
from ova.storage.blob_store import BlobInfo

MAX_RESULTS = 5000


@dataclass(frozen=True)
class ListQuery:
    prefix: str
    marker: str
    max_results: int
    metadata: bool

    @classmethod
    def parse(cls, query: QueryParams) -> ListQuery:
        if query.get("restype") != "container" or query.get("comp") != "list":
            raise ValidationFailed("Container requests here are listings: restype=container&comp=list.")
        if "delimiter" in query:
            raise ValidationFailed(
                "Listing with a delimiter is not supported.", code="UnsupportedQueryParameter"
            )
        raw_max = query.get("maxresults", str(MAX_RESULTS))
        # ASCII digits, and few of them, before int(): "²".isdigit() holds, and int() of
        # thousands of digits raises instead of answering.
        if not (len(raw_max) <= 4 and raw_max.isascii() and raw_max.isdigit()) or not (
            1 <= int(raw_max) <= MAX_RESULTS
        ):
            raise ValidationFailed(
                f"maxresults must be 1-{MAX_RESULTS}.", code="OutOfRangeQueryParameterValue"
            )
        include = query.get("include", "").split(",")
        return cls(query.get("prefix", ""), query.get("marker", ""), int(raw_max), "metadata" in include)


async def page(blobs: AsyncIterator[BlobInfo], query: ListQuery) -> tuple[list[BlobInfo], str]:
    """Up to ``max_results`` blobs after the marker, and the next marker ("" at the end)."""
    taken: list[BlobInfo] = []
    async for info in blobs:
        if query.marker and info.name <= query.marker:
            continue
        if len(taken) == query.max_results:
            return taken, taken[-1].name
        taken.append(info)
    return taken, ""


def _blob_xml(info: BlobInfo, metadata: bool) -> str:
    e = html.escape
    modified = format_datetime(info.last_modified, usegmt=True) if info.last_modified else ""
    md5 = f"<Content-MD5>{e(info.content_md5)}</Content-MD5>" if info.content_md5 else ""
    meta = f"<sha256>{e(info.sha256)}</sha256>" if metadata and info.sha256 else ""
    return (
        f"<Blob><Name>{e(info.name)}</Name><Properties>"
        f"<Last-Modified>{modified}</Last-Modified><Etag>{e(info.etag)}</Etag>"
        f"<Content-Length>{info.size}</Content-Length><Content-Type>{e(info.content_type)}</Content-Type>"
        f"{md5}<BlobType>BlockBlob</BlobType><LeaseStatus>unlocked</LeaseStatus>"
        f"<LeaseState>available</LeaseState></Properties>"
        + (f"<Metadata>{meta}</Metadata>" if metadata else "")
        + "</Blob>"
    )


def enumeration_results(
    endpoint: str, container: str, query: ListQuery, blobs: list[BlobInfo], next_marker: str
) -> str:
    e = html.escape
    items = "".join(_blob_xml(info, query.metadata) for info in blobs)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<EnumerationResults ServiceEndpoint="{e(endpoint)}" ContainerName="{e(container)}">'
        f"<Prefix>{e(query.prefix)}</Prefix><Marker>{e(query.marker)}</Marker>"
        f"<MaxResults>{query.max_results}</MaxResults><Blobs>{items}</Blobs>"
        f"<NextMarker>{e(next_marker)}</NextMarker></EnumerationResults>"
    )
