"""The live-pipeline state machine: ``inactive → activating → active → deactivating → inactive``.

``activate`` resolves the pipeline's parameters against its topology (defaults filling the
rest), adds the system variables ``${System.PipelineName}`` and ``${System.TopologyName}``,
checks the camera URLs, asks the ``GraphRunner`` whether it can run every node (``check``:
``NodeNotAvailable`` names the ones it cannot) and starts it; it returns once the pipeline is
active and is idempotent. The two date-time variables (``${System.Runtime.DateTime}``,
``${System.Runtime.PreciseDateTime}``) are left in place: they change with every file, so the
file sink resolves them when it names one.

``deactivate`` returns once the pipeline is inactive, after ``RunningGraph.stop`` flushed the
video sinks' caches or ``flush_timeout_s`` (60 s by default) ran out. Activating a pipeline
that is deactivating answers ``NotAllowedInState``. Each pipeline has its own lock, so slow
pipelines never hold up others.

Whether a pipeline should run is persisted (``PipelineRecord.desired_active``): ``resume``
brings back, after a restart, every pipeline that was active. ``suspend`` (the 36-hour rule)
stops them all but keeps that wish, so a later ``resume`` restarts them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from enum import StrEnum

from ova.common.errors import OvaError, Problems
from ova.contracts.topology import EdgeTopology, check_resolved_camera_urls, resolve_parameters
from ova.edge.entities import EntityStore, PipelineRecord
from ova.edge.errors import EntityNotFound, NotAllowedInState, PipelineValidation
from ova.edge.ports import GraphRunner, PipelineSpec, RunningGraph
from ova.recording.plan import system_variables

log = logging.getLogger(__name__)

DEFAULT_FLUSH_TIMEOUT_S = 60.0


class PipelineState(StrEnum):
    INACTIVE = "inactive"
    ACTIVATING = "activating"
    ACTIVE = "active"
    DEACTIVATING = "deactivating"


class LivePipelines:
    """Runs the stored live pipelines through a ``GraphRunner``."""

    def __init__(
        self, store: EntityStore, runner: GraphRunner, *, flush_timeout_s: float = DEFAULT_FLUSH_TIMEOUT_S
    ) -> None:
        self._store = store
        self._runner = runner
        self.flush_timeout_s = flush_timeout_s
        self._states: dict[str, PipelineState] = {}
        self._graphs: dict[str, RunningGraph] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def state(self, name: str) -> PipelineState:
        return self._states.get(name, PipelineState.INACTIVE)

    def busy(self, name: str) -> bool:
        """True while ``name`` is being activated or deactivated."""
        lock = self._locks.get(name)
        return lock is not None and lock.locked()

    @property
    def active_count(self) -> int:
        return sum(1 for state in self._states.values() if state is PipelineState.ACTIVE)

    def spec(self, record: PipelineRecord) -> PipelineSpec:
        """What the graph runner is given: the topology and every resolved value."""
        topology = self._store.topologies.get(record.topology_name)
        if topology is None:
            raise EntityNotFound(f"The pipeline topology '{record.topology_name}' does not exist.")
        values = _resolved(topology.model, record)
        values.update(system_variables(record.name, record.topology_name))
        return PipelineSpec(record.name, record.topology_name, topology.stored(), values)

    async def activate(self, name: str) -> None:
        """Make ``name`` active (a no-op when it already is) and remember that it should run."""
        if self.state(name) is PipelineState.DEACTIVATING:
            raise NotAllowedInState(f"The live pipeline '{name}' is deactivating; activate it once inactive.")
        async with self._lock(name):
            record = self._record(name)
            if self.state(name) is PipelineState.ACTIVE:
                return
            spec = self.spec(record)
            self._runner.check(spec)
            self._states[name] = PipelineState.ACTIVATING
            try:
                self._graphs[name] = await self._runner.start(spec)
            except BaseException:
                self._states.pop(name, None)
                raise
            self._states[name] = PipelineState.ACTIVE
            await asyncio.to_thread(self._store.set_desired_active, name, True)
            log.info("live pipeline %s is active", name)

    async def deactivate(self, name: str, *, keep_desired: bool = False) -> bool:
        """Make ``name`` inactive; True when its media cache drained in time (or nothing ran).

        ``keep_desired`` stops it without forgetting that it should run (``suspend``).
        """
        async with self._lock(name):
            self._record(name)
            flushed = True
            graph = self._graphs.pop(name, None)
            if graph is not None:
                self._states[name] = PipelineState.DEACTIVATING
                try:
                    flushed = await graph.stop(self.flush_timeout_s)
                finally:
                    self._states.pop(name, None)
                if not flushed:
                    log.warning("live pipeline %s stopped before its cache drained", name)
            if not keep_desired:
                await asyncio.to_thread(self._store.set_desired_active, name, False)
            return flushed

    async def resume(self) -> list[str]:
        """Activate every pipeline that should run; the names that failed (logged, not raised)."""
        wanted = [record.name for record in self._store.pipelines.values() if record.desired_active]
        return await self._each(wanted, self.activate)

    async def suspend(self) -> list[str]:
        """Deactivate every running pipeline, keeping the wish to run; the names that failed."""

        async def stop(name: str) -> None:
            await self.deactivate(name, keep_desired=True)

        running = [name for name, state in self._states.items() if state is not PipelineState.INACTIVE]
        return await self._each(running, stop)

    async def close(self) -> None:
        """Stop every pipeline at shutdown; they resume at the next start."""
        await self.suspend()

    def forget(self, name: str) -> None:
        """Drop the lock of a deleted pipeline."""
        if not self.busy(name):
            self._locks.pop(name, None)

    async def _each(self, names: Iterable[str], action: Callable[[str], Awaitable[None]]) -> list[str]:
        failed: list[str] = []
        for name in names:
            try:
                await action(name)
            except OvaError as error:
                log.warning("live pipeline %s: %s", name, error.message)
                failed.append(name)
        return failed

    def _lock(self, name: str) -> asyncio.Lock:
        return self._locks.setdefault(name, asyncio.Lock())

    def _record(self, name: str) -> PipelineRecord:
        record = self._store.pipelines.get(name)
        if record is None:
            raise EntityNotFound(f"The live pipeline '{name}' does not exist.")
        return record


def _resolved(topology: EdgeTopology, record: PipelineRecord) -> dict[str, str]:
    try:
        values = resolve_parameters(topology, record.values)
        problems = Problems()
        check_resolved_camera_urls(topology.properties.sources, values, list(record.values), problems)
        problems.raise_if_any("The pipeline parameters are invalid.")
    except OvaError as error:
        raise PipelineValidation(error.message, target=error.target, details=error.details) from None
    return values
