"""Logging set-up with secrets masked: tokens, signatures and keys never reach a log line."""

from __future__ import annotations

import logging
import re

REDACTED = "[REDACTED]"
_PATTERNS = [
    re.compile(r"(?i)(?P<keep>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(?P<keep>\b(?:token|sig|authorization|access_token)=)[^&\s\"']+"),
    re.compile(r"(?P<keep>)\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*"),
    re.compile(r"(?P<keep>)\bova_[0-9a-f]{16}_[A-Za-z0-9_-]{43}"),
]


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\g<keep>{REDACTED}", text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message with secrets masked (attach to handlers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("alembic", "httpx", "azure"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
