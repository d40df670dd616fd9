"""The ``ova`` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ova.cloud.settings import CloudSettings, ListenerSettings, load_settings
from ova.common.logging import configure as configure_logging

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


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
    from ova.common.errors import OvaError

    try:
        asyncio.run(_run_cloud(settings_from(args)))
    except (UnsafeConfiguration, OvaError) as exc:
        print(f"ova cloud: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


async def _in_store(settings: CloudSettings, action: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``action`` in one transaction on the deployment's store (checked and migrated first)."""
    from ova.cloud.db.engine import create_engine, session_factory
    from ova.cloud.runtime import prepare_store

    await prepare_store(settings)
    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine).begin() as session:
            return await action(session)
    finally:
        await engine.dispose()


def _admin(args: argparse.Namespace, action: Callable[[AsyncSession], Awaitable[T]]) -> T | None:
    from ova.common.errors import OvaError

    try:
        return asyncio.run(_in_store(load_settings(args.config, data_dir=args.data_dir), action))
    except OvaError as error:
        print(f"ova admin: {error.message}", file=sys.stderr)
        return None


def cmd_create_key(args: argparse.Namespace) -> int:
    from ova.cloud.domain.operator_keys import create_key
    from ova.common.clock import SystemClock

    key = _admin(args, lambda session: create_key(session, SystemClock(), args.label))
    if key is None:
        return 2
    print(
        "Created an operator API key; it is shown once, so store it now.\n"
        "Use it as 'Authorization: Bearer <key>'."
    )
    print(key)
    return 0


def cmd_list_keys(args: argparse.Namespace) -> int:
    from ova.cloud.domain.operator_keys import list_keys

    rows = _admin(args, list_keys)
    if rows is None:
        return 2
    print("ID                LABEL             CREATED                    REVOKED")
    for row in rows:
        revoked = row.revoked_at.isoformat(timespec="seconds") if row.revoked_at else "-"
        print(f"{row.id:<17} {row.label:<17} {row.created_at.isoformat(timespec='seconds'):<26} {revoked}")
    return 0


def cmd_revoke_key(args: argparse.Namespace) -> int:
    from ova.cloud.domain.operator_keys import revoke_key
    from ova.common.clock import SystemClock

    revoked = _admin(args, lambda session: revoke_key(session, SystemClock(), args.key_id))
    if revoked is None:
        return 2
    if not revoked:
        print(f"ova admin: no live key with id {args.key_id!r}", file=sys.stderr)
        return 1
    print(f"revoked key {args.key_id}")
    return 0


def cmd_hub_policy(args: argparse.Namespace) -> int:
    from ova.cloud.runtime import create_hub_policy
    from ova.common.errors import OvaError

    settings = load_settings(args.config, data_dir=args.data_dir)
    try:
        connection_string = asyncio.run(create_hub_policy(settings, args.name, args.rights))
    except OvaError as error:
        print(f"ova admin: {error.message}", file=sys.stderr)
        return 2
    print("Created a hub access policy; its connection string is shown once, so store it now.")
    print(connection_string)
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    from ova.cloud.recording.command import record
    from ova.common.errors import OvaError

    settings = load_settings(args.config, data_dir=args.data_dir)
    try:
        status = asyncio.run(
            record(
                settings,
                args.url,
                args.account,
                args.video,
                args.seconds,
                args.segment_seconds,
                args.camera_network,
            )
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


def cmd_edge(args: argparse.Namespace) -> int:
    from ova.edge.command import run

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
    list_keys = admin_commands.add_parser("list-keys", help="List operator API keys (ids, never secrets).")
    revoke_key = admin_commands.add_parser("revoke-key", help="Revoke an operator API key by its id.")
    revoke_key.add_argument("key_id", help="The key's id (the 16 hex digits after 'ova_'; see list-keys).")
    hub_policy = admin_commands.add_parser(
        "hub-policy", help="Create a hub access policy; prints its service connection string once."
    )
    hub_policy.add_argument("name", help="Policy name (SharedAccessKeyName), e.g. iothubowner.")
    hub_policy.add_argument(
        "--rights",
        default="registryRead,registryWrite,serviceConnect",
        help="Comma-separated rights: registryRead, registryWrite, serviceConnect (default: all).",
    )
    for command, handler in (
        (list_keys, cmd_list_keys),
        (revoke_key, cmd_revoke_key),
        (hub_policy, cmd_hub_policy),
    ):
        command.add_argument("--config", type=Path, help="YAML config file.")
        command.add_argument("--data-dir", type=Path, help="Data directory of the deployment.")
        command.set_defaults(handler=handler)
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
    record.add_argument(
        "--camera-network",
        action="append",
        metavar="CIDR",
        help="A network the camera may be on (repeatable; default: recording.camera_networks of the "
        "settings: loopback and the private ranges).",
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
    from ova.edge.command import add_arguments as add_edge_arguments

    edge = commands.add_parser("edge", help="Run the edge module (connects to an IoT Hub or an ova hub).")
    add_edge_arguments(edge)
    edge.set_defaults(handler=cmd_edge)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    args = build_parser().parse_args(argv)
    handler: Any = args.handler
    return int(handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
