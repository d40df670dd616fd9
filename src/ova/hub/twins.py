"""Module (and device) twins: desired properties the service sets, reported ones the device sets.

Device side (over the broker, see ``ova.contracts.iot_hub``): ``$iothub/twin/GET/?$rid=`` is
answered ``$iothub/twin/res/200/?$rid=`` with ``{"desired": {…, "$version": n}, "reported":
{…, "$version": n}}``; a reported patch ``$iothub/twin/PATCH/properties/reported/?$rid=`` is
merged (``null`` deletes a key) and answered ``…/res/204/?$rid=…&$version=n``. Service side: a
desired patch (PATCH) or replacement (PUT), checked against the twin's etag, bumps the desired
version and is pushed to the device on ``$iothub/twin/PATCH/properties/desired/?$version=n``
(a replacement pushes ``null`` for each removed key). Bounds: a twin section at most
``MAX_SECTION_BYTES`` of JSON and ``MAX_DEPTH`` levels deep, as IoT Hub's own limits.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ova.contracts import iot_hub
from ova.hub.errors import IdentityNotFound, PreconditionFailed, ServiceRequestInvalid
from ova.hub.namespace import Identity, to_broker
from ova.hub.registry import IdentityRecord, Registry, etag_matches, new_etag
from ova.hub.service_link import Publisher
from ova.hub.store import DEVICE_MODULE, TwinRow

MAX_SECTION_BYTES = 32 * 1024
MAX_DEPTH = 10
Json = dict[str, Any]


def merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> Json:
    """RFC 7396 merge of ``patch`` into ``target``: ``null`` deletes, objects merge, the rest replaces."""
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = value
    return merged


def removal_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> Json:
    """The patch that turns ``old`` into ``new`` (what a replacement pushes to the device)."""
    patch: Json = {key: None for key in old if key not in new}
    patch.update(new)
    return patch


def check_section(section: object, what: str) -> Json:
    """A twin section from a client: a JSON object within the size and depth bounds, no ``$`` keys."""
    if not isinstance(section, dict):
        raise ServiceRequestInvalid(f"The {what} properties must be a JSON object.")
    if len(json.dumps(section)) > MAX_SECTION_BYTES:
        raise ServiceRequestInvalid(f"The {what} properties exceed {MAX_SECTION_BYTES} bytes.")
    if _depth(section) > MAX_DEPTH:
        raise ServiceRequestInvalid(f"The {what} properties nest deeper than {MAX_DEPTH} levels.")
    return {key: value for key, value in section.items() if not key.startswith("$")}


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(child) for child in value.values()), default=0)
    if isinstance(value, list):
        return max((_depth(child) for child in value), default=0)
    return 0


class TwinService:
    """Reads and writes twins for the service API and answers the devices' twin requests."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], registry: Registry, publisher: Publisher
    ) -> None:
        self._sessions = sessions
        self._registry = registry
        self._publisher = publisher
        self._lock = asyncio.Lock()

    # Service side

    async def get(self, identity: Identity) -> Json:
        record = await self._registry.get(identity)
        async with self._sessions() as session:
            return _document(record, await _row(session, identity))

    async def update(self, identity: Identity, body: Mapping[str, Any], if_match: str | None) -> Json:
        """PATCH: merge ``tags`` and ``properties.desired`` into the twin."""
        desired = check_section(_desired_of(body), "desired")
        tags = check_section(body.get("tags") or {}, "tags")
        return await self._write(identity, if_match, lambda row: (merge_patch(row.tags, tags), desired, True))

    async def replace(self, identity: Identity, body: Mapping[str, Any], if_match: str | None) -> Json:
        """PUT: replace ``tags`` and ``properties.desired``."""
        desired = check_section(_desired_of(body), "desired")
        tags = check_section(body.get("tags") or {}, "tags")
        return await self._write(identity, if_match, lambda row: (tags, desired, False))

    async def _write(self, identity: Identity, if_match: str | None, change: Any) -> Json:
        record = await self._registry.get(identity)
        async with self._lock, self._sessions.begin() as session:
            row = await _row(session, identity)
            if not etag_matches(if_match, row.etag):
                raise PreconditionFailed("The etag does not match the twin's.")
            tags, desired, is_patch = change(row)
            patch = desired if is_patch else removal_patch(row.desired, desired)
            new_desired = merge_patch(row.desired, desired) if is_patch else desired
            check_section(new_desired, "desired")
            check_section(tags, "tags")
            desired_changed = new_desired != row.desired
            row.tags, row.desired = tags, new_desired
            if desired_changed:
                row.desired_version += 1
            row.version += 1
            row.etag = new_etag()
            document = _document(record, row)
            version = row.desired_version
        if desired_changed:
            payload = json.dumps({**patch, "$version": version}).encode()
            await self._publisher.publish(to_broker(identity, iot_hub.twin_desired_topic(version)), payload)
        return document

    # Device side

    async def on_request(self, identity: Identity, kind: str, rid: str, payload: bytes) -> None:
        """Answer a device's twin GET or reported-properties PATCH."""
        try:
            if kind == "GET":
                status, version, body = 200, None, await self._device_view(identity)
            else:
                status, version, body = 204, await self._patch_reported(identity, payload), b""
        except IdentityNotFound:
            status, version, body = 404, None, b""
        except (ServiceRequestInvalid, ValueError):
            status, version, body = 400, None, b""
        topic = iot_hub.twin_response_topic(status, rid, version)
        await self._publisher.publish(to_broker(identity, topic), body)

    async def _device_view(self, identity: Identity) -> bytes:
        async with self._sessions() as session:
            row = await _row(session, identity)
            view = {
                "desired": {**row.desired, "$version": row.desired_version},
                "reported": {**row.reported, "$version": row.reported_version},
            }
        return json.dumps(view).encode()

    async def _patch_reported(self, identity: Identity, payload: bytes) -> int:
        if len(payload) > MAX_SECTION_BYTES:
            raise ServiceRequestInvalid("The reported properties are too large.")
        patch = check_section(json.loads(payload), "reported")
        async with self._lock, self._sessions.begin() as session:
            row = await _row(session, identity)
            merged = merge_patch(row.reported, patch)
            check_section(merged, "reported")
            row.reported = merged
            row.reported_version += 1
            row.version += 1
            return row.reported_version


async def _row(session: AsyncSession, identity: Identity) -> TwinRow:
    row = await session.get(TwinRow, (identity.device_id, identity.module_id or DEVICE_MODULE))
    if row is None:
        raise IdentityNotFound(f"No twin for {identity}.", code="DeviceNotFound")
    return row


def _desired_of(body: Mapping[str, Any]) -> object:
    properties = body.get("properties") or {}
    if not isinstance(properties, dict):
        raise ServiceRequestInvalid("properties must be a JSON object.")
    return properties.get("desired") or {}


def _document(record: IdentityRecord, row: TwinRow) -> Json:
    """The twin as IoT Hub's REST API returns it."""
    document: Json = {
        "deviceId": record.identity.device_id,
        "etag": row.etag,
        "deviceEtag": record.etag,
        "status": record.status,
        "statusUpdateTime": record.status_updated_at.isoformat(),
        "version": row.version,
        "tags": row.tags,
        "properties": {
            "desired": {**row.desired, "$version": row.desired_version},
            "reported": {**row.reported, "$version": row.reported_version},
        },
        "authenticationType": "sas",
    }
    if record.identity.module_id is not None:
        document["moduleId"] = record.identity.module_id
    return document
