"""``ova camera``: its flags and entry point. Importing this module is cheap (no PyAV)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ova.camera.settings import CameraSettings

PASSWORD_ENVIRONMENT = "OVA_CAMERA_PASSWORD"  # noqa: S105 - a variable name, not a secret


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
    parser.add_argument("--port", type=int, default=8554, help="TCP port (default 8554; 0 = any free).")
    parser.add_argument("--mounts", type=int, metavar="N", help="Serve N mounts: cam, cam2, ... camN.")
    parser.add_argument("--mount", action="append", metavar="NAME", help="Serve this mount (repeatable).")
    parser.add_argument("--width", type=int, default=1280, help="Frame width (default 1280).")
    parser.add_argument("--height", type=int, default=720, help="Frame height (default 720).")
    parser.add_argument("--fps", type=int, default=30, help="Frames per second (default 30).")
    parser.add_argument("--bitrate-kbps", type=int, default=2000, help="Video bitrate (default 2000).")
    parser.add_argument("--gop", type=int, help="Frames per GOP (default: one second of frames).")
    parser.add_argument("--noise", type=int, default=4, help="Background noise amplitude (default 4).")
    parser.add_argument(
        "--audio",
        nargs="?",
        const="aac",
        choices=["aac", "pcmu", "pcma"],
        help="Add an audio track, a 1 kHz beep each second: AAC (the default), or G.711 pcmu/pcma.",
    )
    parser.add_argument("--username", help="Require RTSP authentication with this user name.")
    parser.add_argument(
        "--password", help=f"Password for --username (or set {PASSWORD_ENVIRONMENT}, kept out of ps)."
    )
    parser.add_argument(
        "--auth",
        choices=["any", "basic", "digest"],
        default="any",
        help="Auth schemes offered (default any).",
    )
    parser.add_argument(
        "--loop-seconds", type=float, help="Pre-encode this many seconds once and replay them (benchmarks)."
    )
    parser.add_argument("--mtu", type=int, default=1400, help="Largest RTP packet in bytes (default 1400).")
    parser.add_argument(
        "--session-timeout", type=int, default=60, help="Seconds before an idle client is cut (default 60)."
    )
    parser.add_argument("--max-connections", type=int, default=256, help="RTSP connections (default 256).")


def settings_from(args: argparse.Namespace) -> CameraSettings:
    """The ``CameraSettings`` the flags describe (``pydantic.ValidationError`` when they are wrong)."""
    from ova.camera.settings import CameraSettings, mount_names

    if args.mounts is not None and args.mount:
        raise SystemExit("ova camera: use --mounts N or --mount NAME, not both")
    mounts = tuple(args.mount) if args.mount else mount_names(args.mounts if args.mounts is not None else 1)
    password = args.password
    if args.username is not None and password is None:
        password = os.environ.get(PASSWORD_ENVIRONMENT)
    return CameraSettings(
        host=args.host,
        port=args.port,
        mounts=mounts,
        width=args.width,
        height=args.height,
        fps=args.fps,
        bitrate_kbps=args.bitrate_kbps,
        gop=args.gop,
        noise=args.noise,
        audio=args.audio is not None,
        audio_codec=args.audio or "aac",
        username=args.username,
        password=password,
        auth_scheme=args.auth,
        loop_seconds=args.loop_seconds,
        mtu=args.mtu,
        session_timeout_s=args.session_timeout,
        max_connections=args.max_connections,
    )


def run(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from ova.camera.server import run_camera

    try:
        settings = settings_from(args)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        print(f"ova camera: {problems}", file=sys.stderr)
        return 2
    return asyncio.run(run_camera(settings))
