"""``$filter`` as ARM list calls send it: ``field eq 'value'`` clauses joined by ``and``."""

from __future__ import annotations

import pytest

from ova.cloud.domain import odata_filter
from ova.common.errors import ValidationFailed

LIVE = {"name": "cam-1", "kind": "Live", "properties": {"state": "Active", "topologyName": "t1"}}
BATCH = {"name": "job", "kind": "Batch", "properties": {"state": "Processing", "topologyName": "O'Hare"}}


@pytest.mark.parametrize(
    ("expression", "live", "batch"),
    [
        ("kind eq 'Live'", True, False),
        ("properties/state eq 'Active'", True, False),
        ("properties/topologyName eq 't1' and kind eq 'Live'", True, False),
        ("properties/topologyName eq 'O''Hare'", False, True),
        ("name eq 'job'", False, True),
        ("properties/missing eq 'x'", False, False),
        ("KIND EQ 'Batch'", False, True),
    ],
)
def test_clauses_select_matching_resources(expression: str, live: bool, batch: bool) -> None:
    predicate = odata_filter.parse(expression)
    assert predicate is not None
    assert (predicate(LIVE), predicate(BATCH)) == (live, batch)


@pytest.mark.parametrize("expression", [None, "", "   "])
def test_no_filter_is_none(expression: str | None) -> None:
    assert odata_filter.parse(expression) is None


@pytest.mark.parametrize(
    "expression",
    [
        "kind ne 'Live'",
        "kind eq Live",
        "kind eq 'Live' or kind eq 'Batch'",
        "properties/a/b eq 'x'",
        "startswith(name, 'a')",
        "kind eq 'Live' and",
        "x" * 600,
    ],
)
def test_unsupported_filters_are_refused(expression: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        odata_filter.parse(expression)
    assert caught.value.target == "$filter"
