"""Listener-level guards that run before any family code.

``front_door`` is what every listener puts first: the client address taken from
``X-Forwarded-For`` when (and only when) the TCP peer is one of ``trusted_proxies``. Inside
it, per listener: client network allow-lists and request body limits. ``serves_metrics``
says whether a listener has a ``/metrics`` route at all.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ova.cloud.domain.network_access import is_private as in_networks
from ova.cloud.settings import ListenerSettings, Network


async def send_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "target": None, "details": []}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serves_metrics(listener: ListenerSettings) -> bool:
    """``listener.metrics`` when set, else whether the listener binds a loopback address."""
    return listener.metrics if listener.metrics is not None else is_loopback(listener.host)


def front_door(app: ASGIApp, trusted_proxies: Sequence[Network]) -> ASGIApp:
    """``app`` (a listener's families) behind the forwarded-address guard, when proxies are trusted."""
    return ForwardedFor(app, trusted_proxies) if trusted_proxies else app


class ForwardedFor:
    """The client address from ``X-Forwarded-For``, trusted only from a proxy in ``proxies``.

    When the TCP peer is a trusted proxy, the client is the rightmost hop that is not one
    (each proxy appends the address it was connected from; hops to the left of an untrusted
    one could be made up by the client). A malformed hop ends the walk and the peer stays the
    client. Everything after this (allow-lists, network access, throttles, logs) sees the
    result in ``scope["client"]``; ``X-Forwarded-Proto`` and the like are not used.
    """

    def __init__(self, app: ASGIApp, proxies: Sequence[Network]) -> None:
        self._app, self._proxies = app, list(proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] == "http" and client and in_networks(client[0], self._proxies):
            forwarded = self.forwarded_client(scope["headers"])
            if forwarded is not None:
                scope = {**scope, "client": (forwarded, 0)}
        await self._app(scope, receive, send)

    def forwarded_client(self, headers: Sequence[tuple[bytes, bytes]]) -> str | None:
        values = [value.decode("latin-1") for name, value in headers if name == b"x-forwarded-for"]
        hops = [hop.strip() for value in values for hop in value.split(",")]
        found: str | None = None
        for hop in reversed(hops):
            try:
                found = str(ipaddress.ip_address(hop))
            except ValueError:
                return None
            if not in_networks(found, self._proxies):
                return found
        return found  # every hop is a proxy: the furthest one is the best guess


def client_in(networks: Sequence[Network], scope: Scope) -> bool:
    """Whether the TCP peer of ``scope`` is inside ``networks``."""
    client = scope.get("client")
    return in_networks(client[0] if client else None, networks)


class NetworkAllowList:
    """Refuses clients outside the listener's ``allow_networks`` (when any are configured).

    The client address is the TCP peer's, or the forwarded one from a trusted proxy
    (``ForwardedFor`` runs first).
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
            if declared.isdigit() and len(declared) <= 19 and int(declared) <= self._limit:
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
