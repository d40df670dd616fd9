"""The hub's MQTT settings: defaults, validation, and a description on every field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ova.hub.settings import HubMqttSettings


def test_defaults_listen_on_loopback_1883_with_the_embedded_broker() -> None:
    settings = HubMqttSettings()
    assert (settings.host, settings.listen_port, settings.broker) == ("127.0.0.1", 1883, "embedded")
    assert settings.external_broker is None
    assert settings.max_packet_bytes == 256 * 1024
    assert (settings.connect_timeout_seconds, settings.max_connections) == (10.0, 10_000)
    assert (settings.flap_connects_per_minute, settings.flap_ban_seconds) == (30, 60.0)


def test_tls_moves_the_default_port_to_8883(tmp_path: Path) -> None:
    settings = HubMqttSettings(tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem")
    assert settings.listen_port == 8883
    assert HubMqttSettings(tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem", port=0).listen_port == 0


def test_an_external_broker_is_an_mqtt_url() -> None:
    settings = HubMqttSettings(broker="mqtt://broker.internal:1883", broker_password="s3cret")
    assert settings.external_broker == ("broker.internal", 1883)
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize("broker", ["ws://h:1", "mqtt://h", "http://h:1", "h:1883", "mqtt://h:1/x"])
def test_other_broker_values_are_refused(broker: str) -> None:
    with pytest.raises(ValidationError):
        HubMqttSettings(broker=broker)


def test_a_certificate_needs_its_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        HubMqttSettings(tls_cert=tmp_path / "c.pem")


def test_every_field_is_described() -> None:
    assert all(field.description for field in HubMqttSettings.model_fields.values())


def test_an_mqtts_broker_is_reached_over_tls(tmp_path: Path) -> None:
    settings = HubMqttSettings(broker="mqtts://broker.internal:8883", broker_password="p")
    assert settings.broker_tls
    assert settings.external_broker == ("broker.internal", 8883)
    assert not HubMqttSettings(broker="mqtt://broker.internal:1883").broker_tls
