"""The server: the production profile's TLS rule, and how each listener's uvicorn is configured."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from starlette.types import Receive, Scope, Send

from ova.cloud.runtime import build
from ova.cloud.server import (
    UnsafeConfiguration,
    check_profile,
    is_loopback,
    serve,
    server_ssl_context,
    uvicorn_server,
)
from ova.cloud.settings import CloudSettings, Family, ListenerSettings
from support.tls import TlsFiles, write_tls_files


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return write_tls_files(tmp_path_factory.mktemp("tls"))


def production(*listeners: ListenerSettings) -> CloudSettings:
    return CloudSettings(profile="production", listeners=list(listeners))


def with_tls(tls: TlsFiles, **fields: object) -> ListenerSettings:
    return ListenerSettings.model_validate({"tls_cert": tls.server_cert, "tls_key": tls.server_key, **fields})


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "example.com", ""])
def test_hosts_reachable_from_elsewhere(host: str) -> None:
    assert not is_loopback(host)


def test_production_refuses_a_public_listener_without_tls(tls: TlsFiles) -> None:
    settings = production(
        ListenerSettings(host="127.0.0.1", port=8080, families=[Family.MANAGEMENT]),
        ListenerSettings(host="0.0.0.0", port=8081, families=[Family.CLIENT]),
        with_tls(tls, host="0.0.0.0", port=8443, families=[Family.STREAMING]),
    )
    with pytest.raises(UnsafeConfiguration, match="requires TLS") as refused:
        check_profile(settings)
    assert "0.0.0.0:8081" in str(refused.value)
    assert "8080" not in str(refused.value) and "8443" not in str(refused.value)


def test_production_allows_loopback_only_and_tls_listeners(tls: TlsFiles) -> None:
    check_profile(production(ListenerSettings(host="127.0.0.1"), ListenerSettings(host="::1", families=[])))
    check_profile(production(with_tls(tls, host="0.0.0.0")))


def test_production_refuses_a_public_hub_mqtt_listener_without_tls(tls: TlsFiles) -> None:
    public_plain = {"enabled": True, "mqtt": {"host": "0.0.0.0"}}
    with pytest.raises(UnsafeConfiguration, match="hub MQTT"):
        check_profile(CloudSettings(profile="production", listeners=[], hub=public_plain))
    public_tls = {
        "enabled": True,
        "mqtt": {"host": "0.0.0.0", "tls_cert": tls.server_cert, "tls_key": tls.server_key},
    }
    check_profile(CloudSettings(profile="production", listeners=[], hub=public_tls))
    check_profile(CloudSettings(profile="production", listeners=[], hub={"enabled": True}))


def test_development_allows_a_public_plain_listener() -> None:
    check_profile(CloudSettings(profile="development", listeners=[ListenerSettings(host="0.0.0.0")]))


async def test_serve_refuses_before_binding_anything(tmp_path: Path) -> None:
    settings = CloudSettings(
        profile="production", data_dir=tmp_path / "data", listeners=[ListenerSettings(host="0.0.0.0")]
    )
    cloud = await build(settings)
    try:
        with pytest.raises(UnsafeConfiguration):
            await serve(cloud)
    finally:
        await cloud.close()


def test_the_tls_context_requires_tls_1_2_or_better(tls: TlsFiles) -> None:
    context = server_ssl_context(with_tls(tls))
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.protocol == ssl.PROTOCOL_TLS_SERVER


def test_uvicorn_gets_the_pinned_tls_context(tls: TlsFiles) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not called")

    server = uvicorn_server(with_tls(tls, host="127.0.0.1", port=8443), app)
    assert server.config.ssl is not None
    assert server.config.ssl.minimum_version == ssl.TLSVersion.TLSv1_2
    assert (server.config.host, server.config.port) == ("127.0.0.1", 8443)
    assert server.config.proxy_headers is False  # the peer address is what allow-lists check

    plain = uvicorn_server(ListenerSettings(), app)
    assert plain.config.ssl is None
