"""Deadlines on slow clients: uvicorn's h11 protocol with head and body read timeouts.

uvicorn closes idle keep-alive connections, but a client that keeps sending a byte now and
then is never idle: one header line a second would hold a connection (and its memory) for
ever. ``deadline_protocol`` adds, per connection:

- a *head* deadline: the request line and headers must be complete within
  ``header_timeout`` seconds of the connection opening (or of the previous response
  ending, for the next request on a kept-alive connection); otherwise the connection is
  closed (no request exists yet to answer);
- a *body* deadline: while a request body is being received, no pause between its bytes may
  last ``body_timeout`` seconds; otherwise the client gets 408 (when no response has started)
  and the connection is closed. Pauses while the app has not read what arrived do not count;
- a connection cap: past ``max_connections`` open connections on the listener, a new one is
  closed at once, before anything is read.

The timers are event-loop callbacks, so nothing here sleeps or blocks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"content-length: 16\r\nconnection: close\r\n\r\nRequest Timeout."
)


class DeadlineProtocol(H11Protocol):
    """An ``H11Protocol`` whose subclasses (from ``deadline_protocol``) carry the limits."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 2000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.abort()
            return
        self._arm(self.header_timeout, self._head_overdue)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            self._arm(self.body_timeout, self._body_overdue)  # each arriving chunk restarts it
        elif state is not h11.IDLE:
            self._disarm()  # head and body are in; the app's own time is not limited here
        # While IDLE the head deadline keeps running from the start of the head.

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm(self.header_timeout, self._head_overdue)

    def _arm(self, seconds: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_overdue(self) -> None:
        self._deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()

    def _body_overdue(self) -> None:
        self._deadline = None
        if self.conn.their_state is not h11.SEND_BODY or self.transport.is_closing():
            return
        if self.flow.read_paused:  # the app has not taken what arrived: not the client's pause
            self._arm(self.body_timeout, self._body_overdue)
            return
        cycle = self.cycle
        if cycle is not None and not cycle.response_started:
            self.transport.write(TIMEOUT_RESPONSE)
        if cycle is not None:
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()


def deadline_protocol(header_timeout: float, body_timeout: float, max_connections: int) -> type[H11Protocol]:
    """The protocol class for one listener's limits (uvicorn's ``http`` setting takes a class)."""
    limits = {
        "header_timeout": header_timeout,
        "body_timeout": body_timeout,
        "max_connections": max_connections,
    }
    return type("ListenerProtocol", (DeadlineProtocol,), limits)
