"""Archive manifest latency over a 30-day segment index (goal: 24-h manifest p99 ≤ 50 ms).

Builds a deployment in-process (``ova.cloud.runtime.build``) on SQLite (WAL) and, when the
Debian server binaries are installed, on a throwaway PostgreSQL (``tests/support/postgres.py``).
It creates an account and video ``bench`` and inserts a synthetic 30-day index straight into
the segment tables (SQLAlchemy core, bulk): 30 s segments, 86,400 slots (86,007 rows), a few gaps
(``gap_before``) and one codec change on day 20 (then ``ANALYZE`` on PostgreSQL, as
autovacuum would). Then, through the real listener app (the ``/streaming`` mount, metrics and
guards included) over ``httpx.ASGITransport``, with the content token ``listContentToken``
hands out passed as ``?token=`` (what the player sends, so every segment URI in the answer
carries it), it times ``--requests`` requests of:

- ``manifest(format=m3u8-cmaf,...)`` and ``manifest(format=mpd-time-cmaf,...)`` over random
  24-h and 1-h windows inside the index;
- ``availableMedia?precision=day`` over 31 days (the longest span allowed), answered from the
  per-day coverage table (``domain/coverage.py``, rebuilt after the bulk load).

Each 24-h case is also split into its parts, timed on their own on the same windows: the
index queries alone (``newest_end_ms`` + ``window`` + ``inits``, one session) and the
rendering alone (timeline + runs + playlist/MPD text from already-loaded segments). The 24-h
cases run again with the token in an ``Authorization`` header (segment URIs then carry none).

Every case runs with three variants of the code, interleaved case by case in one process:

- ``previous``: the index queries and ``EXT-X-PROGRAM-DATE-TIME`` formatting as they were
  before this benchmark (ORM rows for the window, ``max(start + duration)`` over the whole
  video for the newest end, ``datetime`` per segment, and availableMedia's days computed from
  every segment of the span instead of the coverage table), patched in;
- ``current``: the source tree;
- ``frozen``: the source tree after ``gc.collect(); gc.freeze()``, so that the cyclic garbage
  collector's full collections no longer walk the ~150,000 objects alive after start-up.

Medians, p95 and p99 are printed in ms of wall clock and, since this machine is shared, also
of the process's CPU time (which other load inflates far less).

Usage::

    .venv/bin/python bench/manifest_latency.py                  # SQLite and PostgreSQL
    .venv/bin/python bench/manifest_latency.py --backend sqlite --requests 500
    .venv/bin/python bench/manifest_latency.py --profile        # pyinstrument, one 24-h HLS case
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ova.cloud.api.streaming import archive
from ova.cloud.db.models import InitSegmentRow, SegmentRow
from ova.cloud.domain import accounts, available_media, coverage, segment_index
from ova.cloud.domain.arm import AccountScope, Principal
from ova.cloud.domain.kinds import videos
from ova.cloud.domain.resources import KindContext, put
from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings
from ova.media.dash import mpd
from ova.media.hls import playlist
from ova.media.timeline import TimelineSegment, is_boundary, runs

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
SEGMENT_MS = 30_000
DAYS = 30
ORIGIN_MS = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp() * 1000)
CODEC_CHANGE_MS = ORIGIN_MS + 20 * DAY_MS
# (start offset, length) of the recording gaps, in ms from ORIGIN_MS
GAPS = [
    (3 * DAY_MS + 5 * HOUR_MS, 20 * 60_000),
    (9 * DAY_MS, 2 * HOUR_MS),
    (14 * DAY_MS + 7 * HOUR_MS, 90_000),
]
GAPS += [(22 * DAY_MS + 13 * HOUR_MS, 45 * 60_000), (27 * DAY_MS + 1 * HOUR_MS, 10 * 60_000)]
SCOPE = AccountScope("00000000-0000-0000-0000-000000000001", "bench", "bench")
CONFIGS = {"a" * 64: ("avc1.640028", 1920, 1080), "b" * 64: ("hvc1.1.6.L120.90", 1920, 1080)}


@dataclass
class Deployment:
    cloud: Cloud
    video_id: str
    base: str  # the archive base path under the listener
    token: str


def in_gap(start_ms: int) -> bool:
    return any(ORIGIN_MS + a <= start_ms < ORIGIN_MS + a + n for a, n in GAPS)


def segment_rows(video_id: str, now: datetime) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    previous_missing = False
    for index in range(DAYS * DAY_MS // SEGMENT_MS):
        start = ORIGIN_MS + index * SEGMENT_MS
        if in_gap(start):
            previous_missing = True
            continue
        config = "b" * 64 if start >= CODEC_CHANGE_MS else "a" * 64
        last = rows[-1] if rows else None
        boundary = last is not None and is_boundary(
            last["start_ms"] + SEGMENT_MS, last["config_hash"], start, config, previous_missing
        )
        rows.append(
            dict(
                video_id=video_id,
                start_ms=start,
                duration_ms=SEGMENT_MS,
                sequence=index + 1,
                blob_name=segment_index.segment_blob_name(start, index + 1),
                size=1_875_000 + (index % 7) * 1000,
                sha256=f"{index:064x}",
                config_hash=config,
                gap_before=previous_missing,
                created_at=now,
                ordinal=len(rows),
                discontinuity=(last["discontinuity"] + int(boundary)) if last else 0,
                run_start_ms=last["run_start_ms"] if last and not boundary else start,
            )
        )
        previous_missing = False
    return rows


async def deploy(database_url: str | None, data_dir: Path) -> Deployment:
    settings = CloudSettings(data_dir=data_dir, database_url=database_url)
    cloud = await build(settings)
    services = cloud.services
    now = services.clock.now()
    async with services.sessions.begin() as session:
        account, _ = await accounts.put(services, session, SCOPE, {"location": "westus2"}, Principal("bench"))
        ctx = KindContext(services=services, session=session, account=account, principal=Principal("bench"))
        video, _ = await put(ctx, videos.KIND, "bench", {"properties": {"title": "bench"}})
        token = (await videos.list_content_token(ctx, "bench"))["token"]
        video_id, key = video.id, account.id.replace("-", "")
        video.document = {
            **video.document,
            "internal": {**video.document.get("internal", {}), "hasData": True},
        }
    rows = segment_rows(video_id, now)
    async with services.sessions.begin() as session:
        for config_hash, (codec, width, height) in CONFIGS.items():
            init = dict(video_id=video_id, config_hash=config_hash, codec=codec, width=width, height=height)
            init |= dict(
                blob_name=segment_index.init_blob_name(config_hash), timescale=90_000, created_at=now
            )
            await session.execute(insert(InitSegmentRow), [init])
        for offset in range(0, len(rows), 5000):
            await session.execute(insert(SegmentRow), rows[offset : offset + 5000])
        await coverage.rebuild(session, video_id)  # what add_segment keeps, one segment at a time
    if database_url is not None and database_url.startswith("postgresql"):
        async with services.sessions.begin() as session:  # what autovacuum does soon after a bulk load
            await session.execute(text("ANALYZE segments"))
    print(f"  index: {len(rows)} segments, {len(GAPS)} gaps, codec change at day 20", flush=True)
    return Deployment(cloud, video_id, f"/streaming/{key}/videos/{video_id.replace('-', '')}", token)


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def manifest_path(fmt: str, start_ms: int, span_ms: int) -> str:
    suffix = ".m3u8" if fmt.startswith("m3u8") else ".mpd"
    return f"manifest(format={fmt},starttime={iso(start_ms)},endtime={iso(start_ms + span_ms)}){suffix}"


def random_starts(count: int, span_ms: int, seed: int) -> list[int]:
    """Window starts whose window holds media (not wholly inside a gap)."""
    rng, starts = random.Random(seed), list[int]()
    while len(starts) < count:
        start = ORIGIN_MS + rng.randrange(0, DAYS * DAY_MS - span_ms, 1000)
        if not (in_gap(start) and in_gap(start + span_ms - 1)):
            starts.append(start)
    return starts


def summary(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    quantiles = statistics.quantiles(ordered, n=100, method="inclusive")
    return statistics.median(ordered), quantiles[94], quantiles[98]


@dataclass
class Timings:
    """Milliseconds per request: wall clock, and CPU time of this process (all its threads), which
    a busy machine inflates much less than the wall clock."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, wall_s: float, cpu_s: float) -> None:
        self.wall.append(wall_s * 1000)
        self.cpu.append(cpu_s * 1000)


async def timed(count: int, call: Callable[[int], Awaitable[None]]) -> Timings:
    for index in range(min(5, count)):  # warm-up: caches, statement compilation, pools
        await call(index)
    timings = Timings()
    for index in range(count):
        wall, cpu = time.perf_counter(), time.process_time()
        await call(index)
        timings.add(time.perf_counter() - wall, time.process_time() - cpu)
    return timings


@asynccontextmanager
async def viewer(deployment: Deployment) -> AsyncIterator[httpx.AsyncClient]:
    app = deployment.cloud.listeners[0][1]
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as client:
        yield client


async def http_case(
    client: httpx.AsyncClient, deployment: Deployment, paths: list[str], sizes: list[int], header: bool
) -> Timings:
    async def call(index: int) -> None:
        path = paths[index]
        if header:
            bearer = {"Authorization": f"Bearer {deployment.token}"}
            response = await client.get(f"{deployment.base}/{path}", headers=bearer)
        else:
            joiner = "&" if "?" in path else "?"
            response = await client.get(f"{deployment.base}/{path}{joiner}token={deployment.token}")
        if response.status_code != 200:
            raise RuntimeError(f"{paths[index]}: {response.status_code} {response.text[:300]}")
        sizes.append(len(response.content))

    return await timed(len(paths), call)


async def load(deployment: Deployment, start_ms: int, end_ms: int) -> tuple[list[Any], dict[str, Any]]:
    """The manifest handler's index queries, alone."""
    async with deployment.cloud.services.sessions.begin() as session:
        await segment_index.newest_end_ms(session, deployment.video_id)
        stored = await segment_index.window(session, deployment.video_id, start_ms, end_ms)
        inits = await segment_index.inits(session, deployment.video_id, [s.config_hash for s in stored])
    return stored, inits


def render(fmt: str, stored: list[Any], inits: dict[str, Any], suffix: str) -> str:
    """The manifest handler's work after the queries, alone."""
    timeline = [
        TimelineSegment(
            f"segments/{s.start_ms}-{s.sequence}.m4s{suffix}",
            s.start_ms,
            s.duration_ms,
            s.config_hash,
            s.gap_before,
            s.ordinal,
            s.discontinuity,
            s.run_start_ms,
        )
        for s in stored
        if s.config_hash in inits
    ]
    played = runs(timeline, archive.tracks_for(inits, stored, suffix))
    if fmt.startswith("m3u8"):
        return playlist.render(played, ended=True)
    return mpd.render(played, ended=True, now_ms=int(time.time() * 1000))


async def split_case(deployment: Deployment, fmt: str, starts: list[int]) -> dict[str, Timings]:
    """The queries and the rendering of 24-h manifests, each timed alone, window by window."""
    suffix = f"?token={deployment.token}"
    parts = {"query": Timings(), "render": Timings()}
    for index, start in enumerate([*starts[:5], *starts]):  # the first five warm up
        wall, cpu = time.perf_counter(), time.process_time()
        stored, inits = await load(deployment, start, start + DAY_MS)
        queried_wall, queried_cpu = time.perf_counter(), time.process_time()
        render(fmt, stored, inits, suffix)
        if index >= 5:
            parts["query"].add(queried_wall - wall, queried_cpu - cpu)
            parts["render"].add(time.perf_counter() - queried_wall, time.process_time() - queried_cpu)
    return parts


async def previous_window(
    session: AsyncSession, video_id: str, start_ms: int, end_ms: int
) -> list[segment_index.StoredSegment]:
    """``segment_index.window`` before this benchmark: ORM rows, converted one by one."""
    statement = (
        select(SegmentRow)
        .where(
            SegmentRow.video_id == video_id,
            SegmentRow.start_ms > start_ms - segment_index.MAX_SEGMENT_MS,
            SegmentRow.start_ms < end_ms,
        )
        .order_by(SegmentRow.start_ms, SegmentRow.sequence)
    )
    rows = (await session.execute(statement)).scalars()
    return [segment_index.to_stored(row) for row in rows if row.start_ms + row.duration_ms > start_ms]


async def previous_newest_end_ms(session: AsyncSession, video_id: str) -> int | None:
    """``segment_index.newest_end_ms`` before this benchmark: ``max(start + duration)`` over the video."""
    statement = select(func.max(SegmentRow.start_ms + SegmentRow.duration_ms)).where(
        SegmentRow.video_id == video_id
    )
    value = (await session.execute(statement)).scalar_one_or_none()
    return int(value) if value is not None else None


async def previous_days_with_media(
    session: AsyncSession, video_id: str, start_ms: int, end_ms: int
) -> list[int]:
    """``coverage.days_with_media`` before the coverage table: every segment of the span read."""
    segments = await segment_index.window(session, video_id, start_ms, end_ms)
    days: set[int] = set()
    for first, last in available_media.continuous(segments):
        first, last = max(first, start_ms), min(last, end_ms)
        days.update(range(first // DAY_MS * DAY_MS, (last - 1) // DAY_MS * DAY_MS + 1, DAY_MS))
    return sorted(days)


def previous_program_date_time(epoch_ms: int) -> str:
    """``playlist.program_date_time`` before this benchmark: through ``datetime`` per segment."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@contextmanager
def implementation(variant: str) -> Iterator[None]:
    """Run with the code of ``variant``: "previous" (before this benchmark), "current" (the source
    tree) or "frozen" (the source tree, with every object alive after start-up moved out of the
    garbage collector's sight by ``gc.freeze()``, as a server could do once it is built)."""
    saved = segment_index.window, segment_index.newest_end_ms, playlist.program_date_time
    saved_days = coverage.days_with_media
    if variant == "previous":
        segment_index.window = previous_window
        segment_index.newest_end_ms = previous_newest_end_ms
        playlist.program_date_time = previous_program_date_time
        coverage.days_with_media = previous_days_with_media
    if variant == "frozen":
        gc.collect()
        gc.freeze()
    try:
        yield
    finally:
        segment_index.window, segment_index.newest_end_ms, playlist.program_date_time = saved
        coverage.days_with_media = saved_days
        gc.unfreeze()


Case = Callable[[], Awaitable[tuple[Timings, float | None]]]
Result = tuple[str, str, dict[str, Timings], float | None]


async def run_backend(name: str, database_url: str | None, args: argparse.Namespace) -> list[Result]:
    """(backend, case, samples per variant, median response bytes) for every case."""
    results = []
    with tempfile.TemporaryDirectory(prefix="ova-bench-manifest-") as scratch:
        print(f"{name}: building the deployment and the index...", flush=True)
        deployment = await deploy(database_url, Path(scratch))
        try:
            async with viewer(deployment) as client:
                for label, case in cases(client, deployment, args):
                    samples: dict[str, Timings] = {}
                    size = None
                    for variant in args.variants:
                        with implementation(variant):
                            samples[variant], size = await case()
                    results.append((name, label, samples, size))
                    print(f"  {label}: done", flush=True)
        finally:
            await deployment.cloud.close()
    return results


def cases(
    client: httpx.AsyncClient, deployment: Deployment, args: argparse.Namespace
) -> list[tuple[str, Case]]:
    def over_http(paths: list[str], header: bool = False) -> Case:
        async def case() -> tuple[Timings, float | None]:
            sizes: list[int] = []
            samples = await http_case(client, deployment, paths, sizes, header)
            return samples, statistics.median(sizes)

        return case

    def split(fmt: str, part: str) -> Case:
        async def case() -> tuple[Timings, float | None]:
            parts = await split_case(deployment, fmt, random_starts(args.requests, DAY_MS, args.seed))
            return parts[part], None

        return case

    found: list[tuple[str, Case]] = []
    for fmt, label in (("m3u8-cmaf", "HLS"), ("mpd-time-cmaf", "DASH")):
        for span, span_label in ((DAY_MS, "24 h"), (HOUR_MS, "1 h")):
            paths = [manifest_path(fmt, s, span) for s in random_starts(args.requests, span, args.seed)]
            found.append((f"{label} manifest {span_label}", over_http(paths)))
            if span == DAY_MS:
                found.append((f"{label} manifest {span_label}, token in header", over_http(paths, True)))
        for part in ("query", "render"):
            found.append((f"  {label} 24 h: {part} alone", split(fmt, part)))
    media = [available_media_path(ORIGIN_MS)] * args.available_media_requests
    found.append(("availableMedia day, 31 days", over_http(media)))
    return found


def available_media_path(start_ms: int) -> str:
    first = datetime.fromtimestamp(start_ms / 1000, tz=UTC)
    last = first + timedelta(days=30)
    return f"availableMedia?precision=day&startTime={first:%Y-%m-%d}&endTime={last:%Y-%m-%d}"


def print_table(results: list[Result], args: argparse.Namespace) -> None:
    variants = args.variants
    header = ["backend", "case"]
    for variant in variants:
        header += [f"{variant} median", "p95", "p99", "CPU median", "CPU p99"]
    others = [variant for variant in variants if variant != "previous"] if "previous" in variants else []
    for variant in others:
        header += [f"previous/{variant} median", "p99"]
    header += ["KiB", "p99 ≤ 50 ms"]
    lines = [header]
    for backend, case, samples, size in results:
        cells = [backend, case]
        wall = {variant: summary(samples[variant].wall) for variant in variants}
        for variant in variants:
            cpu = summary(samples[variant].cpu)
            cells += [f"{value:.1f}" for value in (*wall[variant], cpu[0], cpu[2])]
        for variant in others:
            (median, _, p99), (previous, _, previous_p99) = wall[variant], wall["previous"]
            cells += [f"{previous / median:.1f}x", f"{previous_p99 / p99:.1f}x"]
        cells.append(f"{size / 1024:.1f}" if size is not None else "")
        goal = case.startswith(("HLS manifest 24", "DASH manifest 24"))
        best = min(wall[variant][2] for variant in variants)
        cells.append(("ok" if best <= 50 else "over") if goal else "")
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    print(
        f"\n{args.requests} requests per manifest case, {args.available_media_requests} availableMedia "
        "requests; ms (wall clock, and CPU time of the process); random windows inside the 30-day "
        "index; variants interleaved per case; the last column judges the best variant"
    )
    for line in lines:
        padded = [
            c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(padded))


async def profile(database_url: str | None) -> None:
    from pyinstrument import Profiler

    with tempfile.TemporaryDirectory(prefix="ova-bench-manifest-") as scratch:
        deployment = await deploy(database_url, Path(scratch))
        try:
            async with viewer(deployment) as client:
                paths = [manifest_path("m3u8-cmaf", s, DAY_MS) for s in random_starts(50, DAY_MS, 7)]
                await http_case(client, deployment, paths[:5], [], False)
                profiler = Profiler(interval=0.0005, async_mode="enabled")
                with profiler:
                    await http_case(client, deployment, paths, [], False)
                print(profiler.output_text(unicode=True, color=False, show_all=False))
        finally:
            await deployment.cloud.close()


def postgres_url() -> tuple[str, Any] | None:
    from support.postgres import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        return None
    server = PostgresServer(bindir)
    server.start()
    return server.create_database("bench"), server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per manifest case")
    parser.add_argument("--available-media-requests", type=int, default=50)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument(
        "--variants",
        nargs="+",
        choices=["previous", "current", "frozen"],
        default=["previous", "current", "frozen"],
        help="code before this benchmark, the source tree, the source tree after gc.freeze()",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="pyinstrument over 50 24-h HLS requests")
    args = parser.parse_args()
    if args.profile:
        asyncio.run(profile(None))
        return
    print(f"load before: {' '.join(f'{v:.1f}' for v in os.getloadavg())}", flush=True)
    results = []
    if args.backend in ("sqlite", "both"):
        results += asyncio.run(run_backend("sqlite", None, args))
    if args.backend in ("postgresql", "both"):
        started = postgres_url()
        if started is None:
            print("postgresql: no server binaries (apt-get install postgresql); skipped")
        else:
            url, server = started
            try:
                results += asyncio.run(run_backend("postgresql", url, args))
            finally:
                server.stop()
    print_table(results, args)
    print(f"load after: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
