"""Direct methods: the service invokes a method on a connected device or module and awaits its answer.

A request goes to ``to_broker(identity, "$iothub/methods/POST/{name}/?$rid={rid}")`` with the
JSON payload; the device answers on ``$iothub/methods/res/{status}/?$rid={rid}`` and the caller
gets ``{"status": status, "payload": …}``. Request ids are 128 random bits, used once: an answer
is taken only from the identity asked, only while its request waits, and only once, so a
replayed or forged response (or one arriving after the timeout) is ignored (M8).

Errors as IoT Hub answers them: the identity unknown → 404 ``DeviceNotFound``/``ModuleNotFound``;
not connected → 404 ``DeviceNotOnline``; no answer within ``responseTimeoutInSeconds`` (default
30, at most ``max_timeout_s``) → 504 ``GatewayTimeout``; more than ``max_pending`` invocations
waiting → 429 ``ThrottlingException``; a payload over ``MAX_PAYLOAD_BYTES`` → 400.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ova.contracts import iot_hub
from ova.hub.errors import DeviceNotOnline, MethodTimeout, ServiceRequestInvalid, ServiceThrottled
from ova.hub.namespace import Identity, to_broker
from ova.hub.service_link import Publisher

MAX_PAYLOAD_BYTES = 128 * 1024
DEFAULT_TIMEOUT_S = 30
METHOD_NAME_LENGTH = 128


Presence = Callable[[Identity], bool]
"""Whether an identity is connected now (the gateway knows)."""


@dataclass(frozen=True)
class MethodResult:
    status: int
    payload: Any


class MethodInvoker:
    """Invokes direct methods and matches answers to the requests waiting for them."""

    def __init__(
        self,
        publisher: Publisher,
        presence: Presence,
        *,
        max_timeout_s: int = 300,
        max_pending: int = 1000,
    ) -> None:
        self._publisher = publisher
        self._presence = presence
        self._max_timeout_s = max_timeout_s
        self._max_pending = max_pending
        self._pending: dict[tuple[Identity, str], asyncio.Future[MethodResult]] = {}

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def invoke(
        self, identity: Identity, name: str, payload: Any, timeout_s: int | None = None
    ) -> MethodResult:
        body, timeout = self._request(name, payload, timeout_s)
        if not self._presence(identity):
            raise DeviceNotOnline(f"{identity} is not connected.", code="DeviceNotOnline")
        if len(self._pending) >= self._max_pending:
            raise ServiceThrottled("Too many direct methods are waiting for answers.")
        rid = secrets.token_hex(16)
        key = (identity, rid)
        future: asyncio.Future[MethodResult] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            await self._publisher.publish(to_broker(identity, iot_hub.method_request_topic(name, rid)), body)
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise MethodTimeout(f"{identity} did not answer {name!r} within {timeout} s.") from None
        finally:
            self._pending.pop(key, None)

    def _request(self, name: str, payload: Any, timeout_s: int | None) -> tuple[bytes, int]:
        if not name or len(name) > METHOD_NAME_LENGTH or any(ch in name for ch in "/+#?\x00"):
            raise ServiceRequestInvalid("methodName must be 1 to 128 characters without / + # ?.")
        timeout = DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s
        if not 5 <= timeout <= self._max_timeout_s:
            raise ServiceRequestInvalid(f"responseTimeoutInSeconds must be 5 to {self._max_timeout_s}.")
        body = json.dumps(payload).encode()
        if len(body) > MAX_PAYLOAD_BYTES:
            raise ServiceRequestInvalid(f"The method payload exceeds {MAX_PAYLOAD_BYTES} bytes.")
        return body, timeout

    async def on_response(self, identity: Identity, status: int, rid: str, payload: bytes) -> None:
        """An answer from ``identity``: completes its waiting request, else is ignored."""
        future = self._pending.pop((identity, rid), None)
        if future is None or future.done():
            return
        future.set_result(MethodResult(status, _decode(payload)))


def _decode(payload: bytes) -> Any:
    if not payload:
        return None
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return payload.decode("utf-8", "replace")
