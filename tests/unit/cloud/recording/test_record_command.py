"""``ova record``: a camera URL naming no RTSP server, or a bad camera network, ends it with exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ova import cli
from ova.cloud.settings import load_settings
from ova.media.camera_networks import DEFAULT_CAMERA_NETWORKS

ACCOUNT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Media/videoAnalyzers/acct"


def record(tmp_path: Path, *argv: str) -> int:
    args = cli.build_parser().parse_args(
        ["record", *argv, "--account", ACCOUNT, "--video", "v", "--data-dir", str(tmp_path / "data")]
    )
    return int(args.handler(args))


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["file:///etc/passwd"], "the camera URL must be an rtsp:// or rtsps:// URL"),
        (["http://127.0.0.1:8080/admin"], "the camera URL must be an rtsp:// or rtsps:// URL"),
        (["rtsp:///no-host"], "the camera URL has no host"),
        (["rtsp://127.0.0.1/x", "--camera-network", "10.0.0.0/33"], "--camera-network: '10.0.0.0/33' is not"),
    ],
    ids=["file", "http", "no-host", "bad-cidr"],
)
def test_a_refused_camera_ends_the_command_before_it_touches_the_deployment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    assert record(tmp_path, *argv) == 2

    err = capsys.readouterr().err
    assert err.startswith(f"ova record: {says}") and "Traceback" not in err
    assert "/etc/passwd" not in err
    assert not (tmp_path / "data").exists()


def test_camera_networks_come_from_the_settings_and_a_bad_one_stops_start_up(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path).recording.camera_networks == list(DEFAULT_CAMERA_NETWORKS)
    with pytest.raises(ValidationError, match="'fe80::/300' is not a network"):
        load_settings(data_dir=tmp_path, recording={"camera_networks": ["10.0.0.0/8", "fe80::/300"]})
