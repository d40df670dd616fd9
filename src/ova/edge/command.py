"""``ova edge``: its flags and entry point.

``ova edge [--connection-string CS] [--ca-file F] [--data-dir D] [--metrics-port P] [--config FILE]``.
Without ``--connection-string`` the module reads ``OVA_EDGE_CONNECTION_STRING``, else the IoT
Edge environment (``IOTEDGE_*``). Bad input exits 2 with one line on stderr (never the key);
SIGTERM or SIGINT stop the module gracefully (pipelines stop, queued events are sent).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError

EXIT_BAD_INPUT = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--connection-string",
        metavar="CS",
        help="The module's IoT Hub connection string (default: OVA_EDGE_CONNECTION_STRING, else the IoT Edge "
        "environment). Prefer the environment variable: command lines are visible to other users.",
    )
    parser.add_argument(
        "--ca-file", type=Path, help="PEM CA certificates that verify the hub (default: system)."
    )
    parser.add_argument(
        "--data-dir", type=Path, help="Data directory when the twin sets no ApplicationDataDirectory."
    )
    parser.add_argument(
        "--metrics-port", type=int, help="Prometheus /metrics port (default 9600; 0 = any free)."
    )
    parser.add_argument("--config", type=Path, help="YAML config file (see config/ova-edge.example.yaml).")


def _validation_line(error: ValidationError) -> str:
    """The errors' locations and messages, never the values (a connection string holds a key)."""
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or 'settings'}: {item['msg']}"
        for item in error.errors()
    ]
    return "; ".join(problems)


def run(args: argparse.Namespace) -> int:
    from ova.edge.iothub.connection import HubConfigurationError
    from ova.edge.iothub.edge_environment import EdgeEnvironmentError
    from ova.edge.settings import load_settings

    overrides = {
        "connection_string": SecretStr(args.connection_string) if args.connection_string else None,
        "ca_file": args.ca_file,
        "data_dir": args.data_dir,
        "metrics_port": args.metrics_port,
    }
    try:
        settings = load_settings(args.config, **overrides)
        if settings.ca_file is not None and not settings.ca_file.is_file():
            raise FileNotFoundError(f"CA file not found: {settings.ca_file}")
        return asyncio.run(_serve(settings))
    except ValidationError as error:
        return _bad_input(_validation_line(error))
    except (FileNotFoundError, HubConfigurationError, EdgeEnvironmentError) as error:
        return _bad_input(str(error))


def _bad_input(line: str) -> int:
    print(f"ova edge: {line}", file=sys.stderr)
    return EXIT_BAD_INPUT


async def _started(module: Any, stop: asyncio.Event) -> bool:
    """Start ``module`` unless ``stop`` is set first (start-up waits for the hub for ever)."""
    starting = asyncio.ensure_future(module.start())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if not starting.done():
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        return False
    starting.result()  # a configuration error propagates
    return True


async def _serve(settings: object) -> int:
    from ova.edge.runtime import EdgeModule
    from ova.edge.settings import EdgeSettings

    assert isinstance(settings, EdgeSettings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    module = EdgeModule(settings, environ=dict(os.environ))
    try:
        if not await _started(module, stop):
            return 0  # stopped while still waiting for the hub
        client = module.client
        assert client is not None
        print(f"ova edge: module {client.endpoint.client_id} of {client.endpoint.host_name}", flush=True)
        if module.metrics_server is not None:
            print(
                f"ova edge: metrics at http://{settings.metrics_host}:{module.metrics_server.port}/metrics",
                flush=True,
            )
        await stop.wait()
        print("ova edge: stopping", flush=True)
    finally:
        await module.stop()
    return 0
