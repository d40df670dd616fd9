"""Responses that carry a token: never cached, by browsers or proxies (RFC 6749 §5.1)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def token_response(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers=TOKEN_HEADERS)
