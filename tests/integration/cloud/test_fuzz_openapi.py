"""Schema-driven fuzz of every family's committed OpenAPI document: no input answers 5xx (W7, W10).

A real cloud (embedded defaults, SQLite) serves on a loopback port from a thread of its own;
schemathesis generates requests from ``docs/openapi/<family>.json`` (valid and invalid
parameters and bodies) and sends them over HTTP with an operator key. Bounded: a fixed
seed (``derandomize``), a few examples per operation and a total time cap.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from ova.cloud.domain.operator_keys import create_key
from ova.cloud.families import PREFIXES
from ova.cloud.runtime import build
from ova.cloud.settings import CloudSettings, Family
from support.listeners import serving
from support.management import API_VERSION, GROUP, SUBSCRIPTION, account_body, account_path, with_version

COMMITTED = Path(__file__).parents[3] / "docs" / "openapi"
EXAMPLES_PER_OPERATION = 15
TOTAL_SECONDS = 45.0
LEAKS = ("Traceback", 'File "', "sqlalchemy", "sqlite3", "RecursionError")
# Path parameters that reach an existing account, so positive cases get past the lookup.
KNOWN_PATH = {"subscription_id": SUBSCRIPTION, "resource_group": GROUP, "account_name": "acct1"}
# Query parameters the handlers read although the documents do not declare them.
NUMBERS = st.one_of(st.integers(-(10**30), 10**30).map(str), st.text("0123456789²³٣", max_size=40))
UNDECLARED_QUERY = st.fixed_dictionaries(
    {"api-version": st.sampled_from([API_VERSION, API_VERSION, API_VERSION, "", "2020-01-01"])},
    optional={
        "$top": st.one_of(NUMBERS, st.just("9" * 5000)),
        "$skipToken": st.text(max_size=64),
        "$filter": st.text(max_size=64),
        "maxresults": st.one_of(NUMBERS, st.just("9" * 5000)),
        "restype": st.just("container"),
        "comp": st.just("list"),
        "token": st.text(max_size=32),
        "precision": st.sampled_from(["year", "month", "day", "hour", "minute", "second", "x"]),
        "startTime": st.text(max_size=40),
        "endTime": st.text(max_size=40),
    },
)


def cases(operation: Any) -> st.SearchStrategy[Any]:
    """Valid cases on the existing account, valid cases anywhere, and invalid ones."""
    names = set(re.findall(r"{(\w+)}", operation.path))
    known = {name: value for name, value in KNOWN_PATH.items() if name in names}
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=known or None),
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )


class CloudThread:
    """``ova cloud`` on a free loopback port, in a thread with its own event loop."""

    def __init__(self, data_dir: Path) -> None:
        self.settings = CloudSettings(data_dir=data_dir)
        self.port = 0
        self.operator_key = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self._error: BaseException | None = None

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            cloud = await build(self.settings)
            try:
                async with cloud.services.sessions.begin() as session:
                    self.operator_key = await create_key(session, cloud.services.clock, "fuzz")
                async with serving(cloud) as [port]:
                    self.port = port
                    self._ready.set()
                    await self._stop.wait()
            finally:
                await cloud.close()
        except BaseException as error:
            self._error = error
            self._ready.set()

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(30), "the cloud did not start"
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)


@pytest.fixture(scope="module")
def cloud_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    cloud = CloudThread(tmp_path_factory.mktemp("fuzz") / "data")
    cloud.start()
    try:
        base = f"http://127.0.0.1:{cloud.port}"
        headers = {"Authorization": f"Bearer {cloud.operator_key}"}
        created = requests.put(
            base + with_version(account_path("acct1")), json=account_body(), headers=headers, timeout=10
        )
        assert created.status_code < 300, created.text
        yield base, headers
    finally:
        cloud.stop()


def fuzz_operation(
    operation: Any, base_url: str, headers: dict[str, str], deadline: float, statuses: Counter[int]
) -> list[str]:
    """Send generated cases of one operation; what answered 5xx or leaked internals."""
    found: list[str] = []
    session = requests.Session()

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases(operation), extra=UNDECLARED_QUERY)
    def send(case: Any, extra: dict[str, str]) -> None:
        if time.monotonic() > deadline:
            return
        case.query = {**(case.query or {}), **extra}
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=10)
        statuses[response.status_code // 100 * 100] += 1
        leaked = [leak for leak in LEAKS if leak in response.text]
        if response.status_code >= 500 or leaked:
            found.append(f"{response.status_code} {case.method} {response.request.url} {leaked}")

    send()
    return found


@pytest.mark.parametrize("family", list(Family))
def test_no_generated_request_answers_5xx(cloud_url: tuple[str, dict[str, str]], family: Family) -> None:
    base, headers = cloud_url
    schema = schemathesis.openapi.from_dict(json.loads((COMMITTED / f"{family.value}.json").read_text()))
    deadline = time.monotonic() + TOTAL_SECONDS * share(family)
    found: list[str] = []
    statuses: Counter[int] = Counter()
    for result in schema.get_all_operations():
        found += fuzz_operation(result.ok(), base + PREFIXES.get(family, ""), headers, deadline, statuses)

    assert not found, "\n".join(found[:20])
    if family is Family.MANAGEMENT:  # the cases reach the handlers, not only the credential check
        assert statuses[200] > 0 and statuses[400] > 0, statuses


def share(family: Family) -> float:
    """The fraction of the time cap a family gets (management has most of the operations)."""
    return {Family.MANAGEMENT: 0.6}.get(family, 0.1)
