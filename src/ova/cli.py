"""The ``ova`` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ova.cloud.settings import CloudSettings, ListenerSettings, load_settings
from ova.common.logging import configure as configure_logging


def _add_cloud_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="YAML config file (see config/ova-cloud.example.yaml).")
    parser.add_argument("--data-dir", type=Path, help="Data directory (default: ./data).")
    parser.add_argument("--host", help="Address of the single listener (default 127.0.0.1).")
    parser.add_argument("--port", type=int, help="Port of the single listener (default 8080).")
    parser.add_argument("--tls-cert", type=Path, help="PEM certificate chain for the single listener.")
    parser.add_argument("--tls-key", type=Path, help="PEM private key for --tls-cert.")


def settings_from(args: argparse.Namespace) -> CloudSettings:
    settings = load_settings(args.config, data_dir=args.data_dir)
    flags = {"host": args.host, "port": args.port, "tls_cert": args.tls_cert, "tls_key": args.tls_key}
    given = {key: value for key, value in flags.items() if value is not None}
    if not given:
        return settings
    if len(settings.listeners) != 1:
        raise SystemExit(
            "--host, --port and --tls-* apply to a single listener; set per-family listeners in --config."
        )
    listener = ListenerSettings(**{**settings.listeners[0].model_dump(), **given})
    return settings.model_copy(update={"listeners": [listener]})


async def _run_cloud(settings: CloudSettings) -> None:
    from ova.cloud.runtime import build
    from ova.cloud.server import check_profile, serve

    check_profile(settings)
    cloud = await build(settings)
    for listener, _ in cloud.listeners:
        families = ", ".join(family.value for family in listener.families)
        print(f"ova cloud: {listener.base_url()} serves {families}", flush=True)
    await serve(cloud)


def cmd_cloud(args: argparse.Namespace) -> int:
    from ova.cloud.server import UnsafeConfiguration

    try:
        asyncio.run(_run_cloud(settings_from(args)))
    except UnsafeConfiguration as exc:
        print(f"ova cloud: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


async def _create_key(settings: CloudSettings, label: str) -> str:
    from ova.cloud.db.engine import create_engine, session_factory
    from ova.cloud.domain.operator_keys import create_key
    from ova.cloud.runtime import prepare_store
    from ova.common.clock import SystemClock

    await prepare_store(settings)
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine).begin() as session:
            return await create_key(session, SystemClock(), label)
    finally:
        await engine.dispose()


def cmd_create_key(args: argparse.Namespace) -> int:
    settings = load_settings(args.config, data_dir=args.data_dir)
    key = asyncio.run(_create_key(settings, args.label))
    print(
        "Created an operator API key; it is shown once, so store it now.\n"
        "Use it as 'Authorization: Bearer <key>'."
    )
    print(key)
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from ova.cloud.recording.command import record
    from ova.common.errors import OvaError

    settings = load_settings(args.config, data_dir=args.data_dir)
    try:
        status = asyncio.run(
            record(settings, args.url, args.account, args.video, args.seconds, args.segment_seconds)
        )
    except OvaError as error:
        print(f"ova record: {error.message}", file=sys.stderr)
        return 2
    print(f"recorded {status.segments} segments ({status.bytes} bytes) into video '{args.video}'")
    if status.last_error:
        print(f"last camera error: {status.last_error}")
    return 0 if status.segments else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from ova.demo import run_demo

    return run_demo(args)


def cmd_camera(args: argparse.Namespace) -> int:
    from ova.camera.command import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ova", description="Open Video Analyzer")
    commands = parser.add_subparsers(dest="command", required=True)
    cloud = commands.add_parser(
        "cloud", help="Run the cloud service (management, client, streaming... APIs)."
    )
    _add_cloud_options(cloud)
    cloud.set_defaults(handler=cmd_cloud)
    admin = commands.add_parser("admin", help="Administer a deployment.")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    create_key = admin_commands.add_parser("create-key", help="Create an operator API key (printed once).")
    create_key.add_argument("--config", type=Path, help="YAML config file.")
    create_key.add_argument("--data-dir", type=Path, help="Data directory of the deployment.")
    create_key.add_argument("--label", default="operator", help="A name for the key, shown in systemData.")
    create_key.set_defaults(handler=cmd_create_key)
    record = commands.add_parser("record", help="Record a camera into a video of a deployment.")
    record.add_argument("url", help="Camera URL, e.g. rtsp://user:password@camera:554/stream.")
    record.add_argument("--config", type=Path, help="YAML config file of the deployment.")
    record.add_argument("--data-dir", type=Path, help="Data directory of the deployment.")
    record.add_argument(
        "--account", required=True, help="The account's ARM id (/subscriptions/.../videoAnalyzers/NAME)."
    )
    record.add_argument("--video", required=True, help="Video name; created when it does not exist.")
    record.add_argument("--seconds", type=float, help="Stop after this long (default: until Ctrl-C).")
    record.add_argument(
        "--segment-seconds", type=float, help="Segment length (default: the video's segmentLength, PT30S)."
    )
    record.set_defaults(handler=cmd_record)
    demo = commands.add_parser("demo", help="Run everything on embedded defaults and print where to look.")
    _add_cloud_options(demo)
    demo.set_defaults(handler=cmd_demo)
    from ova.camera.command import add_arguments as add_camera_arguments

    camera = commands.add_parser(
        "camera", help="Run the RTSP camera simulator (H.264 test picture with a clock)."
    )
    add_camera_arguments(camera)
    camera.set_defaults(handler=cmd_camera)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    handler: Any = args.handler
    return int(handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
