"""Videos over the management API: names, title/description limits, types, content tokens."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ova.auth.service_tokens import CONTENT
from ova.cloud.runtime import Cloud
from support.management import Arm, Refused, account_path, arm_error, check_refused, dumps

VIDEO = {
    "properties": {"title": "Lobby", "description": "Front door", "archival": {"retentionPeriod": "P30D"}}
}


def titled(**properties: Any) -> dict[str, Any]:
    return {"properties": properties}


BAD_NAMES = {
    "leading-dash": "-lobby",
    "trailing-dot": "lobby.",
    "space": "lobby%20cam",
    "dollar": "lobby$",
    "non-ascii": "caf%C3%A9",
    "trailing-newline": "lobby%0A",
    "261-characters": "v" * 261,
}

REFUSED = [
    *(
        Refused(f"name-{case}", "PUT", f"videos/{name}", VIDEO, code="InvalidResourceName")
        for case, name in BAD_NAMES.items()
    ),
    Refused("title-257", "PUT", "videos/v2", titled(title="t" * 257), target="properties.title"),
    Refused(
        "description-2049",
        "PUT",
        "videos/v2",
        titled(description="d" * 2049),
        target="properties.description",
    ),
    Refused("title-number", "PUT", "videos/v2", titled(title=5), target="properties.title"),
    Refused("title-object", "PUT", "videos/v2", titled(title={"en": "x"}), target="properties.title"),
    Refused("properties-string", "PUT", "videos/v2", {"properties": "x"}, target="properties"),
    Refused("properties-array", "PUT", "videos/v2", {"properties": []}, target="properties"),
    Refused("unknown-property", "PUT", "videos/v2", titled(colour="red"), target="properties.colour"),
    *(
        Refused(
            f"retention-{period}",
            "PUT",
            "videos/v2",
            titled(archival={"retentionPeriod": period}),
            target="properties.archival.retentionPeriod",
        )
        for period in ("P0D", "P3651D", "30D", "PT24H", "P1W")
    ),
    Refused("patch-title-257", "PATCH", "videos/v1", titled(title="t" * 257), target="properties.title"),
    Refused("patch-title-bool", "PATCH", "videos/v1", titled(title=True), target="properties.title"),
    Refused("patch-unknown-video", "PATCH", "videos/v2", titled(title="x"), 404, "ResourceNotFound"),
    Refused("put-invalid-json", "PUT", "videos/v2", raw=b'{"properties": {', target="body"),
    Refused("put-non-object", "PUT", "videos/v2", raw=dumps(["properties"]), target="body"),
    Refused("put-no-body", "PUT", "videos/v2", raw=b"", target="body"),
    Refused("patch-invalid-json", "PATCH", "videos/v1", raw=b"{'title': 'x'}", target="body"),
    Refused("get-unknown-video", "GET", "videos/v2", status=404, code="ResourceNotFound"),
    Refused("content-token-unknown-video", "POST", "videos/v2/listContentToken", status=404),
    Refused("unknown-account", "PUT", f"{account_path('nosuch')}/videos/v2", VIDEO, 404, "ResourceNotFound"),
    Refused("unknown-collection", "GET", "widgets/v1", status=404),
]


async def test_refused_video_requests_change_nothing(arm: Arm, subtests: Any) -> None:
    await arm.ok("PUT", "videos/v1", VIDEO)
    await check_refused(arm, subtests, REFUSED)


async def test_limits_are_inclusive(arm: Arm) -> None:
    name = "v" * 260
    body = titled(title="t" * 256, description="d" * 2048, archival={"retentionPeriod": "P3650D"})

    created = await arm.call("PUT", f"videos/{name}", body)

    assert created.status_code == 201, created.text
    stored = (await arm.get(f"videos/{name}"))["properties"]
    assert (stored["title"], stored["description"]) == ("t" * 256, "d" * 2048)


async def test_put_patch_and_read_only_fields(arm: Arm) -> None:
    created = await arm.call(
        "PUT", "videos/Lobby", {**VIDEO, "properties": {**VIDEO["properties"], "type": "File", "flags": {}}}
    )
    assert created.status_code == 201, created.text
    video = created.json()
    assert video["name"] == "Lobby" and video["type"] == "Microsoft.Media/videoAnalyzers/videos"
    assert video["properties"]["type"] == "Archive", "type is read-only"
    assert video["properties"]["flags"] == {"canStream": True, "hasData": False, "isInUse": False}

    patched = await arm.ok("PATCH", "videos/lobby", titled(title="Lobby 2", description=None))
    assert patched["name"] == "Lobby", "names are case-insensitive and keep their first spelling"
    assert patched["properties"]["title"] == "Lobby 2"
    assert "description" not in patched["properties"], "null removes a property (merge patch)"
    assert patched["properties"]["archival"] == {"retentionPeriod": "P30D"}

    replaced = await arm.call("PUT", "videos/LOBBY", titled(title="Replaced"))
    assert replaced.status_code == 200
    assert "archival" not in replaced.json()["properties"]


async def test_delete_then_delete_again(arm: Arm) -> None:
    await arm.ok("PUT", "videos/v1", VIDEO)

    assert (await arm.call("DELETE", "videos/v1")).status_code == 200
    assert (await arm.call("DELETE", "videos/v1")).status_code == 204
    assert (await arm.call("DELETE", "videos/never-existed")).status_code == 204
    arm_error(await arm.call("GET", "videos/v1"), 404, "ResourceNotFound")


async def test_content_token_is_bound_to_the_video(arm: Arm, cloud: Cloud) -> None:
    await arm.ok("PUT", "videos/v1", VIDEO)
    before = datetime.now().astimezone()

    issued = await arm.ok("POST", "videos/v1/listContentToken")

    expires = datetime.fromisoformat(issued["expirationDate"].replace("Z", "+00:00"))
    lifetime = timedelta(seconds=cloud.settings.content_token.lifetime_seconds)
    assert before + lifetime - timedelta(seconds=5) <= expires <= before + lifetime + timedelta(seconds=5)
    claims = cloud.services.tokens.verify(CONTENT, issued["token"], before)
    archive_base = (await arm.get("videos/v1"))["properties"]["contentUrls"]["archiveBaseUrl"]
    assert archive_base.endswith(f"/videos/{claims['sub']}")

    await arm.ok("DELETE", "videos/v1")
    await arm.ok("PUT", "videos/v1", VIDEO)
    reissued = await arm.ok("POST", "videos/v1/listContentToken")
    assert cloud.services.tokens.verify(CONTENT, reissued["token"], before)["sub"] != claims["sub"], (
        "a re-created video is a different video"
    )
