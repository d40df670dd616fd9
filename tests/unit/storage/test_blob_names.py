"""Container and blob names every backend accepts."""

from __future__ import annotations

import pytest

from ova.storage import names
from ova.storage.errors import InvalidBlobName


@pytest.mark.parametrize("name", ["abc", "cam-1", "a" * 63, "0video", "v1-2-3"])
def test_good_container_names(name: str) -> None:
    assert names.container_name(name) == name


@pytest.mark.parametrize("name", ["ab", "a" * 64, "Cam", "-cam", "cam-", "ca--m", "ca_m", "ca.m", "", ".tmp"])
def test_bad_container_names(name: str) -> None:
    with pytest.raises(InvalidBlobName):
        names.container_name(name)


@pytest.mark.parametrize(
    "name",
    ["a", "init/5f0c.mp4", "segments/2030/01/01/12/1893499200000-7.m4s", "a b/ü.mp4", "x" * 1024, "a..b"],
)
def test_good_blob_names(name: str) -> None:
    assert names.blob_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "/a",
        "a/",
        "a//b",
        ".",
        "..",
        "a/./b",
        "a/../b",
        "../a",
        "a\\b",
        "a\x00",
        "a\x1fb",
        "a\x7f",
        "%2e%2e",
        "x" * 1025,
    ],
)
def test_bad_blob_names(name: str) -> None:
    with pytest.raises(InvalidBlobName) as caught:
        names.blob_name(name)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("prefix", "ok"), [("", True), ("segments/", True), ("seg", True), ("a//", False), ("../", False)]
)
def test_listing_prefixes(prefix: str, ok: bool) -> None:
    if ok:
        assert names.blob_prefix(prefix) == prefix
    else:
        with pytest.raises(InvalidBlobName):
            names.blob_prefix(prefix)
