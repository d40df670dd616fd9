"""``ova camera`` flags become the settings the server runs with; bad flags exit with code 2."""

from __future__ import annotations

import argparse

import pytest

from ova import cli
from ova.camera.command import PASSWORD_ENVIRONMENT, settings_from


def parse(*argv: str) -> argparse.Namespace:
    return cli.build_parser().parse_args(["camera", *argv])


def test_defaults_serve_one_720p30_mount() -> None:
    settings = settings_from(parse())
    assert settings.mounts == ("cam",)
    assert (settings.host, settings.port) == ("127.0.0.1", 8554)
    video = settings.video
    assert (video.width, video.height, video.fps, video.bitrate_kbps, video.gop) == (1280, 720, 30, 2000, 30)
    assert settings.loop_key is None and settings.audio_format is None


def test_audio_flag_takes_an_optional_codec() -> None:
    assert settings_from(parse("--audio")).audio_format == settings_from(parse("--audio", "aac")).audio_format
    aac = settings_from(parse("--audio")).audio_format
    pcmu = settings_from(parse("--audio", "pcmu")).audio_format
    assert aac is not None and (aac.codec, aac.sample_rate) == ("aac", 48_000)
    assert pcmu is not None and (pcmu.codec, pcmu.sample_rate) == ("pcmu", 8000)
    with pytest.raises(SystemExit):
        parse("--audio", "opus")


def test_mount_flags() -> None:
    assert settings_from(parse("--mounts", "3")).mounts == ("cam", "cam2", "cam3")
    assert settings_from(parse("--mount", "front", "--mount", "back")).mounts == ("front", "back")
    with pytest.raises(SystemExit):
        settings_from(parse("--mounts", "2", "--mount", "x"))


def test_loop_and_video_flags() -> None:
    settings = settings_from(
        parse(
            "--width",
            "1920",
            "--height",
            "1080",
            "--bitrate-kbps",
            "4000",
            "--gop",
            "60",
            "--loop-seconds",
            "10",
        )
    )
    assert settings.loop_key is not None
    assert settings.loop_key.frame_count == 300
    assert (settings.video.gop, settings.video.bitrate_kbps) == (60, 4000)


def test_password_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENVIRONMENT, "from-env")
    settings = settings_from(parse("--username", "admin"))
    assert (settings.username, settings.password) == ("admin", "from-env")
    assert "from-env" not in repr(settings)


@pytest.mark.parametrize(
    "argv",
    [
        ("--width", "641"),
        ("--mount", "../x"),
        ("--fps", "0"),
        ("--password", "only-password"),
        ("--mtu", "20"),
    ],
)
def test_bad_flags_exit_with_code_2(argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["camera", *argv]) == 2
    error = capsys.readouterr().err
    assert error.startswith("ova camera: ")
    assert "only-password" not in error
