"""Camera URLs: the only schemes a source may use, checked wherever a URL enters the system.

A camera URL names an RTSP server (``rtsp://`` or ``rtsps://``). Anything else (``http://``,
``file://``, ``concat:``, FFmpeg's other protocols) would let whoever writes a live pipeline make
the service fetch or read what they choose, so it is refused where the URL is written (management
PUT, ``ova record``) and again where a connection is opened.
"""

from __future__ import annotations

from urllib.parse import urlsplit

CAMERA_URL_SCHEMES = ("rtsp", "rtsps")
MAX_CAMERA_URL_LENGTH = 2048


def camera_url_problem(url: str) -> str | None:
    """Why ``url`` cannot name a camera, or ``None`` when it can (the message never repeats it)."""
    if len(url) > MAX_CAMERA_URL_LENGTH:
        return f"is longer than {MAX_CAMERA_URL_LENGTH} characters"
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        return "contains white space or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "is not a valid URL"
    if parts.scheme.lower() not in CAMERA_URL_SCHEMES:
        return "must be an rtsp:// or rtsps:// URL"
    if not parts.hostname:
        return "has no host"
    if port == 0:
        return "has port 0"
    return None
