"""ARM paging on any family: ``$top`` and ``$skipToken`` in, ``@nextLink`` (an absolute URL) out."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ova.cloud.domain.arm import MAX_PAGE_SIZE, Page, parse_page
from ova.common.errors import ValidationFailed

MAX_SKIP_TOKEN_LENGTH = 4096


def page_of(request: Request) -> Page:
    """The page a list request asks for; a 400 for a ``$top`` or ``$skipToken`` out of bounds.

    Lengths are checked before anything parses them: ``int()`` of thousands of digits raises.
    """
    params = request.query_params
    top = params.get("$top")
    skip_token = params.get("$skipToken") or params.get("$skiptoken")
    if top is not None and len(top) > len(str(MAX_PAGE_SIZE)):
        raise ValidationFailed(f"$top must be an integer from 1 to {MAX_PAGE_SIZE}.", target="$top")
    if skip_token is not None and len(skip_token) > MAX_SKIP_TOKEN_LENGTH:
        raise ValidationFailed("$skipToken is invalid.", target="$skipToken")
    return parse_page(top, skip_token)


def next_link(request: Request, token: str | None) -> dict[str, Any]:
    if token is None:
        return {}
    url = request.url.remove_query_params(["$skipToken", "$skiptoken"]).include_query_params(
        **{"$skipToken": token}
    )
    return {"@nextLink": str(url)}
