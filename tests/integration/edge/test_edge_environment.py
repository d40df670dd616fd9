"""The module under Azure IoT Edge: identity from ``IOTEDGE_*``, tokens signed and the edge hub's CA
handed out by the workload API (a stand-in daemon on a unix socket), then a TLS connection to the
"edge hub" (Mosquitto) that trusts only that bundle."""

from __future__ import annotations

from pathlib import Path

import pytest
from edge_broker import mosquitto

from ova.auth import iot_sas
from ova.edge.iothub.client import ClientOptions, ModuleClient
from ova.edge.iothub.connection import open_client
from ova.edge.iothub.edge_environment import EdgeEnvironment, EdgeEnvironmentError, WorkloadClient
from ova.edge.iothub.endpoint import tls_context
from ova.edge.settings import EdgeSettings
from support.tls import write_tls_files
from support.workload_daemon import workload_daemon

KEY = iot_sas.new_key()


async def test_workload_api_signs_and_hands_out_the_trust_bundle(tmp_path: Path) -> None:
    files = write_tls_files(tmp_path)
    bundle = files.ca_cert.read_text()
    async with workload_daemon(
        tmp_path, module_id="avaedge", generation_id="g1", key_b64=KEY, trust_bundle=bundle
    ) as daemon:
        environment = EdgeEnvironment.detect(daemon.environment("hub.azure-devices.net", "edgehub", "dev1"))
        assert environment is not None
        workload = WorkloadClient(environment)
        resource = "hub.azure-devices.net/devices/dev1/modules/avaedge"
        token = await workload.token(resource, 1_900_000_000)
        assert token == iot_sas.sign(resource, KEY, 1_900_000_000)
        assert await workload.trust_bundle() == bundle
        method, path, query, _ = daemon.requests[0]
        assert (method, path, query) == (
            "POST",
            "/modules/avaedge/genid/g1/sign",
            {"api-version": "2019-01-30"},
        )


async def test_module_connects_through_the_edge_hub(tmp_path: Path) -> None:
    files = write_tls_files(tmp_path)
    tls = (files.ca_cert, files.server_cert, files.server_key)
    with mosquitto(tmp_path, tls=tls) as broker:
        async with workload_daemon(
            tmp_path,
            module_id="avaedge",
            generation_id="g1",
            key_b64=KEY,
            trust_bundle=files.ca_cert.read_text(),
        ) as daemon:
            environ = daemon.environment("myhub.azure-devices.net", f"127.0.0.1:{broker.port}", "dev1")
            environment = EdgeEnvironment.detect(environ)
            assert environment is not None
            endpoint = environment.endpoint()
            assert (endpoint.connect_host, endpoint.port) == ("127.0.0.1", broker.port)
            assert endpoint.sas_resource == "myhub.azure-devices.net/devices/dev1/modules/avaedge"
            workload = WorkloadClient(environment)
            client = ModuleClient(
                endpoint,
                workload,
                tls_context(ca_pem=await workload.trust_bundle()),
                ClientOptions(backoff_initial_s=0.05, connect_timeout_s=5),
            )
            try:
                assert await client.start(wait_s=5)
            finally:
                await client.stop()
    assert "u'myhub.azure-devices.net/dev1/avaedge/?api-version=" in broker.log.read_text()


async def test_unreachable_workload_api_is_one_clear_error(tmp_path: Path) -> None:
    environ = {
        "IOTEDGE_IOTHUBHOSTNAME": "h",
        "IOTEDGE_GATEWAYHOSTNAME": "g",
        "IOTEDGE_DEVICEID": "d",
        "IOTEDGE_MODULEID": "m",
        "IOTEDGE_MODULEGENERATIONID": "1",
        "IOTEDGE_WORKLOADURI": f"unix://{tmp_path}/missing.sock",
        "IOTEDGE_APIVERSION": "2019-01-30",
    }
    environment = EdgeEnvironment.detect(environ)
    assert environment is not None
    with pytest.raises(EdgeEnvironmentError, match="unreachable"):
        await WorkloadClient(environment).trust_bundle()


async def test_without_a_connection_string_the_module_uses_the_edge_environment(tmp_path: Path) -> None:
    files = write_tls_files(tmp_path)
    with mosquitto(tmp_path, tls=(files.ca_cert, files.server_cert, files.server_key)) as broker:
        async with workload_daemon(
            tmp_path,
            module_id="avaedge",
            generation_id="g7",
            key_b64=KEY,
            trust_bundle=files.ca_cert.read_text(),
        ) as daemon:
            environ = daemon.environment("myhub.azure-devices.net", f"127.0.0.1:{broker.port}", "dev1")
            client = await open_client(EdgeSettings(), environ)  # TLS trusting the workload's bundle
            try:
                assert await client.start(wait_s=5)
            finally:
                await client.stop()
    assert [path for _, path, _, _ in daemon.requests] == ["/trust-bundle", "/modules/avaedge/genid/g7/sign"]
