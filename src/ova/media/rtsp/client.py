"""``RtspClient``: one RTSP 1.0 control connection to a camera (RFC 2326 §10), client side.

``open`` checks the URL (``camera_url_problem``), resolves the host once through the camera
networks and connects to an allowed address (TLS 1.2+ with the default context for
``rtsps://``). ``request`` sends one request and reads until its response, skipping at most
``MAX_MESSAGES_BEFORE_RESPONSE`` interleaved frames; a 401 is retried once with the URL's
credentials. A 3xx answer to OPTIONS or DESCRIBE is followed (``follow_redirect``) only to an
``rtsp``/``rtsps`` URL on an allowed network, at most ``MAX_REDIRECTS`` hops; the URL's
credentials go only to the host and port they were given for.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from urllib.parse import unquote, urlsplit, urlunsplit

from ova.contracts.camera_url import camera_url_problem
from ova.media.camera_networks import CameraNetworks
from ova.media.errors import SourceProtocolError, SourceRefused, SourceUnavailable
from ova.media.rtsp.auth import Credentials
from ova.media.rtsp.limits import MAX_LINE_BYTES, MAX_MESSAGES_BEFORE_RESPONSE
from ova.media.rtsp.message import Interleaved, Response, encode_request, read_message


def request_url(url: str) -> str:
    """``url`` without user name and password: what goes on the wire as a request URI."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def checked_url(url: str) -> str:
    problem = camera_url_problem(url)
    if problem is not None:
        raise SourceRefused(f"the camera URL {problem}")
    return url


def _credentials(url: str) -> Credentials | None:
    parts = urlsplit(url)
    if parts.username is None:
        return None
    return Credentials(unquote(parts.username), unquote(parts.password or ""))


def _authority(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port


def tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class RtspClient:
    """Requests and responses on one connection; ``read`` yields what the camera sends next."""

    def __init__(self, url: str, networks: CameraNetworks) -> None:
        self.url = checked_url(url)
        self.uri = request_url(url)
        self._networks = networks
        self._credentials = _credentials(url)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._cseq = 0
        self.session: str | None = None
        self.get_parameter = False
        """Whether the camera lists GET_PARAMETER (the keep-alive then uses it, else OPTIONS)."""

    async def open(self) -> None:
        parts = urlsplit(self.url)
        secure = parts.scheme.lower() == "rtsps"
        host, port = parts.hostname or "", parts.port or (322 if secure else 554)
        addresses = await self._networks.resolve(host, port)
        for address in addresses:
            with contextlib.suppress(OSError):
                self._reader, self._writer = await asyncio.open_connection(
                    address,
                    port,
                    ssl=tls_context() if secure else None,
                    server_hostname=host if secure else None,
                    limit=MAX_LINE_BYTES,
                )
                return
        raise SourceUnavailable(f"the camera host {host!r} could not be reached")

    def follow_redirect(self, response: Response) -> None:
        """Points this client at a 3xx ``Location`` (checked like the original URL); call ``open`` again."""
        location = response.header("Location")
        if location is None:
            raise SourceProtocolError("the camera redirected without a Location")
        checked_url(location)
        self.close()
        if _authority(location) != _authority(self.url):  # never hand credentials to another host
            self._credentials = _credentials(location)
        self.url, self.uri, self.session = location, request_url(location), None

    async def request(self, method: str, uri: str, headers: list[tuple[str, str]] | None = None) -> Response:
        response = await self._exchange(method, uri, headers or [])
        credentials, challenges = self._credentials, response.all("WWW-Authenticate")
        if response.status == 401 and credentials and credentials.accept_challenges(challenges):
            response = await self._exchange(method, uri, headers or [])
        return response

    def send(self, method: str, uri: str, headers: list[tuple[str, str]] | None = None) -> None:
        """Sends a request without waiting (keep-alive); its response comes through ``read``."""
        self._write(method, uri, headers or [])

    async def read(self) -> Response | Interleaved:
        if self._reader is None:
            raise SourceUnavailable("the camera connection is not open")
        return await read_message(self._reader)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.transport.abort()
        self._reader = self._writer = None

    async def teardown(self) -> None:
        """TEARDOWN (best effort, not awaited beyond the write), then close."""
        if self._writer is not None and self.session is not None:
            with contextlib.suppress(OSError, SourceProtocolError):
                self.send("TEARDOWN", self.uri)
                self._writer.close()
                await asyncio.wait_for(self._writer.wait_closed(), 1.0)
        self.close()

    async def _exchange(self, method: str, uri: str, headers: list[tuple[str, str]]) -> Response:
        cseq = self._write(method, uri, headers)
        for _ in range(MAX_MESSAGES_BEFORE_RESPONSE):
            message = await self.read()
            if isinstance(message, Response) and message.header("CSeq") in (str(cseq), None):
                return message
        raise SourceProtocolError(f"the camera did not answer {method}")

    def _write(self, method: str, uri: str, headers: list[tuple[str, str]]) -> int:
        if self._writer is None:
            raise SourceUnavailable("the camera connection is not open")
        self._cseq += 1
        extra = list(headers)
        if self.session is not None:
            extra.append(("Session", self.session))
        if self._credentials is not None:
            authorization = self._credentials.authorization(method, uri)
            if authorization is not None:
                extra.append(("Authorization", authorization))
        self._writer.write(encode_request(method, uri, self._cseq, extra))
        return self._cseq
