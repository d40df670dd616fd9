"""``EdgeModule``: the edge module's composition root. Every part is built here, once, in order.

Start-up:

1. the hub: the module client (``iothub.connection``), the metrics listener; direct methods
   answer ``503 ServerBusy`` until the module is ready;
2. the twin: read whole (retried until the hub answers), parsed into ``ModuleConfig``; logging
   follows ``LogLevel``/``LogCategories``;
3. the cloud: ``CloudLink`` loads its state from ApplicationDataDirectory or shakes hands with
   the ``ProvisioningToken`` (retried with back-off; ``ProvisioningState`` reported meanwhile);
4. the parts: events (``HubEventSink``), entities, media caches and uploaders, the graph runner,
   live pipelines, the 36-hour watchdog (whose first tick resumes the pipelines that were
   active), direct methods, telemetry; then ``ready``, reported as
   ``"ProvisioningState": "Provisioned"`` (before: ``NotStarted``, ``Pending`` while the cloud
   cannot be reached, ``Failed: <reason>`` when it refuses the token, ``Building``). A caller
   should wait for it (or retry on 503) before its first direct method.

Desired-property patches apply the dynamic properties at once (event outputs, logging,
``AllowUnsecuredEndpoints``); the others are reported as waiting for a restart. ``stop`` takes it
down in reverse: methods refused, pipelines stopped (they resume at the next start), caches
closed, queued events sent (bounded), hub and cloud links closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import Any

from ova import __version__
from ova.common.clock import Clock, SystemClock
from ova.common.errors import OvaError
from ova.edge import log_categories, module_config
from ova.edge.cloud_link import CloudLink, CloudLinkSettings
from ova.edge.errors import CloudUnavailable, HubUnavailable
from ova.edge.iothub.client import ModuleClient
from ova.edge.iothub.connection import open_client
from ova.edge.metrics import EdgeMetrics, Identity, MetricsServer
from ova.edge.module_config import ModuleConfig
from ova.edge.parts import EdgeParts, build_parts
from ova.edge.settings import EdgeSettings
from ova.edge.telemetry import Reporter

log = logging.getLogger(__name__)

PROVISIONING_BACKOFF_MAX_S = 300.0
METRICS_REFRESH_S = 5.0
STOP_EVENTS_DRAIN_S = 5.0


class EdgeModule:
    def __init__(
        self,
        settings: EdgeSettings,
        *,
        environ: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        module_version: str = __version__,
    ) -> None:
        self.settings = settings
        self._environ: Mapping[str, str] = environ if environ is not None else {}
        self.clock = clock or SystemClock()
        self.module_version = module_version
        self.client: ModuleClient | None = None
        self.metrics: EdgeMetrics | None = None
        self.metrics_server: MetricsServer | None = None
        self.link: CloudLink | None = None
        self.parts: EdgeParts | None = None
        self.desired: dict[str, Any] = {}
        self.applied = ModuleConfig()
        """The configuration in effect (restart-only properties as they were at start)."""
        self.provisioning_state = "NotStarted"
        self.ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False

    @property
    def data_dir(self) -> Path:
        return Path(self.applied.application_data_directory or self.settings.data_dir)

    # Start-up

    async def start(self) -> None:
        """Connect to the hub and read the twin; the rest comes up in the background (``ready``)."""
        client = self.client = await open_client(self.settings, self._environ)
        endpoint = client.endpoint
        self.metrics = EdgeMetrics(Identity(endpoint.host_name, endpoint.device_id, endpoint.module_id))
        if self.settings.metrics_enabled:
            self.metrics_server = MetricsServer(
                self.metrics, self.settings.metrics_host, self.settings.metrics_port
            )
            await self.metrics_server.start()
        client.set_method_handler(self._handle_method)
        client.on_desired(self._on_desired)
        await client.start()
        twin = await self._read_twin(client)
        desired = twin.get("desired")
        self.desired = dict(desired) if isinstance(desired, dict) else {}
        self.applied = module_config.parse(self.desired)
        log_categories.apply(self.applied.log_level, self.applied.log_categories)
        self._spawn(self._bring_up(), "bring-up")
        self._spawn(self._refresh_metrics(), "metrics")

    async def _read_twin(self, client: ModuleClient) -> dict[str, Any]:
        while True:
            if await client.wait_connected(self.settings.twin_wait_s):
                try:
                    return await client.get_twin()
                except HubUnavailable as error:
                    log.warning("reading the module twin failed: %s", error.message)
                    await asyncio.sleep(1.0)
            else:
                log.warning("not connected to IoT Hub %s yet; still trying", client.endpoint.host_name)

    async def _bring_up(self) -> None:
        link = await self._provision()
        state = link.state
        assert state is not None and self.client is not None and self.metrics is not None
        self.parts = await build_parts(
            self.settings,
            self.applied,
            data_dir=self.data_dir,
            client=self.client,
            link=link,
            metrics=self.metrics,
            clock=self.clock,
            reporter=Reporter(state.edge_module_id or "", state.instance_id, self.module_version),
        )
        for name, work in self.parts.background().items():
            self._spawn(work, name)
        self.provisioning_state = "Provisioned"
        self.ready.set()
        log.info("edge module ready (%d live pipelines stored)", len(self.parts.store.pipelines))
        await self._report()

    async def _provision(self) -> CloudLink:
        """The cloud link, provisioned; retried for ever (the token may be replaced meanwhile)."""
        await asyncio.to_thread(self.data_dir.mkdir, mode=0o700, parents=True, exist_ok=True)
        failures = 0
        while True:
            config = module_config.parse(self.desired)  # the latest ProvisioningToken
            link = CloudLink(
                CloudLinkSettings(base_url=self.settings.edge_api_url, ca_file=self.settings.cloud_ca_file),
                self.data_dir,
                provisioning_token=config.provisioning_token,
                module_version=self.module_version,
                clock=self.clock,
            )
            try:
                await link.start()
            except (OvaError, OSError) as error:
                await link.close()
                failures += 1
                retryable = isinstance(error, CloudUnavailable | OSError)
                self.provisioning_state = "Pending" if retryable else f"Failed: {_message(error)}"
                await self._report()
                delay = min(PROVISIONING_BACKOFF_MAX_S, 2.0 ** min(failures, 9)) * random.uniform(0.5, 1)  # noqa: S311
                log.warning(
                    "provisioning with the cloud failed (%s); retrying in %.0f s", _message(error), delay
                )
                await asyncio.sleep(delay)
                continue
            self.link = link
            self.provisioning_state = "Building"
            return link

    # Twin

    async def _on_desired(self, patch: dict[str, Any], complete: bool) -> None:
        """A desired patch or, after a reconnect, the whole desired document (``complete``)."""
        self.desired = dict(patch) if complete else module_config.merge(self.desired, patch)
        desired = module_config.parse(self.desired)
        changed = module_config.changed(self.applied, desired)
        self.applied = module_config.effective(self.applied, desired)
        log_categories.apply(self.applied.log_level, self.applied.log_categories)
        if self.parts is not None:
            self.parts.configure(self.applied)
        if changed:
            log.info("module twin changed: %s", ", ".join(sorted(changed)))
        await self._report()

    async def _report(self) -> None:
        if self.client is None or not self.client.connected:
            return
        reported = module_config.reported(
            self.applied, module_config.parse(self.desired), self.module_version
        )
        reported["ProvisioningState"] = self.provisioning_state
        with contextlib.suppress(HubUnavailable, ValueError):
            await self.client.patch_reported(reported)

    # Methods

    async def _handle_method(self, name: str, payload: Any) -> tuple[int, Any]:
        if self.parts is None or not self.ready.is_set():
            message = f"The module is starting (provisioning: {self.provisioning_state}); try again shortly."
            return 503, {"error": {"code": "ServerBusy", "message": message}}
        return await self.parts.methods.handle(name, payload)

    # Metrics

    async def _refresh_metrics(self) -> None:
        while True:
            if self.metrics is not None and self.client is not None:
                self.metrics.hub_state(self.client.connected, self.client.connections)
                if self.link is not None:
                    self.metrics.cloud_state(self.link.disconnected_for(self.clock.now()).total_seconds())
                if self.parts is not None:
                    self.parts.refresh_metrics()
            await asyncio.sleep(METRICS_REFRESH_S)

    # Shutdown

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        self._tasks.append(asyncio.create_task(_logged(work, name), name=f"edge-{name}"))

    async def stop(self) -> None:
        """Take the module down (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self.ready.clear()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.parts is not None:
            await self.parts.close(STOP_EVENTS_DRAIN_S)
        if self.client is not None:
            await self.client.stop()
        if self.link is not None:
            await self.link.close()
        if self.metrics_server is not None:
            await self.metrics_server.stop()

    async def run(self, stop: asyncio.Event) -> None:
        """Start, run until ``stop`` is set, stop."""
        try:
            await self.start()
            await stop.wait()
        finally:
            await self.stop()


async def _logged(work: Coroutine[Any, Any, None], name: str) -> None:
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("edge module task %s failed", name)


def _message(error: BaseException) -> str:
    return error.message if isinstance(error, OvaError) else type(error).__name__
