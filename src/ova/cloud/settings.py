"""Settings of the ``ova cloud`` process: one pydantic-settings model, built once by the CLI.

Sources, strongest first: command-line flags, ``OVA_`` environment variables (nested keys
joined with ``__``, e.g. ``OVA_CLIENT_API__RATE_LIMIT_REQUESTS``), the YAML config file,
then the defaults below. ``config/ova-cloud.example.yaml`` lists every key with its default.
"""

from __future__ import annotations

from enum import StrEnum
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    SettingsConfigDict,
)

from ova.cloud.db.engine import default_database_url
from ova.common import settings_file
from ova.contracts.topology_values import parse_duration
from ova.hub.settings import HubSettings
from ova.media.camera_networks import DEFAULT_CAMERA_NETWORKS, CameraNetworks

Network = IPv4Network | IPv6Network


class Family(StrEnum):
    """Endpoint families; each is its own ASGI app."""

    MANAGEMENT = "management"
    CLIENT = "client"
    STREAMING = "streaming"
    EDGE = "edge"
    TELEMETRY = "telemetry"
    STORAGE = "storage"
    HUB = "hub"


LOOPBACK_NETWORKS = ["127.0.0.0/8", "::1/128"]
PRIVATE_NETWORKS = [*LOOPBACK_NETWORKS, "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"]


class ListenerSettings(BaseModel):
    """One socket the cloud service listens on, and the endpoint families it serves."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address to bind.")
    port: int = Field(8080, ge=0, le=65535, description="TCP port to bind (0 picks a free one).")
    families: list[Family] = Field(
        default_factory=lambda: list(Family), description="Endpoint families served on this listener."
    )
    tls_cert: Path | None = Field(None, description="PEM certificate chain; TLS is on when set (TLS 1.2+).")
    tls_key: Path | None = Field(None, description="PEM private key for tls_cert.")
    allow_networks: list[Network] = Field(
        default_factory=list,
        description="Client networks (CIDR) allowed to connect; empty allows every address.",
    )
    public_url: str | None = Field(
        None,
        description="Base URL clients use to reach this listener (behind a proxy, say); "
        "default: built from scheme, host and port.",
    )
    metrics: bool | None = Field(
        None,
        description="Serve Prometheus /metrics on this listener; default: only when it binds a loopback "
        "address (a public listener never shows metrics unless this is true).",
    )
    header_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="Time a client has to send a request's head before it is cut off."
    )
    body_timeout_seconds: float = Field(
        30.0, gt=0, le=3600, description="Longest pause between request body bytes before 408 and close."
    )
    limit_concurrency: int = Field(
        1000, ge=1, description="Open connections or requests in flight past which new requests get 503."
    )
    max_connections: int = Field(
        2000, ge=1, description="Open connections past which a new one is closed at once, before it is read."
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> ListenerSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key must be set together")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


class ClientApiSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate_limit_requests: int = Field(
        50, ge=1, description="Client API requests allowed per account per window."
    )
    rate_limit_window_seconds: float = Field(10.0, gt=0, description="Length of the rate-limit window.")
    failed_requests_per_address: int = Field(
        50,
        ge=1,
        description="Refused tokens allowed per client address per window; past it only well-formed "
        "tokens seen valid recently, or within credential_throttle.verifications_per_second, are checked "
        "(429 otherwise).",
    )
    max_token_lifetime_seconds: int = Field(
        86400,
        ge=60,
        description="Longest customer JWT accepted: one whose exp minus iat (or minus now, without iat) "
        "is longer is refused.",
    )
    policy_cache_seconds: float = Field(
        5.0, ge=0, le=5, description="How long access policies are cached; changes apply within this time."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Exact origins allowed to call the client and streaming families."
    )

    @field_validator("cors_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin == "*" or not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
                raise ValueError(
                    f"CORS origins must be exact origins like https://app.example.com, not {origin!r}"
                )
        return origins


class ContentTokenSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lifetime_seconds: int = Field(
        600,
        ge=10,
        le=86400,
        description="Lifetime of a content token; never past the expiry of the customer JWT that asked "
        "for it (the player asks for a new one when it expires).",
    )


class CredentialThrottleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    failures_per_client: int = Field(
        50, ge=1, description="Refused operator keys or content tokens per client per window before 429."
    )
    window_seconds: float = Field(10.0, gt=0, description="Window of failures_per_client.")
    verifications_per_second: int = Field(
        20,
        ge=0,
        description="Credentials checked per second, in each family, for clients past their refusal "
        "budget (bounds the cryptography a flood can cost); the rest get 429.",
    )
    remember_valid_seconds: float = Field(
        600.0,
        ge=0,
        description="How long an accepted credential is still checked for a throttled client without using "
        "verifications_per_second.",
    )


class StreamingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redirect_to_signed_urls: bool = Field(
        False,
        description="Answer segment requests with a redirect to a short-lived signed blob URL, so media "
        "bytes bypass this service (when the blob store can sign).",
    )
    accel_redirect_prefix: str | None = Field(
        None,
        description="Hand segment bytes to a fronting nginx: answer with X-Accel-Redirect to this internal "
        "location plus container/blob (filesystem store only), e.g. /ova-blobs/.",
    )
    live_edge_seconds: float = Field(
        90.0,
        gt=0,
        description="Unused: an archive plays as live exactly while a recorder holds the video's lease "
        "(isInUse); kept so existing configuration files still load.",
    )

    @field_validator("accel_redirect_prefix")
    @classmethod
    def _absolute_path_prefix(cls, prefix: str | None) -> str | None:
        # nginx resolves an X-Accel-Redirect without a leading '/' against the server's root, not
        # the internal location, and would take '?' as the start of arguments.
        if prefix and (not prefix.startswith("/") or any(c in prefix for c in "?#% \t\r\n")):
            raise ValueError(f"accel_redirect_prefix must be an absolute path like /ova-blobs/: {prefix!r}")
        return prefix


class KeyframeCheckSettings(BaseModel):
    """Limits of the child processes that check each recorded segment's keyframe."""

    model_config = ConfigDict(extra="forbid")

    workers: int = Field(1, ge=1, le=64, description="Child processes checking segments at once.")
    queue_size: int = Field(
        8,
        ge=1,
        le=10_000,
        description="Checks that may wait for a child; beyond it, segments are kept unchecked.",
    )
    memory_mib: int = Field(1024, ge=256, description="Address-space limit (RLIMIT_AS) of each child, MiB.")
    cpu_seconds: int = Field(
        10, ge=1, description="CPU time one check may use (RLIMIT_CPU) before its child is killed."
    )
    timeout_seconds: float = Field(
        10.0, gt=0, description="Wall-clock time one check may take before its child is killed and replaced."
    )


class RecordingSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    segment_seconds: float | None = Field(
        None,
        ge=0.5,
        le=300,
        description="Record cloud live pipelines in segments of this length instead of the video's "
        "segmentLength (shorter segments play live sooner); cuts still fall on keyframes.",
    )
    retention_interval_seconds: float = Field(
        300.0,
        gt=0,
        description="How often videos with an archival retentionPeriod lose the segments older than it.",
    )
    retention_batch_size: int = Field(
        500, ge=1, le=100_000, description="Most segments (rows and blobs) deleted per retention pass."
    )
    camera_networks: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CAMERA_NETWORKS),
        description="Networks (CIDR) camera connections may reach, checked on the camera host's resolved "
        "address; also the default of `ova record --camera-network`. Default: loopback, the private ranges, "
        "carrier-grade NAT and IPv6 unique-local; link-local (cloud metadata) is outside it.",
    )
    keyframe_check: KeyframeCheckSettings = Field(
        default_factory=lambda: KeyframeCheckSettings(),
        description="Child processes that decode each segment's first keyframe (playability, previews).",
    )

    @field_validator("camera_networks")
    @classmethod
    def _camera_networks(cls, value: list[str]) -> list[str]:
        CameraNetworks.parse(value)  # a ValueError names the entry that is not a network
        return value


class StorageSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(
        None,
        description="Blob store: file://DIR, azure://ACCOUNT, azure+http://HOST:PORT/ACCOUNT or an Azure "
        "connection string; default file://DATA_DIR/blobs.",
    )
    account_name: str = Field("ova", description="Account name signed into the filesystem store's SAS.")
    account_key: SecretStr | None = Field(
        None, description="Azure account key (base64) for azure:// URLs; needed for signed URLs."
    )
    max_blob_bytes: int = Field(
        64 * 1024 * 1024, ge=1024, description="Largest blob one storage-family PUT accepts (413 beyond)."
    )


def duration_within(text: str, minimum_s: float, maximum_s: float, name: str) -> str:
    """``text`` when it is an ISO 8601 duration between the bounds; ``ValueError`` naming ``name``."""
    seconds = parse_duration(text)
    if seconds is None or not minimum_s <= seconds <= maximum_s:
        bounds = f"from {minimum_s:g} s to {maximum_s:g} s"
        raise ValueError(f"{name} must be an ISO 8601 duration {bounds}: {text!r}")
    return text


class EdgeApiSettings(BaseModel):
    """The edge-integration family: module keys, the policy edge modules download, upload SAS."""

    model_config = ConfigDict(extra="forbid")

    module_key_lifetime: str = Field(
        "P30D",
        description="ISO 8601 lifetime of a module key (1 hour to 365 days); the module rotates at half "
        "of it.",
    )
    module_key_grace_period: str = Field(
        "P7D",
        description="How long a rotated-out module key keeps working (ISO 8601, 0 to 90 days), so a module "
        "that rotated while its answer was lost still gets in.",
    )
    maximum_disconnected_period: str = Field(
        "PT36H",
        description="Policy: past this long without reaching the cloud, the module's live pipelines "
        "deactivate (ISO 8601, 1 minute to 36 hours).",
    )
    policy_refresh_interval: str = Field(
        "PT1H", description="Policy: how often a module downloads its policy again (ISO 8601, 10 s to 1 day)."
    )
    upload_sas_lifetime: str = Field(
        "PT1H",
        description="Lifetime of the create-only container SAS a module uploads with (ISO 8601, 1 minute "
        "to 24 hours); the module renews it at 80 %.",
    )

    @field_validator("module_key_lifetime")
    @classmethod
    def _key_lifetime(cls, value: str) -> str:
        return duration_within(value, 3600, 365 * 86400, "module_key_lifetime")

    @field_validator("module_key_grace_period")
    @classmethod
    def _grace(cls, value: str) -> str:
        return duration_within(value, 0, 90 * 86400, "module_key_grace_period")

    @field_validator("maximum_disconnected_period")
    @classmethod
    def _disconnected(cls, value: str) -> str:
        return duration_within(value, 60, 36 * 3600, "maximum_disconnected_period")

    @field_validator("policy_refresh_interval")
    @classmethod
    def _refresh(cls, value: str) -> str:
        return duration_within(value, 10, 86400, "policy_refresh_interval")

    @field_validator("upload_sas_lifetime")
    @classmethod
    def _sas_lifetime(cls, value: str) -> str:
        return duration_within(value, 60, 86400, "upload_sas_lifetime")


class TelemetrySettings(BaseModel):
    """The telemetry family: usage and health reports from edge modules."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        True, description="Tell edge modules to send reports (the policy carries the URL and key)."
    )
    pre_shared_key: SecretStr | None = Field(
        None,
        description="Key edge modules present as Authorization: Bearer; default: generated into "
        "DATA_DIR/keys/telemetry-psk (0600) on first start. Replicas must share it.",
    )
    report_interval: str = Field(
        "PT1H", description="Policy: how often a module reports (ISO 8601, 10 s to 1 day)."
    )
    max_report_bytes: int = Field(
        16 * 1024, ge=1024, le=1024 * 1024, description="Largest report body accepted (413 beyond)."
    )
    retention_days: int = Field(
        30, ge=1, le=3650, description="Reports older than this are deleted when new ones arrive."
    )

    @field_validator("report_interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        return duration_within(value, 10, 86400, "report_interval")


class CloudSettings(BaseSettings):
    """Every setting of ``ova cloud``."""

    model_config = SettingsConfigDict(env_prefix="OVA_", env_nested_delimiter="__", extra="forbid")

    profile: Literal["development", "production"] = Field(
        "development", description="production refuses to start unless every non-loopback listener has TLS."
    )
    data_dir: Path = Field(Path("data"), description="Directory for the SQLite store, keys and media.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy async URL, e.g. postgresql+psycopg://user:pw@host/db; "
        "default: SQLite (WAL) at DATA_DIR/ova.db.",
    )
    key_encryption_key_file: Path | None = Field(
        None,
        description="File (mode 0600) holding the base64 32-byte key that encrypts the token-signing keys "
        "in the database; replicas sharing a database must share it. Default: DATA_DIR/keys/kek, created "
        "on first start; required in the production profile when database_url is set.",
    )
    listeners: list[ListenerSettings] = Field(
        default_factory=lambda: [ListenerSettings()],
        description="Sockets to listen on. Default: one listener on 127.0.0.1:8080 serving every family.",
    )
    trusted_proxies: list[Network] = Field(
        default_factory=list,
        description="Proxies (CIDR) whose X-Forwarded-For is honoured: the client is the rightmost "
        "address not in this list; empty ignores the header. Used by throttles, network checks and logs.",
    )
    private_networks: list[Network] = Field(
        default_factory=lambda: [IPv4Network(n) if "." in n else IPv6Network(n) for n in PRIVATE_NETWORKS],
        description="Networks that count as private when an account sets publicNetworkAccess: Disabled.",
    )
    max_request_body_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest request body any family accepts (413 beyond)."
    )
    streaming: StreamingSettings = Field(
        default_factory=StreamingSettings, description="The streaming family: manifests and segments."
    )
    recording: RecordingSettings = Field(
        default_factory=RecordingSettings, description="Cloud live pipelines that record cameras."
    )
    storage: StorageSettings = Field(
        default_factory=StorageSettings, description="Blob storage for recorded media."
    )
    player_dir: Path | None = Field(
        None,
        description="Directory of the player page served at /player/; default: the checkout's player/.",
    )
    client_api: ClientApiSettings = Field(
        default_factory=ClientApiSettings, description="The client family: customer JWT admission."
    )
    content_token: ContentTokenSettings = Field(
        default_factory=ContentTokenSettings, description="Tokens the streaming family accepts."
    )
    credential_throttle: CredentialThrottleSettings = Field(
        default_factory=CredentialThrottleSettings,
        description="Refused credentials per client (all families) and the check budget past it.",
    )
    edge_api: EdgeApiSettings = Field(
        default_factory=EdgeApiSettings, description="The edge family: module keys, policy, upload SAS."
    )
    telemetry: TelemetrySettings = Field(
        default_factory=TelemetrySettings, description="The telemetry family: edge usage and health reports."
    )
    hub: HubSettings = Field(
        default_factory=HubSettings,
        description="The device hub: MQTT gateway and broker, identities, twins, direct methods, messages.",
    )

    @model_validator(mode="after")
    def _families_served(self) -> CloudSettings:
        served = [family for listener in self.listeners for family in listener.families]
        duplicated = sorted({f.value for f in served if served.count(f) > 1})
        if duplicated:
            raise ValueError(f"families served by more than one listener: {', '.join(duplicated)}")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url(self.data_dir)

    def listener_for(self, family: Family) -> ListenerSettings | None:
        return next((item for item in self.listeners if family in item.families), None)


def load_settings(config_file: Path | None = None, **overrides: Any) -> CloudSettings:
    """Flags (``overrides``, None ignored), then the environment, then the YAML file."""
    return settings_file.load_settings(CloudSettings, config_file, **overrides)
