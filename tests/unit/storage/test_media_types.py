"""Only the archive's media types are stored or served as themselves."""

from __future__ import annotations

import pytest

from ova.storage.media_types import served_type, stored_type


@pytest.mark.parametrize(
    ("declared", "stored"),
    [
        ("video/mp4", "video/mp4"),
        ("VIDEO/ISO.SEGMENT; profile=x", "video/iso.segment"),
        ("image/jpeg", "image/jpeg"),
        (None, "application/octet-stream"),
        ("  ", "application/octet-stream"),
        ("text/html", None),
        ("text/html; video/mp4", None),
        ("image/svg+xml", None),
        ("video/mp4" + "x" * 200, None),
    ],
)
def test_stored_types(declared: str | None, stored: str | None) -> None:
    assert stored_type(declared) == stored


def test_served_types() -> None:
    assert served_type("video/mp4") == ("video/mp4", False)
    assert served_type("text/html") == ("application/octet-stream", True)
    assert served_type("application/octet-stream") == ("application/octet-stream", True)
