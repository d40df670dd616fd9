"""Settings of ``ova cloud``: defaults, the YAML file, ``OVA_`` variables over it, flags over both."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from ova.cloud.settings import CloudSettings, Family, ListenerSettings, load_settings


@pytest.fixture(autouse=True)
def _no_ova_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets itself counts."""
    for key in list(os.environ):
        if key.startswith("OVA_"):
            monkeypatch.delenv(key)


def write_config(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "ova-cloud.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_defaults_are_one_loopback_listener_serving_every_family_on_sqlite(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")

    assert settings.profile == "development"
    [listener] = settings.listeners
    assert (listener.host, listener.port, listener.tls) == ("127.0.0.1", 8080, False)
    assert listener.families == list(Family)
    assert len(Family) == 7
    assert listener.allow_networks == []
    assert listener.base_url() == "http://127.0.0.1:8080"
    expected = f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'ova.db').resolve()}"
    assert settings.resolved_database_url == expected
    assert load_settings().data_dir == Path("data")


def test_yaml_file_values_are_used(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        {
            "profile": "production",
            "data_dir": str(tmp_path / "from-file"),
            "database_url": "postgresql+psycopg://ova@127.0.0.1/ova",
            "max_request_body_bytes": 2048,
            "client_api": {"rate_limit_requests": 7},
            "listeners": [
                {"host": "127.0.0.1", "port": 9001, "families": ["management"]},
                {
                    "host": "::1",
                    "port": 9002,
                    "families": ["client", "streaming"],
                    "allow_networks": ["::1/128"],
                },
            ],
        },
    )

    settings = load_settings(config)

    assert settings.profile == "production"
    assert settings.data_dir == tmp_path / "from-file"
    assert settings.resolved_database_url == "postgresql+psycopg://ova@127.0.0.1/ova"
    assert settings.max_request_body_bytes == 2048
    assert settings.client_api.rate_limit_requests == 7
    assert settings.client_api.rate_limit_window_seconds == 10.0  # untouched keys keep defaults
    assert [(item.port, item.families) for item in settings.listeners] == [
        (9001, [Family.MANAGEMENT]),
        (9002, [Family.CLIENT, Family.STREAMING]),
    ]
    assert settings.listeners[1].base_url() == "http://[::1]:9002"
    assert settings.listener_for(Family.STREAMING) is settings.listeners[1]
    assert settings.listener_for(Family.EDGE) is None


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(
        tmp_path,
        {
            "profile": "development",
            "data_dir": str(tmp_path / "from-file"),
            "client_api": {"rate_limit_requests": 7, "rate_limit_window_seconds": 3},
        },
    )
    monkeypatch.setenv("OVA_PROFILE", "production")
    monkeypatch.setenv("OVA_DATA_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("OVA_CLIENT_API__RATE_LIMIT_REQUESTS", "9")

    settings = load_settings(config)

    assert settings.profile == "production"
    assert settings.data_dir == tmp_path / "from-env"
    assert settings.client_api.rate_limit_requests == 9
    assert settings.client_api.rate_limit_window_seconds == 3.0  # the file's sibling key survives


def test_flags_override_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path, {"data_dir": str(tmp_path / "from-file")})
    monkeypatch.setenv("OVA_PROFILE", "production")
    monkeypatch.setenv("OVA_DATA_DIR", str(tmp_path / "from-env"))

    settings = load_settings(config, data_dir=tmp_path / "from-flag", profile="development")

    assert settings.data_dir == tmp_path / "from-flag"
    assert settings.profile == "development"


def test_an_absent_flag_leaves_the_environment_in_charge(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OVA_DATA_DIR", str(tmp_path / "from-env"))

    assert load_settings(None, data_dir=None).data_dir == tmp_path / "from-env"


def test_a_family_on_two_listeners_is_refused(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        {
            "listeners": [
                {"port": 9001, "families": ["management", "client"]},
                {"port": 9002, "families": ["client"]},
            ]
        },
    )

    with pytest.raises(ValidationError, match="families served by more than one listener: client"):
        load_settings(config)


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="tls_cert and tls_key must be set together"):
        ListenerSettings(tls_cert=tmp_path / "cert.pem")
    config = write_config(tmp_path, {"listeners": [{"tls_key": str(tmp_path / "key.pem")}]})
    with pytest.raises(ValidationError, match="tls_cert and tls_key must be set together"):
        load_settings(config)


def test_tls_listeners_advertise_https_and_public_url_wins(tmp_path: Path) -> None:
    listener = ListenerSettings(tls_cert=tmp_path / "c.pem", tls_key=tmp_path / "k.pem", port=8443)
    assert listener.base_url() == "https://127.0.0.1:8443"
    behind_proxy = ListenerSettings(public_url="https://video.example.com/")
    assert behind_proxy.base_url() == "https://video.example.com"


@pytest.mark.parametrize(
    "document",
    [
        {"bogus": 1},
        {"listeners": [{"host": "127.0.0.1", "prot": 9000}]},
        {"client_api": {"rate_limit_requestz": 7}},
        {"content_token": {"lifetime": 60}},
    ],
    ids=["top-level", "listener", "client_api", "content_token"],
)
def test_an_unknown_key_is_refused(tmp_path: Path, document: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        load_settings(write_config(tmp_path, document))


def test_a_missing_config_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.yaml"):
        load_settings(tmp_path / "missing.yaml")


def test_settings_are_not_read_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVA_PROFILE", "production")
    assert CloudSettings().profile == "production"
    monkeypatch.setenv("OVA_PROFILE", "development")
    assert CloudSettings().profile == "development"
