"""Errors raised by the media package.

Exception tree::

    OvaError (ova.common.errors)
    └── MediaError                          root of this package's errors
        ├── InvalidMedia (ValueError)       bytes that are not the media they claim to be
        │   └── UnsupportedMedia            valid media this package does not handle
        │                                   (codec, resolution above the bound)
        └── SourceError                     a source could not be read
            ├── SourceUnavailable           refused, unreachable, closed, not found
            ├── SourceRefused               this service will not connect there (scheme,
            │                               network not allowed for cameras)
            ├── SourceProtocolError         the source broke the protocol or a bound
            │                               (oversized response, SDP, NAL or access unit)
            └── SourceTimeout               nothing arrived within the allowed time

Messages never carry a source URL's credentials: sources are named through ``redact_url``.
"""

from __future__ import annotations

from ova.common.errors import OvaError


class MediaError(OvaError):
    """Root of every error the media package raises on purpose."""

    default_code = "MediaError"


class InvalidMedia(MediaError, ValueError):
    default_code = "InvalidMedia"


class UnsupportedMedia(InvalidMedia):
    default_code = "UnsupportedMedia"


class SourceError(MediaError):
    default_code = "SourceError"


class SourceUnavailable(SourceError):
    default_code = "SourceUnavailable"


class SourceRefused(SourceError):
    default_code = "SourceRefused"


class SourceProtocolError(SourceError):
    default_code = "SourceProtocolError"


class SourceTimeout(SourceError, TimeoutError):
    default_code = "SourceTimeout"
