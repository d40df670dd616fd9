"""The JSON payloads of IoT Hub messages: bounded in size (``MAX_PAYLOAD_BYTES``), objects where an
object is expected, and the ``{"error": {"code", "message"}}`` body of a refused direct method."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from typing import Any

MAX_PAYLOAD_BYTES = 256 * 1024


def json_object(payload: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(payload) if len(payload) <= MAX_PAYLOAD_BYTES else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def check_size(body: bytes) -> None:
    if len(body) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"A hub message is at most {MAX_PAYLOAD_BYTES} bytes.")


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def discard(work: Awaitable[None]) -> None:
    if asyncio.iscoroutine(work):
        work.close()
