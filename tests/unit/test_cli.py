"""The ``ova`` command line in-process: flags over environment over file, and its exit codes."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
from pathlib import Path

import pytest
import yaml

from ova import cli
from ova.cloud.db.engine import create_engine, session_factory
from ova.cloud.domain.operator_keys import ApiKeyAuthenticator
from ova.cloud.settings import Family

KEY_FORMAT = re.compile(r"ova_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")


@pytest.fixture(autouse=True)
def _no_ova_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("OVA_"):
            monkeypatch.delenv(key)


def parse(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(list(argv))


def run(*argv: str) -> int:
    """What ``main`` does, short of configuring this (the test) process's logging."""
    args = parse(*argv)
    return int(args.handler(args))


def test_listener_flags_override_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVA_LISTENERS", json.dumps([{"host": "127.0.0.2", "port": 9000}]))
    monkeypatch.setenv("OVA_DATA_DIR", str(tmp_path / "from-env"))

    settings = cli.settings_from(parse("cloud", "--port", "9100", "--data-dir", str(tmp_path / "flag")))

    [listener] = settings.listeners
    assert (listener.host, listener.port) == ("127.0.0.2", 9100)  # port from the flag, host from env
    assert listener.families == list(Family)
    assert settings.data_dir == tmp_path / "flag"


def test_without_flags_the_config_file_listeners_stand(tmp_path: Path) -> None:
    config = tmp_path / "ova.yaml"
    listeners = [{"port": 9001, "families": ["management"]}, {"port": 9002, "families": ["client"]}]
    config.write_text(yaml.safe_dump({"listeners": listeners}))

    settings = cli.settings_from(parse("cloud", "--config", str(config)))

    assert [item.port for item in settings.listeners] == [9001, 9002]
    with pytest.raises(SystemExit, match="single listener"):
        cli.settings_from(parse("cloud", "--config", str(config), "--port", "9100"))


def test_tls_flags_switch_the_listener_to_https(tmp_path: Path) -> None:
    args = parse(
        "cloud", "--port", "8443", "--tls-cert", str(tmp_path / "c.pem"), "--tls-key", str(tmp_path / "k.pem")
    )
    assert cli.settings_from(args).listeners[0].base_url() == "https://127.0.0.1:8443"


async def test_create_key_prints_the_key_last_and_stores_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = tmp_path / "data"

    # main() runs its own event loop: off this test's loop, in a thread.
    code = await asyncio.to_thread(run, "admin", "create-key", "--data-dir", str(data_dir))

    assert code == 0
    key = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
    assert KEY_FORMAT.fullmatch(key)
    engine = create_engine(f"sqlite+aiosqlite:///{data_dir / 'ova.db'}")
    try:
        authenticator = ApiKeyAuthenticator(session_factory(engine))
        assert await authenticator.authenticate(key) is not None
        assert await authenticator.authenticate(key[:-2] + "xx") is None
    finally:
        await engine.dispose()


def test_production_cloud_without_tls_on_a_public_host_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OVA_PROFILE", "production")
    data_dir = tmp_path / "data"

    code = run("cloud", "--data-dir", str(data_dir), "--host", "0.0.0.0", "--port", "18080")

    assert code == 2
    assert "production profile requires TLS" in capsys.readouterr().err
    assert not data_dir.exists()


def older_data_dir(path: Path) -> Path:
    """A data directory as versions before 0700/0600 left it: 0755, with ova.db 0644."""
    path.mkdir(mode=0o755)
    path.chmod(0o755)
    (path / "ova.db").write_bytes(b"")
    (path / "ova.db").chmod(0o644)
    return path


@pytest.mark.parametrize(
    "command",
    [
        ("cloud", "--port", "0"),
        ("demo", "--port", "0"),
        ("admin", "create-key"),
        ("record", "rtsp://127.0.0.1:1/cam", "--account", "/subscriptions/s", "--video", "v"),
    ],
    ids=lambda command: command[0] if command[0] != "admin" else "admin",
)
def test_a_data_dir_others_can_read_is_refused_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    data_dir = older_data_dir(tmp_path / "data")

    sigterm = signal.getsignal(signal.SIGTERM)  # ova demo takes SIGTERM over
    try:
        code = run(*command, "--data-dir", str(data_dir))
    finally:
        signal.signal(signal.SIGTERM, sigterm)

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"{data_dir} (mode 0755)" in err
    assert err.rstrip().endswith(f"fix with: chmod 700 {data_dir} && chmod 600 {data_dir / 'ova.db'}")
    assert (data_dir / "ova.db").read_bytes() == b""  # nothing was written


async def test_keys_are_listed_by_id_and_revoked_by_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = str(tmp_path / "data")
    assert await asyncio.to_thread(run, "admin", "create-key", "--data-dir", data_dir, "--label", "ci") == 0
    key = capsys.readouterr().out.splitlines()[-1]
    key_id = key.split("_")[1]

    assert await asyncio.to_thread(run, "admin", "list-keys", "--data-dir", data_dir) == 0
    listed = capsys.readouterr().out
    assert re.search(rf"^{key_id} +ci +\S+ +-$", listed, re.M) and key not in listed
    assert await asyncio.to_thread(run, "admin", "revoke-key", key_id, "--data-dir", data_dir) == 0
    assert await asyncio.to_thread(run, "admin", "revoke-key", key_id, "--data-dir", data_dir) == 1

    engine = create_engine(f"sqlite+aiosqlite:///{Path(data_dir) / 'ova.db'}")
    try:
        assert await ApiKeyAuthenticator(session_factory(engine)).authenticate(key) is None
    finally:
        await engine.dispose()
