"""Input that once answered 500 (and logged a traceback twice) answers 400 in the family's envelope.

Integers far past their bounds (``$top``, segment names), digits that ``str.isdigit`` accepts
but ``int`` does not (``²``, ``٣``), and bodies nested deep enough to exhaust the stack.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ova.cloud.settings import CloudSettings
from support.management import Arm, arm_error


@pytest.fixture
def cloud_settings(tmp_path: Path) -> CloudSettings:
    """SQLite only: what is tested here is request parsing, the same on every metadata store."""
    return CloudSettings(
        data_dir=tmp_path / "data", database_url=f"sqlite+aiosqlite:///{tmp_path / 'ova.db'}"
    )


@pytest.mark.parametrize("top", ["9" * 5000, "²", "٣", "1" + "0" * 30, "0"])
async def test_bad_top_answers_400(arm: Arm, top: str) -> None:
    for collection in (
        "videos",
        "/subscriptions/00000000-0000-0000-0000-0000000000aa/providers/Microsoft.Media/videoAnalyzers",
    ):
        arm_error(await arm.call("GET", collection, **{"$top": top}), 400, target="$top")


async def test_an_overlong_skip_token_answers_400(arm: Arm) -> None:
    arm_error(await arm.call("GET", "videos", **{"$skipToken": "e" * 10_000}), 400, target="$skipToken")


@pytest.mark.parametrize("depth", [65, 500, 950, 5000])
async def test_deeply_nested_bodies_answer_400(arm: Arm, depth: int) -> None:
    body = '{"properties":' + '{"a":' * depth + "1" + "}" * depth + "}"
    for method, path in (("PATCH", ""), ("PUT", "videos/v1"), ("PATCH", "videos/v1")):
        error = arm_error(await arm.call(method, path, content=body.encode()), 400, target="body")
        # Past the parser's own limit the body is "not valid JSON"; below it, too deep.
        assert "nests deeper than 64 levels" in error["message"] or depth > 900, error


async def test_ordinary_nesting_is_accepted(arm: Arm) -> None:
    await arm.ok("PUT", "videos/v1", {"properties": {"title": "t", "description": "d"}})


@pytest.mark.parametrize(
    "position",
    [
        "99999999999999999999-1",
        "²-1",
        "1-²",
        "٣-1",
        "999999999999999-1",
        "1-99999999999999999999",
        "1-",
        "-1",
    ],
)
async def test_bad_segment_names_answer_400(anonymous: httpx.AsyncClient, position: str) -> None:
    response = await anonymous.get(f"/streaming/acct/videos/v1/segments/{position}.m4s")

    arm_error(response, 400)
