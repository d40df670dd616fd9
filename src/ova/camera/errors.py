"""Errors of the camera simulator.

Exception tree::

    OvaError (ova.common.errors)
    └── CameraError                     root of this package's errors
        ├── RtspError                   a request that gets an RTSP error status; carries ``status``
        │   └── BadRequest (ValueError) malformed or oversized input: 400 and the connection closes
        └── MountNotReady               a mount's first keyframe did not arrive in time: 503

A request error never echoes credentials: ``Authorization`` values are not kept in messages.
"""

from __future__ import annotations

from ova.common.errors import OvaError


class CameraError(OvaError):
    """Root of the camera simulator's errors."""


class RtspError(CameraError):
    """A request refused with an RTSP status code (RFC 2326 §7.1.1)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class BadRequest(RtspError, ValueError):
    """Malformed or oversized input; the connection is answered with 400 and closed."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


class MountNotReady(CameraError):
    """A mount has not produced its first keyframe (so no SDP) within the wait."""

    status = 503
