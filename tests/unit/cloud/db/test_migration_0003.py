"""Migration 0003 on a store that already holds segments (SQLite and PostgreSQL): existing rows
get their stable numbers in time order and the per-day coverage is built from them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, insert, text

from ova.cloud.db import migrate
from ova.cloud.db.engine import sync_url
from ova.cloud.db.models import AccountRow, ResourceRow

NOW = datetime(2026, 3, 1, tzinfo=UTC)
DAY_MS = 86_400_000
MIDNIGHT = 1_772_323_200_000  # 2026-03-01T00:00:00Z
VIDEO = "00000000-0000-0000-0000-00000000000v"
# (start, duration, config, gap_before): a run, a gap, a segment over midnight, a codec change.
SEGMENTS = [
    (MIDNIGHT - 20_000, 10_000, "a", False),
    (MIDNIGHT - 10_000, 10_000, "a", False),
    (MIDNIGHT + 60_000, 10_000, "a", True),
    (MIDNIGHT + DAY_MS - 5_000, 10_000, "a", False),
    (MIDNIGHT + DAY_MS + 5_000, 10_000, "b", False),
]


def audit() -> dict[str, object]:
    return {"created_at": NOW, "created_by": "t", "modified_at": NOW, "modified_by": "t"}


def seed(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        account = {"id": "a" * 8 + "-0000-0000-0000-000000000000", "subscription_id": "s"}
        account |= {"resource_group": "rg", "resource_group_key": "rg", "name": "n", "name_key": "n"}
        connection.execute(insert(AccountRow), [{**account, "location": "l", "document": {}, **audit()}])
        video = {"id": VIDEO, "account_id": account["id"], "kind": "videos", "name": "v", "name_key": "v"}
        connection.execute(insert(ResourceRow), [{**video, "document": {}, **audit()}])
        for sequence, (start, duration, config, gap) in enumerate(reversed(SEGMENTS)):
            connection.execute(
                text(
                    "INSERT INTO segments (video_id, start_ms, duration_ms, sequence, blob_name, size, "
                    "sha256, config_hash, gap_before, created_at) "
                    "VALUES (:v, :s, :d, :q, 'b', 100, '', :c, :g, :t)"
                ),
                {"v": VIDEO, "s": start, "d": duration, "q": sequence, "c": config, "g": gap, "t": NOW},
            )
    engine.dispose()


def read(database_url: str, sql: str) -> list[tuple[int, ...]]:
    engine = create_engine(sync_url(database_url))
    with engine.begin() as connection:
        rows = [tuple(row) for row in connection.execute(text(sql))]
    engine.dispose()
    return rows


def test_existing_segments_are_numbered_and_their_days_covered(database_url: str) -> None:
    migrate.upgrade(database_url, "0002")
    seed(database_url)
    migrate.upgrade(database_url)
    numbers = read(
        database_url, "SELECT ordinal, discontinuity, run_start_ms FROM segments ORDER BY start_ms"
    )
    starts = [segment[0] for segment in SEGMENTS]
    expected = [(0, 0, starts[0]), (1, 0, starts[0]), (2, 1, starts[2]), (3, 2, starts[3]), (4, 3, starts[4])]
    assert numbers == expected
    days = read(database_url, "SELECT day_ms, segment_count, total_bytes FROM segment_days ORDER BY day_ms")
    # The segment over midnight counts on both days.
    assert days == [(MIDNIGHT - DAY_MS, 2, 200), (MIDNIGHT, 2, 200), (MIDNIGHT + DAY_MS, 2, 200)]
