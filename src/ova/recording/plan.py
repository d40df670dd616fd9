"""A topology plus parameters, turned into what a recorder needs: a camera URL and a segment length.

Both the cloud's live-pipeline host and the edge module's graph runner resolve an RTSP source
this way, so a topology records the same camera whichever side runs it. Database lookups
(which video, which account) stay with the caller; this module is pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from ova.contracts.camera_url import camera_url_problem
from ova.contracts.topology import substitute

DURATION = re.compile(r"^PT(?:(\d+)M)?(?:(\d+)S)?$")
DEFAULT_SEGMENT_MS = 30_000


@dataclass(frozen=True)
class RecordingPlan:
    pipeline_id: str
    pipeline_name: str
    camera_url: str
    video_id: str
    segment_ms: int
    bitrate_kbps: int | None


class NotRecordable(ValueError):
    """The topology has no single RTSP source whose URL, resolved, names an RTSP server."""


def duration_ms(value: str, default_ms: int = DEFAULT_SEGMENT_MS) -> int:
    """``PT30S``-style minutes and seconds in milliseconds; ``default_ms`` for anything else."""
    match = DURATION.match(value or "")
    if not match or not any(match.groups()):
        return default_ms
    return (int(match.group(1) or 0) * 60 + int(match.group(2) or 0)) * 1000


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    if not username:
        return url
    parts = urlsplit(url)
    userinfo = quote(username, safe="") + (":" + quote(password, safe="") if password else "")
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}" + (f":{parts.port}" if parts.port else "")))


def camera_url(endpoint: Mapping[str, Any], values: Mapping[str, str]) -> str:
    """An RTSP source endpoint's URL, parameters substituted and credentials written in."""
    credentials = endpoint.get("credentials") or {}
    return with_credentials(
        substitute(str(endpoint["url"]), values),
        substitute(str(credentials.get("username", "")), values) or None,
        substitute(str(credentials.get("password", "")), values) or None,
    )


def system_variables(pipeline_name: str, topology_name: str) -> dict[str, str]:
    """The values of ``${System.PipelineName}`` and ``${System.TopologyName}`` (allowed in video names)."""
    return {"System.PipelineName": pipeline_name, "System.TopologyName": topology_name}


def rtsp_camera_url(topology_properties: Mapping[str, Any], values: Mapping[str, str]) -> str:
    """The camera URL of a topology's one RTSP source, or ``NotRecordable`` saying why not."""
    sources = topology_properties.get("sources", [])
    if len(sources) != 1 or not str(sources[0].get("@type", "")).endswith(".RtspSource"):
        raise NotRecordable("the topology has no single RTSP source")
    url = camera_url(sources[0]["endpoint"], values)
    problem = camera_url_problem(url)
    if problem is not None:
        raise NotRecordable(f"its camera URL {problem}")
    return url
