"""The ARM error envelope ``{"error": {code, message, target, details}}`` and its handlers.

Used by the families that keep Video Analyzer's ARM shapes (management, client). Nothing
but the envelope leaves: unexpected exceptions become a bare 500 with a correlation id,
and the traceback goes to the log only, once (with secrets masked, by ``ova.common.logging``).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ova.common.errors import OvaError
from ova.common.logging import mark_logged

log = logging.getLogger("ova.cloud.errors")

_HTTP_CODES = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    403: "AuthorizationFailed",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    411: "LengthRequired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
}


def envelope(
    status: int,
    code: str,
    message: str,
    target: str | None = None,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message, "target": target, "details": details or []}
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="ova"'
    return JSONResponse({"error": error}, status_code=status, headers=headers)


async def _ova_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OvaError)
    details = [{"code": d.code, "message": d.message, "target": d.target} for d in exc.details]
    return envelope(exc.status, exc.code, exc.message, exc.target, details, exc.headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "The request failed."
    return envelope(exc.status_code, _HTTP_CODES.get(exc.status_code, "Error"), message)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = []
    for error in exc.errors()[:20]:
        target = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        details.append(
            {"code": "InvalidValue", "message": str(error.get("msg", "is invalid")), "target": target}
        )
    first = details[0] if details else {"message": "The request is invalid.", "target": None}
    return envelope(
        400, "InvalidRequest", f"'{first['target']}': {first['message']}", first["target"], details
    )


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    correlation = uuid.uuid4().hex
    log.error("unexpected error %s: %s", correlation, type(exc).__name__, exc_info=exc)
    mark_logged(exc)  # once: the server does not print it again
    return envelope(500, "InternalServerError", f"An internal error occurred. Correlation id: {correlation}.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(OvaError, _ova_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
