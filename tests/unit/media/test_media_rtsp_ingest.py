"""RtspIngest without a network: retries, backoff, and what it reports about a source."""

from __future__ import annotations

import contextlib
import random
from pathlib import Path

import pytest

from ova.media.demuxer import IngestItem, redact_url
from ova.media.ingest_events import Disconnected
from ova.media.ingest_settings import IngestSettings
from ova.media.rtsp_ingest import Backoff, RtspIngest


def test_backoff_grows_exponentially_with_bounded_jitter_and_resets() -> None:
    backoff = Backoff(0.5, 8.0, 0.2, random.Random(1))
    delays = [backoff.next_delay() for _ in range(8)]
    for delay, base in zip(delays, [0.5, 1, 2, 4, 8, 8, 8, 8], strict=True):
        assert base * 0.8 <= delay <= base * 1.2
    assert len(set(delays)) == len(delays), "jitter spreads reconnecting cameras apart"
    backoff.reset()
    assert backoff.next_delay() <= 0.6


def test_credentials_never_leave_the_ingest() -> None:
    assert redact_url("rtsp://admin:s3cret@10.0.0.5:554/stream") == "rtsp://***@10.0.0.5:554/stream"
    assert redact_url("rtsp://10.0.0.5/stream") == "rtsp://10.0.0.5/stream"
    assert RtspIngest("rtsp://u:p@cam/x").source == "rtsp://***@cam/x"


async def test_a_missing_source_is_retried_with_growing_delays_then_given_up(tmp_path: Path) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    settings = IngestSettings(max_attempts=3, backoff_jitter=0.0, local_file=True)
    ingest = RtspIngest(str(tmp_path / "missing.ts"), settings, sleep=sleep)
    items: list[IngestItem] = []
    async with contextlib.aclosing(ingest.run()) as stream:
        async for item in stream:
            items.append(item)
    assert all(isinstance(item, Disconnected) for item in items)
    assert [item.retry_in_s for item in items if isinstance(item, Disconnected)] == [0.5, 1.0, None]
    assert slept == [0.5, 1.0]
    last = items[-1]
    assert isinstance(last, Disconnected)
    assert "could not be read" in last.reason and "gave up after 3 attempts" in last.reason
    assert str(tmp_path) not in last.reason
    assert (ingest.stats.sessions, ingest.stats.reconnects) == (3, 2)


@pytest.mark.parametrize(
    "settings",
    [
        {"read_timeout_s": 0},
        {"backoff_max_s": 0.1},
        {"backoff_jitter": 1.0},
        {"queue_size": 0},
        {"max_attempts": 0},
    ],
)
def test_settings_are_checked(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        IngestSettings(**settings)  # type: ignore[arg-type]
