"""The storage family's error envelope: Azure Blob's XML, so Azure tools read our errors as Azure's.

Every error is ``<Error><Code>…</Code><Message>…</Message></Error>`` with the code also in the
``x-ms-error-code`` header (which azure-storage-blob maps to its exceptions). Messages come
from the raised error and never hold a URL or a signature; unexpected errors become a bare 500
with a correlation id, and the traceback, with secrets masked, goes to the log only.
"""

from __future__ import annotations

import html
import logging
import traceback
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ova.common.errors import OvaError
from ova.common.logging import mark_logged, redact

log = logging.getLogger("ova.cloud.storage")

_HTTP_CODES = {
    400: "InvalidUri",
    404: "ResourceNotFound",
    405: "UnsupportedHttpVerb",
    411: "MissingContentLengthHeader",
    413: "RequestBodyTooLarge",
}


class RequestBodyTooLarge(OvaError):
    status = 413
    default_code = "RequestBodyTooLarge"


class InvalidHeaderValue(OvaError):
    status = 400
    default_code = "InvalidHeaderValue"


class UnsupportedMediaType(OvaError):
    """An upload's content type is not one of the archive's media types."""

    status = 415
    default_code = "UnsupportedMediaType"


def xml_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Error><Code>{html.escape(code)}</Code><Message>{html.escape(message)}</Message></Error>"
    )
    headers = {**(headers or {}), "x-ms-error-code": code}
    return Response(body, status_code=status, media_type="application/xml", headers=headers)


async def _ova_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OvaError)
    return xml_error(exc.status, exc.code, exc.message, exc.headers)


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "The request failed."
    return xml_error(exc.status_code, _HTTP_CODES.get(exc.status_code, "InvalidInput"), message)


async def _validation_error(_request: Request, _exc: Exception) -> Response:
    return xml_error(400, "InvalidInput", "One of the request inputs is not valid.")


async def _unexpected(_request: Request, exc: Exception) -> Response:
    correlation = uuid.uuid4().hex
    trace = redact("".join(traceback.format_exception(exc)))  # an exception may quote a signed URL
    log.error("unexpected storage error %s: %s\n%s", correlation, type(exc).__name__, trace)
    mark_logged(exc)  # once: the server does not print it again
    return xml_error(500, "InternalError", f"An internal error occurred. Correlation id: {correlation}.")


def install(app: FastAPI) -> None:
    app.add_exception_handler(OvaError, _ova_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
