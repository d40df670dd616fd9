"""ARM paging on any family: ``$top`` and ``$skipToken`` in, ``@nextLink`` (an absolute URL) out."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from ova.cloud.domain.arm import Page, parse_page


def page_of(request: Request) -> Page:
    params = request.query_params
    return parse_page(params.get("$top"), params.get("$skipToken") or params.get("$skiptoken"))


def next_link(request: Request, token: str | None) -> dict[str, Any]:
    if token is None:
        return {}
    url = request.url.remove_query_params(["$skipToken", "$skiptoken"]).include_query_params(
        **{"$skipToken": token}
    )
    return {"@nextLink": str(url)}
