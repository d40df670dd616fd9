"""Listener-level guards that run before any family code: client network allow-lists and body limits."""

from __future__ import annotations

import json
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ova.cloud.domain.network_access import is_private as in_networks
from ova.cloud.settings import Network


async def send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "target": None, "details": []}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def client_in(networks: Sequence[Network], scope: Scope) -> bool:
    """Whether the TCP peer of ``scope`` is inside ``networks``."""
    client = scope.get("client")
    return in_networks(client[0] if client else None, networks)


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


class BodyLimit:
    """Answers 413 to request bodies over ``limit`` bytes, declared or streamed.

    A declared ``Content-Length`` is checked before the app runs (the server holds the body to
    that length). A body of undeclared length (chunked) is read up to the limit first and handed
    to the app whole, so the app never starts on a body it would have to abandon midway.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self._app, self._limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) <= self._limit:
                await self._app(scope, receive, send)
            else:
                await self._refuse(send)
            return
        first = await self._buffered(receive)
        if first is None:
            await self._refuse(send)
            return
        await self._app(scope, _replaying(first, receive), send)

    async def _buffered(self, receive: Receive) -> Message | None:
        """The whole body as one message, or None when it grows past the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return message  # the client left; the app sees that as it would have
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self._limit:
                return None
            if not message.get("more_body", False):
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    async def _refuse(self, send: Send) -> None:
        await send_error(
            send, 413, "RequestEntityTooLarge", f"Request bodies are limited to {self._limit} bytes."
        )


def _replaying(first: Message, receive: Receive) -> Receive:
    """``receive`` that hands out ``first`` once, then defers to the server again."""
    pending = [first]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay
