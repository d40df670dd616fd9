"""Secrets never reach a log line."""

from __future__ import annotations

import logging
import sys

import pytest

from ova.common.logging import (
    REDACTED,
    AlreadyLogged,
    RedactingFilter,
    RedactingFormatter,
    mark_logged,
    redact,
)

KEY = "ova_0123456789abcdef_" + "a" * 43
JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"GET /v/manifest?token={JWT}&a=1", JWT),
        (f"Authorization: Bearer {KEY}", KEY),
        ("PUT /blob?sp=c&sig=abc%2Fdef&se=1", "abc%2Fdef"),
        (f"failed for {JWT}", JWT),
        (f"key {KEY} created", KEY),
        ("Authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("camera rtsp://admin:s3cret@10.0.0.9:554/live", "s3cret"),
        ("camera rtsps://admin:p%40ss@cam/live", "p%40ss"),
        ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=QUJD+/==;EndpointSuffix=x", "QUJD+/=="),
        ("HostName=h.azure-devices.net;SharedAccessKeyName=o;SharedAccessKey=c2VjcmV0", "c2VjcmV0"),
        ("Authorization: SharedAccessSignature sr=h%2Fdevices&sig=c2ln&se=1", "sr=h%2Fdevices"),
    ],
)
def test_secrets_are_masked(text: str, secret: str) -> None:
    cleaned = redact(text)
    assert secret not in cleaned
    assert REDACTED in cleaned


def test_plain_text_is_untouched() -> None:
    assert redact("listening on http://127.0.0.1:8080 (management)") == (
        "listening on http://127.0.0.1:8080 (management)"
    )


def test_filter_rewrites_formatted_records() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "request %s", (f"?token={JWT}",), None)
    assert RedactingFilter().filter(record)
    assert JWT not in record.getMessage()


def test_camera_urls_keep_their_user_and_host() -> None:
    assert redact("rtsp://admin:pw@cam:554/live") == f"rtsp://admin:{REDACTED}@cam:554/live"
    assert redact("rtsp://cam:554/live@x") == "rtsp://cam:554/live@x"


def test_formatted_tracebacks_and_stacks_are_masked() -> None:
    try:
        raise RuntimeError(f"refused ?token={JWT}")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), exc_info)
    record.stack_info = f"Stack (most recent call last):\n  key {KEY}"

    line = RedactingFormatter().format(record)

    assert "Traceback (most recent call last)" in line
    assert JWT not in line
    assert KEY not in line


def test_arguments_stay_apart_when_masking_them_suffices() -> None:
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, '%s "%s"', ("127.0.0.1", f"GET /?x={JWT}"), None
    )
    assert RedactingFilter().filter(record)
    assert record.args == ("127.0.0.1", f"GET /?x={REDACTED}")


def test_an_error_already_logged_is_not_logged_again() -> None:
    error = RuntimeError("boom")
    record = logging.LogRecord(
        "uvicorn.error", logging.ERROR, __file__, 1, "Exception", (), (None, error, None)
    )
    assert AlreadyLogged().filter(record)
    mark_logged(error)
    assert not AlreadyLogged().filter(record)
