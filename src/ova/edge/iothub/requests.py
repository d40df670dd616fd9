"""``PendingRequests``: twin requests waiting for the hub's ``$iothub/twin/res/{status}/?$rid=…``.

Bounded (a full table refuses new requests rather than growing); each answer resolves the one
future with its request id; a lost connection fails every waiter at once.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass

from ova.edge.errors import HubUnavailable

MAX_PENDING = 64


@dataclass(frozen=True)
class HubAnswer:
    status: int
    version: int | None
    payload: bytes


class PendingRequests:
    def __init__(self, limit: int = MAX_PENDING) -> None:
        self._limit = limit
        self._waiting: dict[str, asyncio.Future[HubAnswer]] = {}
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._waiting)

    def open(self) -> tuple[str, asyncio.Future[HubAnswer]]:
        if len(self._waiting) >= self._limit:
            raise HubUnavailable("Too many twin requests are waiting for the hub.")
        rid = str(next(self._ids))
        future: asyncio.Future[HubAnswer] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = future
        return rid, future

    def close(self, rid: str) -> None:
        self._waiting.pop(rid, None)

    def resolve(self, rid: str, answer: HubAnswer) -> bool:
        future = self._waiting.pop(rid, None)
        if future is None or future.done():
            return False
        future.set_result(answer)
        return True

    def fail_all(self, reason: str) -> None:
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(HubUnavailable(reason))
