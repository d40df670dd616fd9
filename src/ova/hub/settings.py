"""Settings of the device hub, nested in the process that runs it (``ova cloud``'s ``hub`` key).

``HubMqttSettings`` configures the MQTT gateway that devices and modules connect to and the
broker behind it: ``embedded`` (amqtt in-process on 127.0.0.1, MQTT 3.1.1 only) or an external
``mqtt://host:port`` or ``mqtts://host:port`` broker (Mosquitto, EMQX; MQTT 5 works through it).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

EMBEDDED = "embedded"
PLAIN_PORT = 1883
TLS_PORT = 8883


class HubMqttSettings(BaseModel):
    """The MQTT gateway's listener, limits and broker."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address the MQTT gateway binds.")
    port: int | None = Field(
        None,
        ge=0,
        le=65535,
        description="TCP port of the gateway; unset means 8883 with TLS, 1883 without (0 picks a free one).",
    )
    tls_cert: Path | None = Field(None, description="PEM certificate chain; TLS 1.2+ is on when set.")
    tls_key: Path | None = Field(None, description="PEM private key for tls_cert.")
    max_packet_bytes: int = Field(
        256 * 1024,
        ge=1024,
        le=16 * 1024 * 1024,
        description="Largest MQTT packet (fixed header included) a device may send; a larger one "
        "disconnects it before its body is read. IoT Hub allows 256 KiB messages.",
    )
    connect_timeout_seconds: float = Field(
        10.0, gt=0, le=300, description="Seconds a new connection has to send CONNECT before it is closed."
    )
    max_connections: int = Field(
        10_000, ge=1, le=1_000_000, description="Device connections open at once; more are closed at accept."
    )
    flap_connects_per_minute: int = Field(
        30,
        ge=1,
        le=100_000,
        description="CONNECTs per minute one client id or username may make before it is banned for a while.",
    )
    flap_ip_connects_per_minute: int = Field(
        300,
        ge=1,
        le=1_000_000,
        description="CONNECTs per minute one IP address may make (higher: many devices share a NAT).",
    )
    flap_ban_seconds: float = Field(
        60.0, gt=0, le=86_400, description="How long a flapping client id, username or IP stays banned."
    )
    flap_tracked_keys: int = Field(
        100_000,
        ge=100,
        le=10_000_000,
        description="Client ids, usernames and IPs tracked for flapping (LRU).",
    )
    broker: str = Field(
        EMBEDDED,
        description="'embedded' (amqtt in-process, MQTT 3.1.1 only), or an external broker at "
        "mqtt://host:port or mqtts://host:port (TLS 1.2+, verified against broker_ca_file).",
    )
    broker_ca_file: Path | None = Field(
        None, description="PEM CA bundle that signed an mqtts:// broker's certificate; unset: the system's."
    )
    broker_username: str = Field(
        "ova-hub", description="Internal user the hub connects to an external broker as."
    )
    broker_password: SecretStr | None = Field(
        None,
        description="Password of broker_username on the external broker (the embedded one makes its own).",
    )

    @field_validator("broker")
    @classmethod
    def _broker_address(cls, value: str) -> str:
        if value == EMBEDDED:
            return value
        parts = urlsplit(value)
        complete = parts.hostname and parts.port and parts.path in ("", "/")
        if parts.scheme not in ("mqtt", "mqtts") or not complete:
            raise ValueError("broker is 'embedded', mqtt://host:port or mqtts://host:port")
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> HubMqttSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        return self

    @property
    def listen_port(self) -> int:
        if self.port is not None:
            return self.port
        return TLS_PORT if self.tls_cert else PLAIN_PORT

    @property
    def external_broker(self) -> tuple[str, int] | None:
        """``(host, port)`` of the external broker, or None for the embedded one."""
        if self.broker == EMBEDDED:
            return None
        parts = urlsplit(self.broker)
        assert parts.hostname is not None and parts.port is not None
        return parts.hostname, parts.port

    @property
    def broker_tls(self) -> bool:
        return self.broker.startswith("mqtts://")


class HubSettings(BaseModel):
    """The device hub inside ``ova cloud``: gateway and broker (``mqtt``), identities, twins,
    direct methods and device-to-cloud messages (task 2's part of this file)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(
        False,
        description="Run the hub (MQTT gateway, broker and the hub endpoint family) in this process.",
    )
    host_name: str = Field(
        "127.0.0.1",
        min_length=1,
        max_length=253,
        description="The hub's host name: what SAS tokens' sr and connection strings carry (HostName); "
        "compared without case, with or without a :port.",
    )
    mqtt: HubMqttSettings = Field(
        default_factory=HubMqttSettings, description="The MQTT gateway devices connect to, and its broker."
    )
    max_method_timeout_seconds: int = Field(
        300,
        ge=5,
        le=3600,
        description="Largest responseTimeoutInSeconds a direct method may ask (unset: 30; at least 5).",
    )
    max_pending_methods: int = Field(
        1000, ge=1, le=100_000, description="Direct methods waiting for answers at once; more get 429."
    )
    max_token_lifetime_seconds: int = Field(
        366 * 24 * 3600,
        ge=60,
        description="Longest a device or service SAS token may still live when presented; "
        "longer-lived ones are refused.",
    )
    message_retention_per_identity: int = Field(
        1000, ge=1, le=1_000_000, description="Device-to-cloud messages kept per device or module (newest)."
    )
    message_retention_days: int = Field(
        7, ge=1, le=365, description="Days a device-to-cloud message is kept at most."
    )
    message_sink: Path | None = Field(
        None, description="JSONL file every stored device-to-cloud message is also appended to (mode 0600)."
    )
