"""Logging set-up with secrets masked: tokens, signatures and keys never reach a log line.

Masking happens twice, so no path around it is left:

- when a record is made (a record factory, installed by ``configure``): its message, its
  traceback (``exc_info``, formatted once and kept as ``exc_text``) and its ``stack_info`` are
  masked before any handler sees them, so handlers added later (uvicorn's, a library's) and
  ``logging.lastResort`` print masked text too;
- when a configured handler writes (``RedactingFormatter``): the whole formatted line is masked
  again, whatever the formatter added.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

REDACTED = "[REDACTED]"
_PATTERNS = [
    re.compile(r"(?i)(?P<keep>\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)(?P<keep>\bSharedAccessSignature\s+)[^\s\"',;]+"),
    re.compile(
        r"(?i)(?P<keep>\b(?:token|sig|signature|authorization|access_token|password|"
        r"accountkey|sharedaccesskey|secret)=)[^&;\s\"']+"
    ),
    re.compile(r"(?i)(?P<keep>\b(?:rtsps?|https?)://[^/@\s:\"']*:)[^/@\s\"']*(?=@)"),
    re.compile(r"(?P<keep>)\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*"),
    re.compile(r"(?P<keep>)\bova_[0-9a-f]{16}_[A-Za-z0-9_-]{43}"),
]
_LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_TRACEBACKS = logging.Formatter()
_LOGGED = "_ova_logged"


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(rf"\g<keep>{REDACTED}", text)
    return text


def _redact_arguments(record: logging.LogRecord) -> None:
    """Mask the message, keeping ``args`` apart where masking them one by one suffices."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        return  # logging reports a bad format string itself
    cleaned = redact(message)
    if cleaned == message:
        return
    if isinstance(record.args, tuple):
        args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        with_args = logging.LogRecord(record.name, record.levelno, "", 0, record.msg, args, None)
        if with_args.getMessage() == cleaned:
            record.args = args  # formatters that read args (uvicorn's access log) keep working
            return
    record.msg, record.args = cleaned, None


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """``record`` with its message, traceback and stack masked in place (the filter's work)."""
    _redact_arguments(record)
    if record.exc_info and not record.exc_text:
        record.exc_text = _TRACEBACKS.formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactingFilter(logging.Filter):
    """Masks each record's message, traceback and stack (attach to handlers or loggers)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


class RedactingFormatter(logging.Formatter):
    """A formatter whose every line is masked: message, traceback and stack alike."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(redact_record(record)))


class _RedactingFactory:
    """The log record factory, wrapped so that every record is masked when it is made."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(self.inner(*args, **kwargs))


def install_record_redaction() -> None:
    """Mask every record the process makes from now on (idempotent)."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(factory))


def redact_handlers() -> None:
    """Give every handler that exists now (any logger's, and ``lastResort``) a masking formatter."""
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    handlers = [h for item in loggers if isinstance(item, logging.Logger) for h in item.handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for handler in handlers:
        if not isinstance(handler.formatter, RedactingFormatter):
            handler.setFormatter(_wrapped(handler.formatter))


def _wrapped(formatter: logging.Formatter | None) -> logging.Formatter:
    if formatter is None:
        return RedactingFormatter()
    return _MaskedFormatter(formatter)


class _MaskedFormatter(RedactingFormatter):
    """Another formatter (uvicorn's coloured one, say) with its output masked."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(redact_record(record)))


def mark_logged(error: BaseException) -> None:
    """Note that ``error``'s traceback is in the log, so the server need not print it again."""
    setattr(error, _LOGGED, True)


class AlreadyLogged(logging.Filter):
    """Drops a record whose exception an error handler has logged already (``mark_logged``).

    Starlette re-raises an unexpected error after the family's handler has answered 500 and
    logged it with its correlation id; the server would print the same traceback a second time.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not getattr(error, _LOGGED, False)


def redact_server_logs(server_logger: str = "uvicorn.error") -> None:
    """Masking for a server's own loggers, once it has installed its handlers (idempotent).

    Also keeps the server from printing a traceback that a family's error handler logged.
    """
    install_record_redaction()
    redact_handlers()
    log = logging.getLogger(server_logger)
    if not any(isinstance(item, AlreadyLogged) for item in log.filters):
        log.addFilter(AlreadyLogged())


def configure(level: int = logging.INFO) -> None:
    install_record_redaction()
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(_LINE_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("alembic", "httpx", "azure", "amqtt", "transitions", "gmqtt", "paho"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    redact_handlers()
