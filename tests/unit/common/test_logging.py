"""Secrets never reach a log line."""

from __future__ import annotations

import logging

import pytest

from ova.common.logging import REDACTED, RedactingFilter, redact

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
