"""Security headers on every response a listener sends, whichever family or page answers.

- ``X-Content-Type-Options: nosniff``: browsers take the declared type, never a sniffed one;
- ``Content-Security-Policy``: ``default-src 'none'`` for the APIs (nothing they answer is a
  page that may run, load or frame anything); the player page may load its own scripts and
  styles, play ``blob:`` media (MSE) and fetch manifests and segments from the streaming
  family, wherever it listens;
- ``Referrer-Policy: no-referrer``: content tokens ride in query strings and must not leak
  through ``Referer``.

A header the answering app set itself (lowercase, as ASGI has it) is kept. This is a plain
ASGI ``send`` wrapper (it sits on the segment path): one pass over the response's header
names, nothing else (about 3 µs a response).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
PLAYER_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; worker-src 'self' blob:; "
    "connect-src 'self' https: http://127.0.0.1:* http://localhost:*; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
PLAYER_PREFIX = "/player/"


def _encoded(policy: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"x-content-type-options", b"nosniff"),
        (b"content-security-policy", policy.encode()),
        (b"referrer-policy", b"no-referrer"),
    ]


_API_HEADERS = _encoded(API_POLICY)
_PLAYER_HEADERS = _encoded(PLAYER_POLICY)


def with_defaults(
    headers: list[tuple[bytes, bytes]], defaults: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """``headers`` plus each default whose name is not there yet (ASGI names are lowercase)."""
    present = {name for name, _ in headers}
    return [*headers, *(item for item in defaults if item[0] not in present)]


class SecurityHeaders:
    """Adds the security headers to every HTTP response of ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        player = scope["path"].startswith(PLAYER_PREFIX) or scope["path"] == PLAYER_PREFIX[:-1]
        defaults = _PLAYER_HEADERS if player else _API_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": with_defaults(list(message.get("headers", [])), defaults)}
            await send(message)

        await self._app(scope, receive, send_with_headers)
