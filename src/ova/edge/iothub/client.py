"""``ModuleClient``: one IoT Hub module identity over MQTT 3.1.1 (gmqtt), as the official SDKs speak it.

- Connects as client id ``{device}/{module}``, user name ``{host}/{device}/{module}/?api-version=…``,
  password a SAS token of ``token_lifetime_s`` (1 h); the hub closes a connection whose token has
  expired, so the client reconnects with a fresh token ``renew_margin_s`` before then.
- A lost connection is retried with capped exponential back-off and jitter, for ever, until ``stop``.
- Direct methods: ``$iothub/methods/POST/{name}/?$rid=…`` → ``method_handler(name, payload)`` →
  ``$iothub/methods/res/{status}/?$rid=…`` (JSON both ways).
- Twin: ``get_twin`` and ``patch_reported`` wait for their ``$rid`` answer (``timeout_s``); desired
  patches go to ``on_desired(patch, False)`` with their ``$version``; after a reconnect the client
  reads the whole twin again and hands its desired part to ``on_desired(desired, True)``
  (patches may have been missed meanwhile).
- Messages: ``send_to_output`` (``ports.HubOutput``) publishes QoS 1 on
  ``devices/{d}/modules/{m}/messages/events/`` with ``$.on``, ``$.ct``, ``$.ce`` and ``$.mid``;
  ``on_input`` (``ports.HubInputs``) delivers ``devices/{d}/modules/{m}/inputs/{name}/…``.

Bounded: payloads (``MAX_PAYLOAD_BYTES``), waiting twin requests, concurrent handlers (extra
method calls are answered 503, extra input messages dropped and counted). asyncio sets
``TCP_NODELAY`` on every TCP transport, so small answers leave at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import gmqtt  # type: ignore[import-untyped]
from gmqtt.mqtt.constants import MQTTv311  # type: ignore[import-untyped]

from ova.contracts import iot_hub
from ova.edge.errors import HubUnavailable
from ova.edge.iothub.credentials import SasCredential
from ova.edge.iothub.endpoint import HubEndpoint
from ova.edge.iothub.payloads import MAX_PAYLOAD_BYTES, check_size, discard, error_body, json_object
from ova.edge.iothub.requests import HubAnswer, PendingRequests
from ova.edge.ports import HubMessage, InputHandler

log = logging.getLogger(__name__)


class _WarningsOnly(logging.Filter):
    """gmqtt logs every payload at DEBUG (direct-method payloads carry camera passwords)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


mqtt_log = logging.getLogger("ova.edge.iothub.mqtt")
"""The logger gmqtt is given: warnings and errors only, whatever the level."""
mqtt_log.addFilter(_WarningsOnly())

MAX_CONCURRENT_HANDLERS = 32
STABLE_CONNECTION_S = 60.0
"""A connection lost sooner counts as a failure for the back-off."""
MethodHandler = Callable[[str, Any], Awaitable[tuple[int, Any]]]
DesiredHandler = Callable[[dict[str, Any], bool], Awaitable[None]]
"""``(desired, complete)``: a patch (``complete`` False) or the whole desired document."""
_NO_RECONNECT = -2
"""gmqtt's own reconnect is off (it retries while ``failed <= retries``; -1 means for ever)."""


@dataclass(frozen=True)
class ClientOptions:
    token_lifetime_s: int = 3600
    renew_margin_s: int = 300
    keepalive_s: int = 60
    connect_timeout_s: float = 30.0
    request_timeout_s: float = 30.0
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    publish_wait_s: float = 5.0
    """How long ``send_to_output`` waits for a connection (a token renewal takes a moment)."""
    drain_methods_s: float = 10.0
    """Before a renewal closes the connection, how long running direct methods may still answer."""


class ModuleClient:
    def __init__(
        self,
        endpoint: HubEndpoint,
        credential: SasCredential,
        tls: ssl.SSLContext | None,
        options: ClientOptions = ClientOptions(),
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._credential = credential
        self._tls = tls
        self.options = options
        self._rng = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        self._pending = PendingRequests()
        self._inputs: dict[str, InputHandler] = {}
        self._method_handler: MethodHandler | None = None
        self._desired_handler: DesiredHandler | None = None
        self._handlers = asyncio.Semaphore(MAX_CONCURRENT_HANDLERS)
        self._tasks: set[asyncio.Task[None]] = set()
        self._mqtt: Any = None
        self._connected = asyncio.Event()
        self._lost = asyncio.Event()
        self._supervisor: asyncio.Task[None] | None = None
        self.connections = 0
        """How many times the client has connected (renewals and reconnects included)."""
        self.dropped_inputs = 0
        self._methods_running = 0

    # Handlers

    def set_method_handler(self, handler: MethodHandler) -> None:
        self._method_handler = handler

    def on_desired(self, handler: DesiredHandler) -> None:
        self._desired_handler = handler

    def on_input(self, input_name: str, handler: InputHandler) -> Callable[[], None]:
        self._inputs[input_name] = handler

        def unregister() -> None:
            if self._inputs.get(input_name) is handler:
                del self._inputs[input_name]

        return unregister

    # Life cycle

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self, wait_s: float | None = None) -> bool:
        """Start connecting (in the background); True once connected within ``wait_s``."""
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._supervise(), name="iothub-connection")
        if wait_s is None:
            return self.connected
        return await self.wait_connected(wait_s)

    async def wait_connected(self, timeout_s: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), timeout_s)
        return self.connected

    async def stop(self) -> None:
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self._disconnect()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _supervise(self) -> None:
        failures = 0
        first = True
        while True:
            try:
                expiry = await self._connect()
            except Exception as error:  # OSError, TimeoutError, SSLError, gmqtt's refusals...
                failures += 1
                delay = self._backoff(failures)
                log.warning(
                    "IoT Hub connection to %s failed (%s); retrying in %.1f s",
                    self.endpoint.connect_host,
                    type(error).__name__,
                    delay,
                )
                await self._disconnect()
                await asyncio.sleep(delay)
                continue
            if not first:
                self._spawn(self._refresh_desired())
            first = False
            lasted = await self._hold(expiry)
            if lasted is not None:  # lost, not renewed: back off more when it keeps dropping at once
                failures = failures + 1 if lasted < STABLE_CONNECTION_S else 1
                log.warning("IoT Hub connection lost; reconnecting")
                await asyncio.sleep(self._backoff(failures))

    async def _hold(self, expiry: int) -> float | None:
        """Keep the connection until its token is due for renewal (None) or it is lost (how long
        it lasted, in seconds); then close it."""
        connected_at = time.monotonic()
        renew_in = max(1.0, expiry - self.options.renew_margin_s - time.time())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._lost.wait(), renew_in)
        lost = self._lost.is_set()
        if not lost:
            await self._drain_methods()
        await self._disconnect()
        return time.monotonic() - connected_at if lost else None

    async def _drain_methods(self) -> None:
        """Let the direct methods that are running answer on this connection (bounded)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.options.drain_methods_s):
                while self._methods_running:  # noqa: ASYNC110 (bounded; a renewal is hourly)
                    await asyncio.sleep(0.05)

    def _backoff(self, failures: int) -> float:
        ceiling = min(
            self.options.backoff_max_s, self.options.backoff_initial_s * 2.0 ** min(failures - 1, 30)
        )
        return ceiling * self._rng.uniform(0.5, 1.0)

    async def _connect(self) -> int:
        """Connect and subscribe; the token's expiry (epoch seconds)."""
        expiry = int(time.time()) + self.options.token_lifetime_s
        password = await self._credential.token(self.endpoint.sas_resource, expiry)
        mqtt = gmqtt.Client(self.endpoint.client_id, clean_session=True, logger=mqtt_log)
        mqtt.reconnect_retries = _NO_RECONNECT
        mqtt.set_auth_credentials(self.endpoint.username, password)
        mqtt.on_message = self._on_message
        mqtt.on_disconnect = self._on_disconnect
        subscribed: dict[int, asyncio.Event] = {}
        mqtt.on_subscribe = lambda _c, mid, _q, _p: subscribed.setdefault(mid, asyncio.Event()).set()
        self._mqtt = mqtt
        self._lost.clear()
        async with asyncio.timeout(self.options.connect_timeout_s):
            await mqtt.connect(
                self.endpoint.connect_host,
                self.endpoint.port,
                ssl=self._tls or False,
                keepalive=self.options.keepalive_s,
                version=MQTTv311,
            )
            topics = [
                (iot_hub.METHODS_SUBSCRIBE, 0),
                (iot_hub.TWIN_RESPONSES_SUBSCRIBE, 0),
                (iot_hub.TWIN_DESIRED_SUBSCRIBE, 0),
                (iot_hub.inputs_subscribe(self.endpoint.device_id, self.endpoint.module_id), 1),
            ]
            for topic, qos in topics:
                mid = mqtt.subscribe(topic, qos=qos)
                await subscribed.setdefault(mid, asyncio.Event()).wait()
        self.connections += 1
        self._connected.set()
        log.info("connected to IoT Hub %s as %s", self.endpoint.host_name, self.endpoint.client_id)
        return expiry

    def _on_disconnect(self, client: Any, _packet: Any, exc: Any = None) -> None:
        if client is not self._mqtt:
            return  # a connection this client has already closed
        self._connected.clear()
        self._lost.set()
        self._pending.fail_all("The connection to the hub was lost.")

    async def _disconnect(self) -> None:
        mqtt, self._mqtt = self._mqtt, None
        self._connected.clear()
        self._pending.fail_all("The connection to the hub was closed.")
        if mqtt is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(mqtt.disconnect(), 5)

    # Twin

    async def get_twin(self) -> dict[str, Any]:
        """The whole twin, ``{"desired": {...}, "reported": {...}}``."""
        answer = await self._request(iot_hub.twin_get_topic, b"")
        twin = json_object(answer.payload)
        if twin is None or answer.status != 200:
            raise HubUnavailable(f"The hub answered the twin request with status {answer.status}.")
        return twin

    async def patch_reported(self, patch: Mapping[str, Any]) -> int | None:
        """Patch the reported properties; the twin's new reported ``$version``."""
        body = json.dumps(patch, separators=(",", ":")).encode()
        check_size(body)
        answer = await self._request(iot_hub.twin_reported_topic, body)
        if answer.status not in (200, 204):
            raise HubUnavailable(f"The hub refused the reported properties (status {answer.status}).")
        return answer.version

    async def _request(self, topic_of: Callable[[str], str], body: bytes) -> HubAnswer:
        mqtt = self._require_connection()
        rid, future = self._pending.open()
        try:
            mqtt.publish(topic_of(rid), body, qos=0)
            async with asyncio.timeout(self.options.request_timeout_s):
                return await future
        except TimeoutError:
            raise HubUnavailable("The hub did not answer the twin request in time.") from None
        finally:
            self._pending.close(rid)

    async def _refresh_desired(self) -> None:
        with contextlib.suppress(HubUnavailable):
            twin = await self.get_twin()
            desired = twin.get("desired")
            if isinstance(desired, dict) and self._desired_handler is not None:
                await self._desired_handler(desired, True)

    # Messages

    async def send_to_output(self, output_name: str, body: bytes, properties: Mapping[str, str]) -> None:
        """Publish on ``output_name`` (QoS 1); ``HubUnavailable`` when still disconnected after
        ``publish_wait_s``."""
        check_size(body)
        if not self.connected:
            await self.wait_connected(self.options.publish_wait_s)
        bag = {
            **{k: v for k, v in properties.items() if not k.startswith("$.")},
            "$.on": output_name,
            "$.mid": str(uuid.uuid4()),
            "$.ct": "application/json",
            "$.ce": "utf-8",
        }
        topic = iot_hub.events_topic(self.endpoint.device_id, self.endpoint.module_id, bag)
        if len(topic) > iot_hub.MAX_PROPERTY_BAG:
            raise ValueError("The message properties are too long.")
        self._require_connection().publish(topic, body, qos=1)

    def _require_connection(self) -> Any:
        if self._mqtt is None or not self.connected:
            raise HubUnavailable("The module is not connected to its hub.")
        return self._mqtt

    # Incoming

    def _on_message(self, _client: Any, topic: str, payload: bytes, _qos: int, _properties: Any) -> int:
        if (twin := iot_hub.parse_twin_response(topic)) is not None:
            status, rid, version = twin
            self._pending.resolve(rid, HubAnswer(status, version, payload))
        elif (method := iot_hub.parse_method_request(topic)) is not None:
            self._dispatch(self._answer_method(*method, payload), refused=self._busy_method(method[1]))
        elif (version := iot_hub.parse_twin_desired(topic)) is not None:
            patch = json_object(payload)
            if patch is not None and self._desired_handler is not None and len(payload) <= MAX_PAYLOAD_BYTES:
                self._dispatch(self._desired_handler({**patch, "$version": version}, False))
        else:
            self._on_input_message(topic, payload)
        return 0

    def _on_input_message(self, topic: str, payload: bytes) -> None:
        parsed = iot_hub.parse_input_topic(topic, self.endpoint.device_id, self.endpoint.module_id)
        handler = self._inputs.get(parsed[0]) if parsed else None
        if parsed is None or handler is None or len(payload) > MAX_PAYLOAD_BYTES:
            self.dropped_inputs += parsed is not None
            return
        message = HubMessage(parsed[0], bytes(payload), parsed[1])
        if not self._dispatch(handler(message)):
            self.dropped_inputs += 1

    def _dispatch(self, work: Awaitable[None], refused: Awaitable[None] | None = None) -> bool:
        """Run ``work`` when a handler slot is free now; else run ``refused`` (if any)."""
        if self._handlers.locked():
            discard(work)
            if refused is not None:
                self._spawn(refused)
            return False
        if refused is not None:
            discard(refused)
        self._spawn(self._bounded(work))
        return True

    async def _bounded(self, work: Awaitable[None]) -> None:
        async with self._handlers:
            try:
                await work
            except Exception:
                log.exception("a hub message handler failed")

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_method(self, name: str, rid: str, payload: bytes) -> None:
        self._methods_running += 1
        try:
            status, answer = await self._call_method(name, payload)
        finally:
            self._methods_running -= 1
        body = json.dumps(answer, separators=(",", ":")).encode() if answer is not None else b"null"
        if len(body) > MAX_PAYLOAD_BYTES:
            status, body = 500, error_body("ResponseTooLarge", "The method's answer is too large.")
        self._publish_answer(status, rid, body)

    async def _busy_method(self, rid: str) -> None:
        self._publish_answer(503, rid, error_body("ServerBusy", "Too many direct methods are running."))

    def _publish_answer(self, status: int, rid: str, body: bytes) -> None:
        with contextlib.suppress(HubUnavailable):
            self._require_connection().publish(iot_hub.method_response_topic(status, rid), body, qos=0)

    async def _call_method(self, name: str, payload: bytes) -> tuple[int, Any]:
        if len(payload) > MAX_PAYLOAD_BYTES:
            return 413, json.loads(error_body("PayloadTooLarge", "The method payload is too large."))
        try:
            request = json.loads(payload) if payload.strip() else None
        except ValueError:
            return 400, json.loads(error_body("BadRequest", "The method payload is not JSON."))
        if self._method_handler is None:
            return 404, json.loads(error_body("NotFound", "This module offers no direct methods yet."))
        return await self._method_handler(name, request)
