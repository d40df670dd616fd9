"""Twin requests waiting for their ``$rid`` answer: bounded, one answer each, failed together."""

from __future__ import annotations

import pytest

from ova.edge.errors import HubUnavailable
from ova.edge.iothub.requests import HubAnswer, PendingRequests


async def test_each_answer_resolves_its_request() -> None:
    pending = PendingRequests(limit=2)
    first_rid, first = pending.open()
    second_rid, second = pending.open()
    assert first_rid != second_rid
    with pytest.raises(HubUnavailable, match="Too many"):
        pending.open()
    assert pending.resolve(second_rid, HubAnswer(200, None, b"{}"))
    assert not pending.resolve(second_rid, HubAnswer(200, None, b"{}"))  # answered once
    assert not pending.resolve("999", HubAnswer(200, None, b""))
    assert (await second).status == 200 and not first.done()
    pending.fail_all("lost")
    with pytest.raises(HubUnavailable, match="lost"):
        await first
    assert len(pending) == 0
