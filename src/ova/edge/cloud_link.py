"""``CloudLink``: the edge module's HTTP client of the cloud's edge-integration family.

The first start shakes hands with the provisioning token (``POST /v1/provisioning``); the
family's base URL is the token's ``iss`` claim (read, not verified: it is the module's own
token) unless ``CloudLinkSettings.base_url`` says otherwise. What comes back (edge module id,
module key, policy) is saved in ApplicationDataDirectory (``module_state``, 0600) before use.
Every other call is signed with the module key (``SharedAccessSignature sr={edgeModuleId}
&skn={keyId}``, ``request_token_seconds`` ahead). ``maintain`` rotates the key once half its
lifetime has passed (saving the new key before using it) and refreshes the policy on the
policy's interval. Any answer from the cloud, even a refusal, counts as contact
(``ports.Connectivity``). Answers are bounded (``MAX_RESPONSE_BYTES``); keys, SAS URLs and
tokens are never logged nor put in an exception's message.

Errors: no answer, a 5xx or a 429 → ``CloudUnavailable`` (``retry_after_s`` from ``Retry-After``);
401 → ``Unauthenticated``; 403 → ``Forbidden``; 404 → ``NotFound``; 409 → ``Conflict``; any
other 4xx → ``ValidationFailed``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field, ValidationError

from ova.auth import iot_sas
from ova.common.clock import Clock, SystemClock
from ova.common.errors import Conflict, Forbidden, NotFound, OvaError, Unauthenticated, ValidationFailed
from ova.contracts.edge_api import (
    SERVER_TIME_HEADER,
    CommitResult,
    EdgePolicy,
    ModuleKey,
    PreviewCommit,
    ProvisioningRequest,
    ProvisioningResponse,
    PublishVideoRequest,
    RecordingStateChange,
    SegmentCommit,
    VideoPublication,
)
from ova.contracts.topology_values import parse_duration
from ova.edge import module_state
from ova.edge.errors import CloudUnavailable
from ova.edge.module_state import ModuleState

log = logging.getLogger(__name__)
MAX_RESPONSE_BYTES = 1024 * 1024
MAX_RETRY_AFTER_S = 300.0
DEFAULT_MAX_DISCONNECTED = timedelta(hours=36)
CONTACT_SAVE_INTERVAL = timedelta(minutes=1)
CLOCK_RESIGN_S = 30.0
T = TypeVar("T", bound=BaseModel)
_ERRORS: dict[int, type[OvaError]] = {401: Unauthenticated, 403: Forbidden, 404: NotFound, 409: Conflict}


class CloudLinkSettings(BaseModel):
    """How the module reaches the edge-integration family."""

    base_url: str | None = Field(
        None, description="Base URL of the edge family (…/edge); default: the provisioning token's iss claim."
    )
    ca_file: Path | None = Field(
        None, description="PEM CA certificates that verify the family's TLS certificate."
    )
    timeout_s: float = Field(30.0, gt=0, le=600, description="Timeout of one request (connect, read, write).")
    request_token_seconds: int = Field(
        300, ge=30, le=3600, description="Lifetime of the signature on each request, in seconds."
    )


def token_issuer(token: str) -> str | None:
    """The ``iss`` claim of a JWT, read without verifying it (None when absent or unreadable)."""
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 8192:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer if isinstance(issuer, str) and issuer.startswith(("http://", "https://")) else None


def seconds(duration: str, default: float) -> float:
    value = parse_duration(duration)
    return value if value is not None and value > 0 else default


class CloudLink:
    """The module's client of the edge family, and its ``ports.Connectivity``."""

    def __init__(
        self,
        settings: CloudLinkSettings,
        data_dir: Path,
        *,
        provisioning_token: str | None = None,
        module_version: str = "",
        clock: Clock | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """``transport`` replaces the network (tests only)."""
        self.settings, self.data_dir, self.clock = settings, data_dir, clock or SystemClock()
        self._token, self._version = provisioning_token, module_version
        self.state: ModuleState | None = None
        self._saved_contact: datetime | None = None
        self._lock = asyncio.Lock()
        self._clock_offset_s = 0.0
        """The cloud's clock minus ours, from the last answer (requests are signed on its clock)."""
        verify: str | bool = str(settings.ca_file) if settings.ca_file else True
        self._http = httpx.AsyncClient(
            timeout=settings.timeout_s, verify=verify, transport=transport, follow_redirects=False
        )

    # -- ports.Connectivity --------------------------------------------------------------------

    def disconnected_for(self, now: datetime) -> timedelta:
        contact = self.state.last_contact if self.state else None
        if contact is None:
            return timedelta(0)
        return max(timedelta(0), now - contact)

    @property
    def maximum_disconnected_period(self) -> timedelta:
        policy = self.state.policy if self.state else None
        if policy is None:
            return DEFAULT_MAX_DISCONNECTED
        return timedelta(seconds=seconds(policy.maximum_disconnected_period, 36 * 3600))

    # -- start-up ------------------------------------------------------------------------------

    async def start(self) -> ModuleState:
        """Load the saved state and shake hands when the module has no key yet."""
        self.state = await asyncio.to_thread(module_state.load_or_create, self.data_dir)
        self._saved_contact = self.state.last_contact
        if not self.state.provisioned:
            await self.handshake()
        return self.state

    async def handshake(self) -> ProvisioningResponse:
        state = self._require_state()
        if not self._token:
            raise Unauthenticated("The module has no key yet and no provisioning token to get one.")
        base_url = self.settings.base_url or token_issuer(self._token)
        if not base_url:
            raise ValidationFailed(
                "The provisioning token does not say where the cloud is: set the base URL."
            )
        body = ProvisioningRequest(
            provisioning_token=self._token, instance_id=state.instance_id, module_version=self._version
        )
        answer = await self._send("POST", base_url.rstrip("/") + "/v1/provisioning", body, None)
        response = _parse(ProvisioningResponse, answer)
        now = self.clock.now()
        state = ModuleState(
            instance_id=state.instance_id,
            edge_module_id=response.edge_module_id,
            edge_module_name=response.edge_module_name,
            account_id=response.account_id,
            base_url=base_url.rstrip("/"),
            key=response.module_key,
            key_received_at=now,
            policy=response.policy,
            last_contact=now,
        )
        await self._save(state)
        log.info("provisioned as edge module %s (instance %s)", response.edge_module_name, state.instance_id)
        return response

    # -- the family's calls --------------------------------------------------------------------

    async def publish_video(self, video_name: str, request: PublishVideoRequest) -> VideoPublication:
        answer = await self.call("PUT", f"/v1/videos/{_segment(video_name)}", request)
        return _parse(VideoPublication, answer)

    async def renew_sas(self, video_name: str) -> VideoPublication:
        answer = await self.call("POST", f"/v1/videos/{_segment(video_name)}/sas", None)
        return _parse(VideoPublication, answer)

    async def commit(self, video_name: str, commit: SegmentCommit) -> CommitResult:
        answer = await self.call("POST", f"/v1/videos/{_segment(video_name)}/segments", commit)
        return _parse(CommitResult, answer)

    async def preview(self, video_name: str, preview: PreviewCommit) -> None:
        await self.call("POST", f"/v1/videos/{_segment(video_name)}/preview", preview)

    async def recording_state(self, video_name: str, change: RecordingStateChange) -> None:
        await self.call("POST", f"/v1/videos/{_segment(video_name)}/events", change)

    async def refresh_policy(self) -> EdgePolicy:
        policy = _parse(EdgePolicy, await self.call("GET", "/v1/policy", None))
        state = self._require_state()
        await self._save(replace(state, policy=policy))
        return policy

    async def rotate_key(self) -> ModuleKey:
        """A new key, saved before it is used (the old one stays valid for the grace period)."""
        async with self._lock:
            key = _parse(ModuleKey, await self.call("POST", "/v1/keys", None))
            await self._save(self._require_state().with_key(key, self.clock.now()))
        log.info("rotated the module key (new key id %s)", key.key_id)
        return key

    def key_due(self, now: datetime) -> bool:
        """True once half the current key's lifetime has passed."""
        state = self._require_state()
        if state.key is None or state.key_received_at is None:
            return False
        expires = datetime.fromisoformat(state.key.expires_at.replace("Z", "+00:00"))
        return now >= state.key_received_at + (expires - state.key_received_at) / 2

    async def maintain_once(self) -> bool:
        """Rotate the key when due, then refresh the policy; False when the cloud could not be reached."""
        try:
            if self.key_due(self.clock.now()):
                await self.rotate_key()
            await self.refresh_policy()
        except OvaError as error:
            log.warning("cloud maintenance failed: %s", error.message)
            return False
        return True

    async def maintain(self) -> None:
        """Until cancelled: ``maintain_once`` on the policy's refresh interval (at most hourly)."""
        while True:
            await self.maintain_once()
            policy = self._require_state().policy
            interval = seconds(policy.policy_refresh_interval, 3600) if policy else 3600.0
            await asyncio.sleep(min(interval, 3600.0))

    async def close(self) -> None:
        await self._http.aclose()

    # -- plumbing ------------------------------------------------------------------------------

    async def call(self, method: str, path: str, body: BaseModel | None) -> bytes:
        """One signed request to the family; the answer's body (bounded)."""
        state = self._require_state()
        if not state.provisioned or state.base_url is None or state.key is None:
            raise Unauthenticated("The module is not provisioned.")
        assert state.edge_module_id is not None
        base_url = self.settings.base_url.rstrip("/") if self.settings.base_url else state.base_url
        for attempt in range(2):
            offset = self._clock_offset_s
            expiry = int(self.clock.now().timestamp() + offset) + self.settings.request_token_seconds
            token = iot_sas.sign(state.edge_module_id, state.key.key, expiry, state.key.key_id)
            try:
                return await self._send(method, base_url + path, body, token)
            except Unauthenticated:
                # Signed against a clock the cloud disagrees with: once more against the cloud's.
                if attempt or abs(self._clock_offset_s - offset) < CLOCK_RESIGN_S:
                    raise
        raise AssertionError("unreachable")

    async def _send(self, method: str, url: str, body: BaseModel | None, token: str | None) -> bytes:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = token
        content = body.model_dump_json(by_alias=True).encode() if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with self._http.stream(method, url, content=content, headers=headers) as response:
                data = await _bounded(response)
        except httpx.HTTPError as error:
            raise CloudUnavailable(f"The cloud did not answer: {type(error).__name__}") from None
        self._learn_clock(response)
        await self._contact()
        _raise_for(response, data)
        return data

    def _learn_clock(self, response: httpx.Response) -> None:
        """How far the cloud's clock is from ours, from the time every answer carries."""
        value = response.headers.get(SERVER_TIME_HEADER, "")
        if value.isascii() and value.isdigit() and len(value) <= 12:
            self._clock_offset_s = int(value) - self.clock.now().timestamp()

    async def _contact(self) -> None:
        state, now = self._require_state(), self.clock.now()
        self.state = replace(state, last_contact=now)
        if self._saved_contact is None or now - self._saved_contact >= CONTACT_SAVE_INTERVAL:
            await self._save(self.state)

    async def _save(self, state: ModuleState) -> None:
        await asyncio.to_thread(module_state.save, self.data_dir, state)
        self.state, self._saved_contact = state, state.last_contact

    def _require_state(self) -> ModuleState:
        if self.state is None:
            raise RuntimeError("CloudLink.start() was not called")
        return self.state


async def _bounded(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise httpx.DecodingError("the answer is too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _raise_for(response: httpx.Response, data: bytes) -> None:
    status = response.status_code
    if status < 400:
        return
    message = _error_message(data) or f"The cloud answered {status}."
    if status >= 500 or status == 429:
        error: OvaError = CloudUnavailable(message)
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.isdigit():
            error.headers["Retry-After"] = str(min(float(retry_after), MAX_RETRY_AFTER_S))
        raise error
    raise _ERRORS.get(status, ValidationFailed)(message)


def _error_message(data: bytes) -> str | None:
    try:
        error = json.loads(data)["error"]
        return f"{str(error['code'])[:64]}: {str(error['message'])[:512]}"
    except (ValueError, KeyError, TypeError):
        return None


def _parse(model: type[T], data: bytes) -> T:
    try:
        return model.model_validate_json(data)
    except ValidationError:
        raise CloudUnavailable(f"The cloud's answer is not a {model.__name__}.") from None


def _segment(name: str) -> str:
    return quote(name, safe="")


def retry_after_s(error: OvaError) -> float | None:
    """The cloud's ``Retry-After`` on a ``CloudUnavailable``, in seconds (bounded)."""
    value = error.headers.get("Retry-After")
    return float(value) if value else None
