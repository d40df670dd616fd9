"""No module key, provisioning token, SAS signature or telemetry key reaches the log or an error answer."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from support.edge_api_client import Edge


async def test_secrets_stay_out_of_logs_and_errors(edge: Edge, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = await edge.token()
    instance_answer = await edge.provision(token)
    key = instance_answer.json()["moduleKey"]["key"]
    psk = instance_answer.json()["policy"]["telemetry"]["key"]
    replay = await edge.provision(token, "instance-0002")
    instance = await edge.instance("edge2")
    sas = (await instance.publish("lobby")).json()["containerSasUrl"]
    signature = parse_qs(urlsplit(sas).query)["sig"][0]
    refused = await instance.call("GET", "/v1/policy", key=key)
    wrong_psk = await edge.client.post(
        "/telemetry/v1/reports", json={}, headers={"Authorization": f"Bearer {psk}x"}
    )

    for secret in (token, key, psk, signature, instance.key):
        assert secret not in caplog.text
        for answer in (replay, refused, wrong_psk):
            assert secret not in answer.text
