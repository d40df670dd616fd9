"""``ova demo``: the cloud service on embedded defaults, with an operator key and a demo account.

Later capabilities extend it with a simulated camera, a recording and a player URL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from ova.cloud.domain import accounts
from ova.cloud.domain.arm import API_VERSION, AccountScope, Principal
from ova.cloud.domain.operator_keys import create_key
from ova.cloud.runtime import Cloud, build
from ova.cloud.settings import CloudSettings, Family

DEMO_SCOPE = AccountScope("00000000-0000-0000-0000-000000000000", "demo", "demo")


async def provision(cloud: Cloud) -> dict[str, Any]:
    """Create (or reuse) the demo account and a fresh operator key; describe them for scripts."""
    services = cloud.services
    async with services.sessions.begin() as session:
        key = await create_key(session, services.clock, "demo")
        account = await accounts.find(session, DEMO_SCOPE)
        if account is None:
            account, _ = await accounts.put(
                services, session, DEMO_SCOPE, {"location": "local"}, Principal("demo")
            )
        rendered = accounts.render(services, account)
    listener = cloud.settings.listener_for(Family.MANAGEMENT)
    base = listener.base_url() if listener else ""
    ca_cert = str(listener.tls_cert) if listener and listener.tls else None
    return {
        "managementUrl": base,
        "operatorKey": key,
        "caCert": ca_cert,
        "account": rendered["id"],
        "clientApiUrl": rendered["properties"]["endpoints"][0]["endpointUrl"]
        if rendered["properties"]["endpoints"]
        else None,
    }


def print_summary(info: dict[str, Any]) -> None:
    account_url = f"{info['managementUrl']}{info['account']}?api-version={API_VERSION}"
    print("Open Video Analyzer demo is running.")
    base = info["managementUrl"]
    print(f"  management API : {base}/subscriptions/...  (OpenAPI: {base}/openapi/management.json)")
    print(f"  demo account   : {info['account']}")
    print(f"  client API     : {info['clientApiUrl']}")
    print(f"  metrics        : {info['managementUrl']}/metrics")
    print(f"  operator key   : {info['operatorKey']}")
    print("Try:")
    print(f"  curl -H 'Authorization: Bearer {info['operatorKey']}' '{account_url}'")
    print("Stop with Ctrl-C.", flush=True)


async def _demo(settings: CloudSettings) -> None:
    from ova.cloud.server import serve

    cloud = await build(settings)
    info = await provision(cloud)
    (settings.data_dir / "demo.json").write_text(json.dumps(info, indent=2) + "\n")
    print_summary(info)
    await serve(cloud)


def run_demo(args: argparse.Namespace) -> int:
    from ova.cli import settings_from

    if args.data_dir is None:
        args.data_dir = Path("data/demo")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_demo(settings_from(args)))
    return 0
