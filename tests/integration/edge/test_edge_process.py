"""``ova edge`` as a process: connects to its hub (Mosquitto, the test answering the twin), serves
metrics, and stops gracefully on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
from edge_broker import hub_side, mosquitto

from ova.auth import iot_sas

KEY = iot_sas.new_key()


async def read_line_with(stream: asyncio.StreamReader, needle: str, timeout_s: float = 20) -> str:
    async with asyncio.timeout(timeout_s):
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"the process ended before printing {needle!r}")
            if needle in line:
                return line


async def test_sigterm_stops_the_module_gracefully(tmp_path: Path) -> None:
    with mosquitto(tmp_path) as broker:
        async with hub_side(broker.port, ["$iothub/twin/GET/#"]) as hub:
            env = {
                **os.environ,
                "OVA_EDGE_CONNECTION_STRING": f"HostName=127.0.0.1:{broker.port};DeviceId=box;"
                f"ModuleId=avaedge;SharedAccessKey={KEY}",
                "OVA_EDGE_HUB__TLS": "false",
                "OVA_EDGE_METRICS_PORT": "0",
                "OVA_EDGE_DATA_DIR": str(tmp_path / "edge"),
            }
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "ova.cli",
                "edge",
                env=env,
                cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            assert process.stdout is not None
            try:
                topic, _ = await hub.next_message("$iothub/twin/GET/", timeout_s=20)
                hub.publish(
                    f"$iothub/twin/res/200/?$rid={topic.rpartition('=')[2]}", {"desired": {}, "reported": {}}
                )
                line = await read_line_with(process.stdout, "metrics at ")
                url = line.split("metrics at ", 1)[1].strip()
                async with httpx.AsyncClient() as client:
                    assert "va_active_live_pipelines" in (await client.get(url)).text
                process.send_signal(signal.SIGTERM)
                rest = (await asyncio.wait_for(process.stdout.read(), 20)).decode()
                assert await asyncio.wait_for(process.wait(), 20) == 0
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    assert "ova edge: stopping" in rest
    assert KEY not in rest


async def test_sigterm_while_waiting_for_the_hub(tmp_path: Path) -> None:
    with mosquitto(tmp_path) as broker:  # connects, but nobody answers the twin request
        env = {
            **os.environ,
            "OVA_EDGE_CONNECTION_STRING": f"HostName=127.0.0.1:{broker.port};DeviceId=box;"
            f"ModuleId=avaedge;SharedAccessKey={KEY}",
            "OVA_EDGE_HUB__TLS": "false",
            "OVA_EDGE_METRICS_PORT": "0",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "ova.cli",
            "edge",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            async with asyncio.timeout(20):
                while "as box/avaedge" not in broker.log.read_text():  # noqa: ASYNC110 (bounded poll)
                    await asyncio.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 20) == 0
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
