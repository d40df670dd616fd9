"""Listener-level guards that run before any family code: client network allow-lists and body limits."""

from __future__ import annotations

import json
from collections.abc import Sequence
from ipaddress import ip_address

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ova.cloud.settings import Network


async def send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "target": None, "details": []}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def client_in(networks: Sequence[Network], scope: Scope) -> bool:
    client = scope.get("client")
    if not client:
        return False
    try:
        address = ip_address(client[0])
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in networks)


class NetworkAllowList:
    """Refuses clients outside the listener's ``allow_networks`` (when any are configured).

    The peer address of the TCP connection is used; forwarded-for headers are not trusted.
    """

    def __init__(self, app: ASGIApp, networks: Sequence[Network]) -> None:
        self._app, self._networks = app, list(networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._networks and not client_in(self._networks, scope):
            await send_error(send, 403, "NetworkAccessDenied", "Requests from this network are not allowed.")
            return
        await self._app(scope, receive, send)


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Answers 413 to request bodies over ``limit`` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self._app, self._limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self._limit):
            await send_error(
                send, 413, "RequestEntityTooLarge", f"Request bodies are limited to {self._limit} bytes."
            )
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self._limit:
                raise BodyTooLarge
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await send_error(
                    send, 413, "RequestEntityTooLarge", f"Request bodies are limited to {self._limit} bytes."
                )
