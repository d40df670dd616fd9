"""The 36-hour rule: a module cut off from the cloud for too long stops its live pipelines.

Video Analyzer's edge module, disconnected for more than 36 hours, "deactivates all running
live pipelines and rejects further direct methods until connectivity returns". Here the limit
comes from the cloud's connectivity policy (``Connectivity.maximum_disconnected_period``).

``ConnectivityWatchdog.check`` is one tick (``run`` ticks every ``interval_s``, 60 s by
default): past the limit every live pipeline is deactivated, remembering that it should run,
and when the cloud answers again they come back on their own. The first tick is also what
resumes, after a restart, the pipelines that were active, unless the module is already past
the limit.

While past the limit, the methods that would start or change what runs answer
``402 ConnectivityRequired``: ``pipelineTopologySet``, ``livePipelineSet`` and
``livePipelineActivate``. Reads (``*Get``, ``*List``) and the methods that only stop or remove
things (``livePipelineDeactivate``, ``*Delete``) still work, so an operator can always clean up.
"""

from __future__ import annotations

import asyncio
import logging

from ova.common.clock import Clock
from ova.edge.errors import ConnectivityRequired
from ova.edge.pipelines import LivePipelines
from ova.edge.ports import Connectivity

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_S = 60.0
METHODS_NEEDING_CLOUD = frozenset({"pipelineTopologySet", "livePipelineSet", "livePipelineActivate"})


class ConnectivityWatchdog:
    def __init__(
        self,
        connectivity: Connectivity,
        pipelines: LivePipelines,
        clock: Clock,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
    ) -> None:
        self._connectivity = connectivity
        self._pipelines = pipelines
        self._clock = clock
        self.interval_s = interval_s
        self._suspended = True  # nothing runs before the first tick

    @property
    def offline(self) -> bool:
        """True once the module has been without the cloud for longer than the policy allows."""
        limit = self._connectivity.maximum_disconnected_period
        return self._connectivity.disconnected_for(self._clock.now()) > limit

    @property
    def suspended(self) -> bool:
        """True while the pipelines that should run are held back."""
        return self._suspended

    def require_cloud(self, method_name: str) -> None:
        """Raise ``ConnectivityRequired`` for a method that needs the cloud while it is out of reach."""
        if method_name in METHODS_NEEDING_CLOUD and self.offline:
            limit = _hours(self._connectivity.maximum_disconnected_period.total_seconds())
            raise ConnectivityRequired(
                f"The module has been disconnected from the cloud for more than {limit};"
                f" '{method_name}' requires cloud connectivity."
            )

    async def check(self) -> None:
        """One tick: suspend past the limit, resume once the cloud answers again."""
        offline = self.offline
        if offline and not self._suspended:
            self._suspended = True
            log.warning("disconnected from the cloud past the limit: deactivating every live pipeline")
            await self._pipelines.suspend()
        elif not offline and self._suspended:
            self._suspended = False
            failed = await self._pipelines.resume()
            if failed:
                log.warning("%d live pipelines could not resume", len(failed))

    async def run(self) -> None:
        """Tick until cancelled."""
        while True:
            try:
                await self.check()
            except Exception:  # one bad tick must not end the watchdog
                log.exception("connectivity check failed")
            await asyncio.sleep(self.interval_s)


def _hours(seconds: float) -> str:
    hours = seconds / 3600
    return f"{hours:g} hours" if hours >= 1 else f"{seconds:g} seconds"
