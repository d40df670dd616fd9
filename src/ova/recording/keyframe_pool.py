"""``KeyframePool``: the playability check of each segment, run in bounded child processes.

The keyframe a segment opens with comes from a camera, so decoding it is hostile input to
FFmpeg. Each check runs in a child process (``spawn``: nothing of the recorder's memory is
shared) that is niced and limited in address space (``RLIMIT_AS``) and CPU time per check
(``RLIMIT_CPU``); a check that outlives its wall-clock timeout has its child killed and
replaced. A crash, timeout or exhausted limit fails that one check (the segment is reported
as not playable), never the recorder.

The pool is bounded: ``workers`` children, and at most ``queue_size`` checks waiting for one.
A check that finds the queue full does not run: the segment is kept unchecked and without
previews (``UNCHECKED``), since under load losing recordings is worse than storing one
segment that might not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import resource
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from ova.media.cmaf import InitSegment, MediaSegment
from ova.recording.segment_check import UNCHECKED, KeyframeVerdict, check_keyframe

log = logging.getLogger(__name__)
Job = Callable[[InitSegment, MediaSegment, bool], KeyframeVerdict]
MIB = 1024 * 1024
READY = "ready"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class DecodeLimits:
    """How far one keyframe check may go, and how many may run or wait at once."""

    workers: int = 1
    queue_size: int = 8
    memory_mib: int = 1024
    cpu_seconds: int = 10
    timeout_s: float = 10.0
    nice: int = 10

    def __post_init__(self) -> None:
        if min(self.workers, self.queue_size, self.memory_mib, self.cpu_seconds) < 1 or self.timeout_s <= 0:
            raise ValueError("decode workers, queue, memory, CPU and timeout must be positive")


def _child_main(connection: Connection, limits: DecodeLimits, job: Job) -> None:
    """The child: limit itself, then answer one check per message until the pipe closes."""
    os.nice(limits.nice)
    memory = limits.memory_mib * MIB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file of camera data
    connection.send(READY)
    while True:
        try:
            init, segment, previews = connection.recv()
        except EOFError:
            return
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = int(used.ru_utime + used.ru_stime) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (spent + limits.cpu_seconds, resource.RLIM_INFINITY))
        try:
            verdict = job(init, segment, previews)
        except MemoryError:
            verdict = KeyframeVerdict(defect="its check ran out of memory", check_failed=True)
        except Exception as error:  # any failure of the check is that segment's defect
            verdict = KeyframeVerdict(defect=f"its check failed ({type(error).__name__})", check_failed=True)
        connection.send(verdict)


class _Child:
    """One child process and its end of the pipe; started on first use, killed on a timeout."""

    def __init__(self, limits: DecodeLimits, job: Job) -> None:
        self._limits, self._job = limits, job
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None

    def run(self, init: InitSegment, segment: MediaSegment, previews: bool) -> KeyframeVerdict:
        """Blocking: send one check and wait for its verdict (call from a thread)."""
        try:
            connection = self._start()
            connection.send((init, segment, previews))
            if not connection.poll(self._limits.timeout_s):
                self.stop()
                defect = f"its check took longer than {self._limits.timeout_s:g} s"
                return KeyframeVerdict(defect=defect, check_failed=True)
            verdict: KeyframeVerdict = connection.recv()
            return verdict
        except (EOFError, OSError):
            code = self.stop()
            return KeyframeVerdict(defect=f"its check crashed (exit code {code})", check_failed=True)

    def _start(self) -> Connection:
        if self._connection is None or self._process is None or not self._process.is_alive():
            self.stop()
            context = multiprocessing.get_context("spawn")
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_child_main, args=(theirs, self._limits, self._job), daemon=True, name="ova-keyframe"
            )
            process.start()
            theirs.close()
            self._process, self._connection = process, ours
            if not ours.poll(START_TIMEOUT_S) or ours.recv() != READY:
                raise EOFError("the keyframe check process did not start")
        return self._connection

    def stop(self) -> int | None:
        """Kill the child (if any) and return its exit code."""
        process, connection, self._process, self._connection = self._process, self._connection, None, None
        if connection is not None:
            connection.close()
        if process is None:
            return None
        if process.is_alive():
            process.kill()
        process.join(5)
        code = process.exitcode
        with contextlib.suppress(ValueError):
            process.close()
        return code


class KeyframePool:
    """Bounded child processes that check segments; one pool serves every recorder of a process."""

    def __init__(self, limits: DecodeLimits | None = None, job: Job = check_keyframe) -> None:
        self.limits = limits or DecodeLimits()
        self._children = [_Child(self.limits, job) for _ in range(self.limits.workers)]
        self._idle: asyncio.Queue[_Child] | None = None
        self._waiting = 0
        self.skipped = 0

    async def check(self, init: InitSegment, segment: MediaSegment, previews: bool) -> KeyframeVerdict:
        """The verdict of one segment, or ``UNCHECKED`` when every worker and queue slot is taken."""
        idle = self._idle_queue()
        if idle.empty() and self._waiting >= self.limits.queue_size:
            self.skipped += 1
            return UNCHECKED
        self._waiting += 1
        try:
            child = await idle.get()
        finally:
            self._waiting -= 1
        running = asyncio.ensure_future(asyncio.to_thread(child.run, init, segment, previews))
        # The child is free again only once its check is over, even if this caller was cancelled.
        running.add_done_callback(lambda _: idle.put_nowait(child))
        return await asyncio.shield(running)

    async def close(self) -> None:
        """Stop every child (checks still running end as failed)."""
        await asyncio.gather(*(asyncio.to_thread(child.stop) for child in self._children))

    def _idle_queue(self) -> asyncio.Queue[_Child]:
        if self._idle is None:
            self._idle = asyncio.Queue()
            for child in self._children:
                self._idle.put_nowait(child)
        return self._idle
