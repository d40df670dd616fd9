"""Writes the OpenAPI document of every endpoint family: ``python -m ova.cloud.openapi docs/openapi``.

The committed copies under ``docs/openapi/`` are checked against these by the test suite.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from ova.cloud.runtime import build
from ova.cloud.settings import CloudSettings


async def documents() -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="ova-openapi-") as data_dir:
        cloud = await build(CloudSettings(data_dir=Path(data_dir)))
        try:
            return {family.value: app.openapi() for family, app in cloud.apps.items()}
        finally:
            await cloud.close()


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    target = Path(argv[0] if argv else "docs/openapi")
    target.mkdir(parents=True, exist_ok=True)
    for family, document in asyncio.run(documents()).items():
        (target / f"{family}.json").write_text(render(document))
        print(f"wrote {target / f'{family}.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
