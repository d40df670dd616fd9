"""``EdgeSettings``: the ``ova edge`` process's own settings (the module twin configures the rest).

Read once by the composition root, from (highest first) command-line flags, environment
variables ``OVA_EDGE_<KEY>`` (nested keys joined with ``__``, e.g. ``OVA_EDGE_HUB__KEEPALIVE_S``),
then a YAML file (``--config``). Every key with its default is in
``config/ova-edge.example.yaml`` (``python -m ova.edge.example_config``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    SettingsConfigDict,
)

from ova.common import settings_file
from ova.media.camera_networks import DEFAULT_CAMERA_NETWORKS, CameraNetworks


class HubSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tls: bool = Field(
        True,
        description="Speak MQTT over TLS to the hub (IoT Hub and IoT Edge always do); false only for a plain "
        "MQTT broker on a trusted network (tests, a loopback hub).",
    )
    token_lifetime_s: int = Field(
        3600, ge=60, le=86_400, description="Lifetime of the SAS token presented at MQTT CONNECT, in seconds."
    )
    renew_margin_s: int = Field(
        300,
        ge=1,
        le=3600,
        description="Reconnect with a fresh token this many seconds before the old one expires.",
    )
    keepalive_s: int = Field(
        60, ge=5, le=1177, description="MQTT keep-alive, in seconds (IoT Hub allows ≤ 1177)."
    )
    connect_timeout_s: float = Field(30.0, gt=0, le=600, description="Longest wait for CONNACK and SUBACKs.")
    request_timeout_s: float = Field(
        30.0, gt=0, le=600, description="Longest wait for a twin request's answer."
    )
    backoff_initial_s: float = Field(
        1.0, gt=0, le=60, description="First reconnect delay (doubles each failure)."
    )
    publish_wait_s: float = Field(
        5.0, ge=0, le=60, description="How long a message waits for the connection (a token renewal)."
    )
    backoff_max_s: float = Field(
        60.0, gt=0, le=3600, description="Longest reconnect delay (jittered 50 to 100 %)."
    )


class SpoolSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    directory_name: str = Field(
        "tmp",
        pattern=r"^[A-Za-z0-9._-]{1,64}$",
        description="Subdirectory of ApplicationDataDirectory used as a video sink's localMediaCachePath "
        "when the topology gives none.",
    )
    default_maximum_size_mib: int = Field(
        2048,
        ge=1,
        le=16 * 1024 * 1024,
        description="A video sink's localMediaCacheMaximumSizeMiB when the topology gives none "
        "(MiB = 1024²).",
    )


class EdgeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OVA_EDGE_", env_nested_delimiter="__", extra="forbid")

    connection_string: SecretStr | None = Field(
        None,
        description="The module's IoT Hub connection string (HostName=…;DeviceId=…;ModuleId=…;"
        "SharedAccessKey=…[;GatewayHostName=…]). HostName=host:port picks a port (default 8883). "
        "Unset: the IoT Edge environment (IOTEDGE_*) is used. A secret: never logged.",
    )
    ca_file: Path | None = Field(
        None,
        description="PEM CA certificates that verify the hub's TLS certificate (default: the system trust; "
        "under IoT Edge: the workload API's trust bundle).",
    )
    cloud_ca_file: Path | None = Field(
        None,
        description="PEM CA certificates that verify the cloud's TLS certificates (edge family, storage, "
        "telemetry); default: the system trust.",
    )
    data_dir: Path = Field(
        Path("data/edge"),
        description="Application data directory when the twin's ApplicationDataDirectory is unset.",
    )
    metrics_enabled: bool = Field(True, description="Serve Prometheus metrics at /metrics.")
    metrics_host: str = Field("127.0.0.1", description="Address of the metrics listener.")
    metrics_port: int = Field(
        9600,
        ge=0,
        le=65535,
        description="Port of the metrics listener (Video Analyzer's 9600; 0 picks a free one).",
    )
    camera_networks: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CAMERA_NETWORKS),
        description="Networks (CIDR) RTSP sources may reach, checked on the camera host's resolved address. "
        "Default: loopback, the private ranges, carrier-grade NAT and IPv6 unique-local.",
    )
    edge_api_url: str | None = Field(
        None,
        description="Base URL of the cloud's edge-integration family; default: the provisioning token's "
        "iss claim.",
    )
    twin_wait_s: float = Field(
        60.0,
        gt=0,
        le=3600,
        description="How long start-up waits for the hub and the twin before it logs and keeps waiting.",
    )
    deactivate_flush_timeout_s: float = Field(
        60.0, ge=0, le=3600, description="livePipelineDeactivate waits this long for the cache to drain."
    )
    segment_ms: int | None = Field(
        None,
        ge=500,
        le=600_000,
        description="Overrides every video sink's segmentLength, in milliseconds (demos and tests only; "
        "null: the topology's).",
    )
    telemetry_timeout_s: float = Field(10.0, gt=0, le=120, description="Timeout of one telemetry report.")
    keyframe_check_workers: int = Field(
        1,
        ge=1,
        le=16,
        description="Child processes (limited in memory and CPU) that decode one keyframe per segment to "
        "check that it plays and to make previews; camera data is never decoded in the module's own process.",
    )
    hub: HubSettings = Field(default_factory=lambda: HubSettings(), description="The IoT Hub connection.")
    spool: SpoolSettings = Field(
        default_factory=lambda: SpoolSettings(), description="Local media cache defaults."
    )

    @field_validator("camera_networks")
    @classmethod
    def _camera_networks(cls, value: list[str]) -> list[str]:
        CameraNetworks.parse(value)  # a ValueError names the entry that is not a network
        return value


def load_settings(config_file: Path | None = None, **overrides: Any) -> EdgeSettings:
    """Flags (``overrides``, None ignored), then the environment, then the YAML file."""
    return settings_file.load_settings(EdgeSettings, config_file, **overrides)
