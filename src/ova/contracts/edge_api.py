"""The edge-integration family's wire shapes: what an edge module and the cloud say to each other.

Routes (under the family's prefix, ``/edge`` in the embedded default):

- ``POST /v1/provisioning`` with ``ProvisioningRequest`` (the single-use provisioning token in the
  body): ``ProvisioningResponse``, the first module key and the policy. No other credential.
- Every other route: ``Authorization: SharedAccessSignature sr={edgeModuleId}&sig=…&se=…&skn={keyId}``
  signed with a module key (``ova.auth.iot_sas``; at most ``MAX_REQUEST_TOKEN_SECONDS`` ahead).
- ``POST /v1/keys``: ``ModuleKey``, a new key; the presented one stays valid for the policy's
  ``keyGracePeriod`` (both keys work during a roll).
- ``GET /v1/policy``: ``EdgePolicy``.
- ``PUT /v1/videos/{videoName}`` with ``PublishVideoRequest``: ``VideoPublication`` (creates the
  video for this module instance, or answers for one it created; another's video is 403).
- ``POST /v1/videos/{videoName}/sas``: a fresh ``VideoPublication`` (new SAS).
- ``POST /v1/videos/{videoName}/segments`` with ``SegmentCommit``: ``CommitResult``. Idempotent:
  committing a segment again is a success; the blob must exist with the stated size.
- ``POST /v1/videos/{videoName}/preview`` with ``PreviewCommit``: 204.
- ``POST /v1/videos/{videoName}/events`` with ``RecordingStateChange``: 204 (Recording started/stopped).

Errors use the ARM envelope ``{"error": {"code", "message"}}``. Every answer carries the cloud's
clock in ``SERVER_TIME_HEADER`` (epoch seconds), so a module whose clock is off still signs
requests the cloud accepts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_REQUEST_TOKEN_SECONDS = 3600
SERVER_TIME_HEADER = "x-ova-server-time"
MAX_SEGMENTS_PER_COMMIT = 500

Token = Annotated[str, StringConstraints(min_length=1, max_length=4096)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=260)]
Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{8,64}$")]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
BlobName = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
InstanceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{8,64}$")]
Duration = Annotated[str, StringConstraints(pattern=r"^P[0-9A-Z.]{1,30}$")]


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class ModuleKey(Wire):
    key_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = Field(alias="keyId")
    key: Annotated[str, StringConstraints(min_length=16, max_length=256)]
    """Base64 symmetric key (a secret: stored 0600 by the module, never logged)."""
    expires_at: str = Field(alias="expiresAt")
    """ISO 8601: rotate before then (the module rotates at half its lifetime)."""


class TelemetryPolicy(Wire):
    enabled: bool
    url: str | None = None
    """The telemetry family's report URL."""
    key: str | None = None
    """Pre-shared key for the telemetry family (a secret)."""
    interval: Duration = "PT1H"


class EdgePolicy(Wire):
    maximum_disconnected_period: Duration = Field("PT36H", alias="maximumDisconnectedPeriod")
    """Past this long without reaching the cloud, live pipelines deactivate (the 36-hour rule)."""
    policy_refresh_interval: Duration = Field("PT1H", alias="policyRefreshInterval")
    key_grace_period: Duration = Field("P7D", alias="keyGracePeriod")
    telemetry: TelemetryPolicy


class ProvisioningRequest(Wire):
    provisioning_token: Token = Field(alias="provisioningToken")
    instance_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{8,64}$")] = Field(
        alias="instanceId"
    )
    """Chosen by the module at its first start and kept in its application data directory."""
    module_version: Annotated[str, StringConstraints(max_length=64)] = Field("", alias="moduleVersion")


class ProvisioningResponse(Wire):
    edge_module_id: str = Field(alias="edgeModuleId")
    edge_module_name: str = Field(alias="edgeModuleName")
    account_id: str = Field(alias="accountId")
    """The account's ARM id (the ``topic`` of the module's events)."""
    module_key: ModuleKey = Field(alias="moduleKey")
    policy: EdgePolicy


class VideoCreation(Wire):
    title: Annotated[str, StringConstraints(max_length=256)] | None = None
    description: Annotated[str, StringConstraints(max_length=2048)] | None = None
    segment_length: Duration = Field("PT30S", alias="segmentLength")
    retention_period: Duration | None = Field(None, alias="retentionPeriod")


class PublishVideoRequest(Wire):
    creation: VideoCreation = VideoCreation()
    enable_preview_image: bool = Field(True, alias="enableVideoPreviewImage")


class VideoPublication(Wire):
    video_name: str = Field(alias="videoName")
    video_id: str = Field(alias="videoId")
    container_sas_url: str = Field(alias="containerSasUrl")
    """Container-scoped, create-only (``c``), expiring: ``{container URL}?{sas}``; PUT
    ``{container URL}/{blob name}?{sas}`` with ``If-None-Match: *``. A secret: never logged."""
    expires_at: str = Field(alias="expiresAt")
    """Renew (``POST …/sas``) once 80 % of the lifetime has passed."""
    last_sequence: int = Field(alias="lastSequence")
    """The highest segment sequence number indexed for the video (0: none)."""
    segment_length: Duration = Field(alias="segmentLength")


class CommittedInit(Wire):
    config_hash: Hash = Field(alias="configHash")
    blob_name: BlobName = Field(alias="blobName")
    codec: Annotated[str, StringConstraints(max_length=64)]
    width: Annotated[int, Field(ge=0, le=16384)]
    height: Annotated[int, Field(ge=0, le=16384)]
    timescale: Annotated[int, Field(gt=0, le=10_000_000)]


class CommittedSegment(Wire):
    start_ms: Annotated[int, Field(ge=0, lt=2**53)] = Field(alias="startMs")
    duration_ms: Annotated[int, Field(gt=0, le=600_000)] = Field(alias="durationMs")
    sequence: Annotated[int, Field(ge=1, lt=2**53)]
    blob_name: BlobName = Field(alias="blobName")
    size: Annotated[int, Field(gt=0, le=2**31)]
    sha256: Sha256
    config_hash: Hash = Field(alias="configHash")
    gap_before: bool = Field(False, alias="gapBefore")


class SegmentCommit(Wire):
    inits: Annotated[list[CommittedInit], Field(max_length=16)] = []
    segments: Annotated[list[CommittedSegment], Field(max_length=MAX_SEGMENTS_PER_COMMIT)] = []


class CommitResult(Wire):
    committed: int
    """Segments newly indexed."""
    already_committed: int = Field(alias="alreadyCommitted")
    last_sequence: int = Field(alias="lastSequence")


class PreviewCommit(Wire):
    at_ms: Annotated[int, Field(ge=0, lt=2**53)] = Field(alias="atMs")
    sizes: Annotated[list[Literal["small", "medium", "large"]], Field(min_length=1, max_length=3)]


class RecordingStateChange(Wire):
    state: Literal["started", "stopped"]
    at: str
    """ISO 8601."""


class TelemetryReport(Wire):
    """A periodic report of counts and health only: no names, URLs, keys or media."""

    edge_module_id: str = Field(alias="edgeModuleId")
    instance_id: str = Field(alias="instanceId")
    module_version: Annotated[str, StringConstraints(max_length=64)] = Field(alias="moduleVersion")
    period_start: str = Field(alias="periodStart")
    period_end: str = Field(alias="periodEnd")
    active_live_pipelines: Annotated[int, Field(ge=0, le=10_000)] = Field(alias="activeLivePipelines")
    segments_recorded: Annotated[int, Field(ge=0)] = Field(alias="segmentsRecorded")
    segments_uploaded: Annotated[int, Field(ge=0)] = Field(alias="segmentsUploaded")
    bytes_uploaded: Annotated[int, Field(ge=0)] = Field(alias="bytesUploaded")
    data_dropped: Annotated[int, Field(ge=0)] = Field(alias="dataDropped")
    cache_bytes: Annotated[int, Field(ge=0)] = Field(alias="cacheBytes")
    errors: Annotated[dict[Annotated[str, StringConstraints(max_length=64)], int], Field(max_length=32)] = {}
    """Counts by diagnostics event type."""
