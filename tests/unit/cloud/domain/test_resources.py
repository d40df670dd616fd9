"""The shared resource life cycle's pure parts: JSON merge patch, read-only stripping, state checks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ova.cloud.db.models import ResourceRow
from ova.cloud.domain.kinds.live_pipelines import KIND as LIVE_PIPELINES
from ova.cloud.domain.kinds.videos import KIND as VIDEOS
from ova.cloud.domain.resources import conflict_in_state, in_state, merge_patch, strip_read_only
from ova.common.errors import ValidationFailed

# RFC 7396, Appendix A, plus two cases of our own at the end.
MERGE_PATCH_CASES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    (
        {"properties": {"title": "t", "archival": {"retentionPeriod": "P1D"}}},
        {},
        {"properties": {"title": "t", "archival": {"retentionPeriod": "P1D"}}},
    ),
    ({"tags": {"a": "1"}}, {"tags": {"b": "2"}}, {"tags": {"a": "1", "b": "2"}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), MERGE_PATCH_CASES)
def test_merge_patch(target: Any, patch: Any, expected: Any) -> None:
    target_before, patch_before = copy.deepcopy(target), copy.deepcopy(patch)

    result = merge_patch(target, patch)

    assert result == expected
    assert (target, patch) == (target_before, patch_before), "inputs are left alone"


def test_merge_patch_result_does_not_share_the_patch() -> None:
    patch = {"properties": {"parameters": [{"name": "a", "value": "1"}]}}

    result = merge_patch({}, patch)
    result["properties"]["parameters"][0]["value"] = "changed"

    assert patch["properties"]["parameters"][0]["value"] == "1"


def test_strip_read_only_drops_arm_and_kind_fields() -> None:
    body = {
        "id": "/x",
        "name": "n",
        "type": "t",
        "systemData": {},
        "properties": {"title": "kept", "type": "File", "flags": {}, "contentUrls": {}, "mediaInfo": {}},
    }

    assert strip_read_only(VIDEOS, body) == {"properties": {"title": "kept"}}
    assert strip_read_only(LIVE_PIPELINES, {"properties": {"state": "Active", "bitrateKbps": 500}}) == {
        "properties": {"bitrateKbps": 500}
    }
    assert strip_read_only(VIDEOS, {"properties": "x"}) == {"properties": "x"}, (
        "left for validation to refuse"
    )


@pytest.mark.parametrize("body", [[], "x", None, 5])
def test_strip_read_only_refuses_non_objects(body: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        strip_read_only(VIDEOS, body)
    assert caught.value.target == "body"


def test_state_checks() -> None:
    row = ResourceRow(name="cam1", document={"properties": {"state": "Active"}})

    assert in_state(row, "Activating", "Active")
    assert not in_state(row, "Inactive")
    conflict = conflict_in_state(LIVE_PIPELINES, row, "deleted")
    assert conflict.status == 409 and conflict.code == "OperationNotAllowedInState"
    assert conflict.message == "The live pipeline 'cam1' cannot be deleted while it is Active."
