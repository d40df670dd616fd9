"""Twin documents: RFC 7396 merges, the patch a replacement pushes, and the bounds on sections."""

from __future__ import annotations

import pytest

from ova.hub.errors import ServiceRequestInvalid
from ova.hub.twins import MAX_DEPTH, MAX_SECTION_BYTES, check_section, merge_patch, removal_patch


def test_merge_patch_deletes_nulls_and_merges_objects() -> None:
    target = {"a": 1, "nested": {"x": 1, "y": 2}, "gone": True}
    patch = {"nested": {"y": None, "z": 3}, "gone": None, "b": [1, 2]}
    assert merge_patch(target, patch) == {"a": 1, "nested": {"x": 1, "z": 3}, "b": [1, 2]}
    assert target["gone"] is True  # the input is left alone


def test_a_replacement_nulls_what_it_removes() -> None:
    assert removal_patch({"a": 1, "b": 2}, {"b": 3, "c": 4}) == {"a": None, "b": 3, "c": 4}


def test_sections_are_bounded() -> None:
    deep: dict[str, object] = {}
    level = deep
    for _ in range(MAX_DEPTH + 1):
        level["k"] = {}
        level = level["k"]  # type: ignore[assignment]
    with pytest.raises(ServiceRequestInvalid):
        check_section(deep, "desired")
    with pytest.raises(ServiceRequestInvalid):
        check_section({"big": "x" * MAX_SECTION_BYTES}, "desired")
    with pytest.raises(ServiceRequestInvalid):
        check_section(["not", "an", "object"], "reported")
    assert check_section({"$version": 4, "mode": "record"}, "desired") == {"mode": "record"}
