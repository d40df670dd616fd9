"""``EdgeSettings``: defaults, environment, YAML, validation; the committed example config."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ova.edge import example_config
from ova.edge.settings import EdgeSettings, load_settings

EXAMPLE = Path(__file__).parents[3] / "config" / "ova-edge.example.yaml"


def test_defaults() -> None:
    settings = EdgeSettings()
    assert (settings.metrics_host, settings.metrics_port) == ("127.0.0.1", 9600)
    assert settings.connection_string is None and settings.hub.tls is True
    assert settings.hub.token_lifetime_s == 3600
    assert "10.0.0.0/8" in settings.camera_networks and "169.254.0.0/16" not in settings.camera_networks


def test_environment_then_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text("metrics_port: 9700\nhub:\n  keepalive_s: 30\ndata_dir: /srv/edge\n")
    monkeypatch.setenv("OVA_EDGE_METRICS_PORT", "9800")
    monkeypatch.setenv("OVA_EDGE_CONNECTION_STRING", "HostName=h;DeviceId=d;ModuleId=m;SharedAccessKey=k")
    settings = load_settings(config, data_dir=None)
    assert settings.metrics_port == 9800 and settings.hub.keepalive_s == 30
    assert settings.data_dir == Path("/srv/edge")
    assert "SharedAccessKey" not in repr(settings) and settings.connection_string is not None
    assert load_settings(config, metrics_port=1234).metrics_port == 1234


def test_validation() -> None:
    with pytest.raises(ValidationError, match="camera_networks"):
        EdgeSettings(camera_networks=["not-a-network"])
    with pytest.raises(ValidationError):
        EdgeSettings(metrics_port=70000)
    with pytest.raises(FileNotFoundError):
        load_settings(Path("/nonexistent/edge.yaml"))


def test_example_config_is_current_and_describes_every_key() -> None:
    assert EXAMPLE.read_text() == example_config.render(), "run python -m ova.edge.example_config"
    for name in EdgeSettings.model_fields:
        assert f"\n{name}:" in EXAMPLE.read_text()
    assert all(field.description for field in EdgeSettings.model_fields.values())
