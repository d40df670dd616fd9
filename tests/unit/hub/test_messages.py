"""Device-to-cloud message storage: per-identity and age retention, paging, the JSONL sink."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ova.common.clock import FrozenClock
from ova.hub.messages import MessageStore
from ova.hub.namespace import Identity
from support.hub_store import open_store

MODULE = Identity("camera-1", "avaedge")
OTHER = Identity("camera-2", "avaedge")


async def test_each_identity_keeps_its_newest_messages(tmp_path: Path) -> None:
    engine, sessions = await open_store(tmp_path)
    clock = FrozenClock(datetime.now(UTC))
    store = MessageStore(sessions, clock, max_per_identity=3, retention_days=1, max_body_bytes=16)
    try:
        await store.on_message(OTHER, {}, b"other")
        for n in range(5):
            await store.on_message(MODULE, {"$.on": "output1", "n": str(n)}, str(n).encode())
        assert await store.on_message(MODULE, {}, b"x" * 17) is None and store.dropped == 1
        kept = await store.read(MODULE)
        assert [message.body for message in kept] == [b"2", b"3", b"4"]
        assert kept[0].properties == {"n": "2"} and kept[0].system_properties == {"$.on": "output1"}
        assert [m.body for m in await store.read(MODULE, after=kept[0].sequence, top=1)] == [b"3"]
        assert [m.body for m in await store.read(OTHER)] == [b"other"]
        clock.advance(timedelta(days=1, seconds=1))
        await store.on_message(MODULE, {}, b"new")
        assert [m.body for m in await store.read(OTHER)] == []
    finally:
        await engine.dispose()


async def test_the_sink_gets_one_private_json_line_a_message(tmp_path: Path) -> None:
    engine, sessions = await open_store(tmp_path)
    sink = tmp_path / "messages.jsonl"
    store = MessageStore(sessions, FrozenClock(datetime.now(UTC)), sink_path=sink)
    try:
        await store.on_message(MODULE, {"$.ct": "application/json", "kind": "motion"}, b'{"a": 1}')
        await store.on_message(MODULE, {}, b"\xff\xfe")
    finally:
        await engine.dispose()
    lines = [json.loads(line) for line in sink.read_text().splitlines()]
    assert lines[0]["moduleId"] == "avaedge" and lines[0]["body"] == '{"a": 1}'
    assert lines[0]["properties"] == {"kind": "motion"} and lines[1]["bodyBase64"] == "//4="
    assert stat.S_IMODE(sink.stat().st_mode) == 0o600
