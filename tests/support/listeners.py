"""A built cloud's listeners served for real by uvicorn, on loopback, in the test's event loop.

``serving(cloud)`` starts one ``ova.cloud.server.uvicorn_server`` per listener as a task, waits
(bounded) until each has bound its socket, and yields the bound ports in listener order.
Listeners configured with port 0 get a free port from the OS, so tests never race for one.
On exit every server is told to stop (``should_exit``) and awaited.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from ova.cloud.runtime import Cloud
from ova.cloud.server import uvicorn_server

START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0


def bound_port(server: uvicorn.Server) -> int:
    return int(server.servers[0].sockets[0].getsockname()[1])


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    async with asyncio.timeout(START_TIMEOUT_SECONDS):
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it
                raise RuntimeError("uvicorn returned before it started")
            await asyncio.sleep(0.01)


@asynccontextmanager
async def serving(cloud: Cloud) -> AsyncIterator[list[int]]:
    servers = [uvicorn_server(listener, app) for listener, app in cloud.listeners]
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    try:
        for server, task in zip(servers, tasks, strict=True):
            await _started(server, task)
        yield [bound_port(server) for server in servers]
    finally:
        for server in servers:
            server.should_exit = True
        async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        failures = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
        if failures:
            raise failures[0]
