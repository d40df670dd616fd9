"""One RTSP control connection: read a request, answer it, repeat (RFC 2326 §10).

Methods are looked up in a registry. Media flows over the same connection (interleaved, §10.12)
once PLAY is answered; the subscription is made only after the PLAY response is written, so
no RTP packet can precede it. The connection ends on TEARDOWN-and-close, on malformed input
(answered 400 first), when the client is idle past the session timeout, or when it takes
longer than the request timeout to finish sending a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ova.camera.digest_auth import Authenticator
from ova.camera.errors import BadRequest, MountNotReady, RtspError
from ova.camera.mount import Mount
from ova.camera.rtsp_message import (
    InterleavedData,
    RtspRequest,
    RtspResponse,
    TransportSpec,
    parse_transport,
    read_message,
)
from ova.camera.session import RequestTarget, RtspSession, parse_target, session_id_of
from ova.camera.settings import CameraSettings
from ova.camera.sink import RtpSink

log = logging.getLogger(__name__)
PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
NOT_ALLOWED = {"ANNOUNCE", "RECORD", "REDIRECT"}
CLOSE_TIMEOUT_SECONDS = 2.0

Handler = Callable[[RtspRequest], Awaitable[RtspResponse]]


@dataclass(frozen=True)
class ServerContext:
    """What every connection of one server shares."""

    settings: CameraSettings
    mounts: dict[str, Mount]
    authenticator: Authenticator | None


class RtspConnection:
    """Serves one client's RTSP connection until it ends."""

    def __init__(
        self, context: ServerContext, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.context = context
        self._reader = reader
        self._writer = writer
        self.session: RtspSession | None = None
        self._after_response: Callable[[], None] | None = None
        self._handlers: dict[str, Handler] = {
            "OPTIONS": self._options,
            "DESCRIBE": self._describe,
            "SETUP": self._setup,
            "PLAY": self._play,
            "PAUSE": self._pause,
            "TEARDOWN": self._teardown,
            "GET_PARAMETER": self._parameter,
            "SET_PARAMETER": self._parameter,
        }

    def close(self) -> None:
        """End the connection from the server side now, unsent data dropped (``serve`` then returns)."""
        self._writer.transport.abort()

    async def serve(self) -> None:
        try:
            await self._serve_requests()
        except (ConnectionError, OSError) as exc:
            log.debug("camera connection ended: %s", exc)
        finally:
            if self.session is not None:
                self.session.stop()
            if self._writer.transport.get_write_buffer_size():
                self._writer.transport.abort()
            else:
                self._writer.close()
            with contextlib.suppress(ConnectionError, OSError, TimeoutError):
                await asyncio.wait_for(self._writer.wait_closed(), CLOSE_TIMEOUT_SECONDS)

    async def _serve_requests(self) -> None:
        while True:
            message = await self._next_message()
            if message is None:
                return
            if isinstance(message, InterleavedData):
                continue
            response = await self.respond(message)
            self._writer.write(response.encode(message.cseq))
            if self._after_response is not None:
                self._after_response()
                self._after_response = None

    async def _next_message(self) -> RtspRequest | InterleavedData | None:
        """The next message; ``None`` when the client left, idled out or sent garbage (answered)."""
        settings = self.context.settings
        try:
            first = await asyncio.wait_for(self._reader.readexactly(1), settings.session_timeout_s)
            return await asyncio.wait_for(
                read_message(self._reader, settings.limits, first), settings.request_timeout_s
            )
        except (TimeoutError, asyncio.IncompleteReadError):
            return None
        except RtspError as exc:
            log.debug("camera: refused a request: %s", exc.message)
            self._writer.write(RtspResponse(exc.status).encode(None))
            return None

    async def respond(self, request: RtspRequest) -> RtspResponse:
        """The response to one request (auth, dispatch, error mapping)."""
        handler = self._handlers.get(request.method)
        if handler is None:
            status = 405 if request.method in NOT_ALLOWED else 501
            return RtspResponse(status, [("Allow", PUBLIC)] if status == 405 else [])
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        try:
            return await handler(request)
        except BadRequest:
            return RtspResponse(400)
        except RtspError as exc:
            return RtspResponse(exc.status)
        except MountNotReady:
            return RtspResponse(503)
        except Exception:
            log.exception("camera: %s failed", request.method)
            return RtspResponse(500)

    def _authenticate(self, request: RtspRequest) -> RtspResponse | None:
        authenticator = self.context.authenticator
        if authenticator is None or request.method == "OPTIONS":
            return None
        verdict = authenticator.check(request.method, request.header("Authorization"))
        if verdict == "ok":
            return None
        return RtspResponse(401, authenticator.challenges(stale=verdict == "stale"))

    def _mount(self, target: RequestTarget) -> Mount:
        mount = self.context.mounts.get(target.mount)
        if mount is None:
            raise RtspError(404, "no such mount")
        return mount

    def _session(self, request: RtspRequest) -> RtspSession:
        session = self.session
        if session is None or session_id_of(request.header("Session")) != session.id:
            raise RtspError(454, "session not found")
        return session

    def _session_header(self, session: RtspSession) -> tuple[str, str]:
        return "Session", f"{session.id};timeout={self.context.settings.session_timeout_s}"

    async def _options(self, request: RtspRequest) -> RtspResponse:
        return RtspResponse(200, [("Public", PUBLIC)])

    async def _describe(self, request: RtspRequest) -> RtspResponse:
        target = parse_target(request.uri)
        mount = self._mount(target)
        await mount.wait_ready(self.context.settings.ready_timeout_s)
        address = self._writer.get_extra_info("sockname")
        sdp = mount.describe(str(address[0]) if address else "0.0.0.0")
        headers = [("Content-Type", "application/sdp"), ("Content-Base", target.base)]
        return RtspResponse(200, headers, sdp.encode("ascii"))

    async def _setup(self, request: RtspRequest) -> RtspResponse:
        target = parse_target(request.uri)
        mount = self._mount(target)
        await mount.wait_ready(self.context.settings.ready_timeout_s)
        track = target.track if target.track is not None else (0 if len(mount.tracks) == 1 else None)
        if track is None:
            raise RtspError(459, "SETUP names one track")
        if mount.track(track) is None:
            raise RtspError(404, "no such track")
        spec = self._tcp_transport(request)
        session = self._session_for_setup(request, mount, target)
        channels = spec.interleaved or session.free_channels(track)
        session.channels[track] = channels
        transport = f"RTP/AVP/TCP;unicast;interleaved={channels[0]}-{channels[1]}"
        return RtspResponse(200, [("Transport", transport), self._session_header(session)])

    def _session_for_setup(self, request: RtspRequest, mount: Mount, target: RequestTarget) -> RtspSession:
        if self.session is None:
            if request.header("Session") is not None:
                raise RtspError(454, "session not found")
            self.session = RtspSession(mount, target.base)
            return self.session
        session = self._session(request)
        if session.mount is not mount:
            raise RtspError(459, "one mount per session")
        if session.playing:
            raise RtspError(455, "SETUP while playing")
        return session

    def _tcp_transport(self, request: RtspRequest) -> TransportSpec:
        header = request.header("Transport")
        if header is None:
            raise RtspError(461, "Transport header required")
        for spec in parse_transport(header):
            if spec.profile == "RTP/AVP" and spec.lower == "TCP":
                return spec
        raise RtspError(461, "only RTP/AVP/TCP interleaved is supported")

    async def _play(self, request: RtspRequest) -> RtspResponse:
        session = self._session(request)
        if not session.channels:
            raise RtspError(455, "PLAY before SETUP")
        if session.sink is None:
            sink = RtpSink(
                self._writer.transport, session.channels, self.context.settings.client_buffer_bytes
            )
            session.sink = sink
            self._after_response = lambda: session.mount.subscribe(sink)
        infos = []
        for track in sorted(session.channels):
            seq, rtptime = session.sink.rtp_info(track, session.mount.next_timestamp(track))
            infos.append(f"url={session.base}trackID={track};seq={seq};rtptime={rtptime}")
        headers = [self._session_header(session), ("Range", "npt=0.000-"), ("RTP-Info", ",".join(infos))]
        return RtspResponse(200, headers)

    async def _pause(self, request: RtspRequest) -> RtspResponse:
        session = self._session(request)
        session.stop()
        return RtspResponse(200, [self._session_header(session)])

    async def _teardown(self, request: RtspRequest) -> RtspResponse:
        session = self._session(request)
        session.stop()
        self.session = None
        return RtspResponse(200)

    async def _parameter(self, request: RtspRequest) -> RtspResponse:
        if request.header("Session") is not None:
            return RtspResponse(200, [self._session_header(self._session(request))])
        return RtspResponse(200)
