"""The ARM error envelope on the 500 path: a correlation id for the operator, no internals for the client."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi import FastAPI

from ova.cloud.api import arm_errors

SECRET = "postgresql://ova:hunter2@db/ova"


def failing_app() -> FastAPI:
    app = FastAPI()
    arm_errors.install(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"could not connect to {SECRET}")

    return app


async def test_an_unexpected_exception_becomes_a_bare_500_with_a_correlation_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = httpx.ASGITransport(app=failing_app(), raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="ova.cloud.errors"):
        async with httpx.AsyncClient(transport=transport, base_url="http://ova.test") as client:
            response = await client.get("/boom")

    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "InternalServerError"
    assert (error["target"], error["details"]) == (None, [])
    correlation = re.fullmatch(
        r"An internal error occurred\. Correlation id: ([0-9a-f]{32})\.", error["message"]
    )
    assert correlation is not None
    for leak in ("Traceback", "RuntimeError", "hunter2", SECRET, ".py"):
        assert leak not in response.text

    [record] = [r for r in caplog.records if r.name == "ova.cloud.errors"]
    assert correlation.group(1) in record.getMessage()
    assert record.exc_info is not None  # the traceback goes to the log, only


async def test_each_failure_gets_its_own_correlation_id() -> None:
    transport = httpx.ASGITransport(app=failing_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://ova.test") as client:
        first, second = [(await client.get("/boom")).json()["error"]["message"] for _ in range(2)]
    assert first != second
