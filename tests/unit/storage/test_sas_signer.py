"""SasSigner: Azure's service-SAS format, checked against azure-storage-blob, and strict verification."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest
from azure.storage.blob import generate_blob_sas, generate_container_sas
from azure.storage.blob._shared.constants import X_MS_VERSION

from ova.common.clock import FrozenClock
from ova.storage import sas
from ova.storage.errors import SasDenied
from ova.storage.sas import Operation, SasSigner

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
BLOB = "segments/2030/01/01/12/1893499200000-1.m4s"


@pytest.fixture
def signer() -> SasSigner:
    return SasSigner.from_base64(ACCOUNT, KEY, clock=FrozenClock(NOW))


def fields(query: str) -> dict[str, str]:
    return dict(parse_qsl(query))


@pytest.mark.parametrize(("blob", "permissions"), [(None, "rcwl"), (BLOB, "r"), (None, "c"), (BLOB, "racwd")])
def test_signatures_equal_the_azure_sdk(
    signer: SasSigner, monkeypatch: pytest.MonkeyPatch, blob: str | None, permissions: str
) -> None:
    monkeypatch.setattr(sas, "SIGNED_VERSION", X_MS_VERSION)
    expiry = NOW + timedelta(hours=1)
    ours = fields(signer.sign("videos", blob, permissions, expiry))
    options = {"account_key": KEY, "permission": permissions, "expiry": expiry}
    options |= {"start": NOW - timedelta(minutes=15), "protocol": "https"}
    if blob is None:
        theirs = fields(generate_container_sas(ACCOUNT, "videos", **options))  # type: ignore[arg-type]
    else:
        theirs = fields(generate_blob_sas(ACCOUNT, "videos", blob, **options))  # type: ignore[arg-type]
    assert ours == theirs


def test_string_to_sign_equals_the_azure_sdk() -> None:
    seen: list[str] = []
    expiry = NOW + timedelta(hours=1)
    query = generate_blob_sas(
        ACCOUNT,
        "videos",
        BLOB,
        account_key=KEY,
        permission="r",
        expiry=expiry,
        protocol="https",
        sts_hook=seen.append,
    )
    assert sas.string_to_sign(ACCOUNT, "videos", BLOB, fields(query)) == seen[0]


def test_sdk_made_sas_verify(signer: SasSigner) -> None:
    expiry = NOW + timedelta(hours=1)
    query = generate_container_sas(
        ACCOUNT, "videos", account_key=KEY, permission="rl", expiry=expiry, protocol="https"
    )
    assert fields(query)["sv"] == X_MS_VERSION
    signer.verify(parse_qsl(query), "videos", BLOB, Operation.READ, NOW, "https")
    signer.verify(parse_qsl(query), "videos", None, Operation.LIST, NOW, "https")


@pytest.mark.parametrize("version", ["2020-12-06", "2025-11-05", X_MS_VERSION])
def test_every_accepted_version_verifies(
    signer: SasSigner, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    monkeypatch.setattr(sas, "SIGNED_VERSION", version)
    query = parse_qsl(signer.sign("videos", BLOB, "r", NOW + timedelta(hours=1)))
    signer.verify(query, "videos", BLOB, Operation.READ, NOW, "https")


@pytest.mark.parametrize(
    ("permissions", "operation", "allowed"),
    [
        ("r", Operation.READ, True),
        ("c", Operation.CREATE, True),
        ("w", Operation.CREATE, True),
        ("c", Operation.WRITE, False),
        ("w", Operation.WRITE, True),
        ("rcw", Operation.DELETE, False),
        ("d", Operation.DELETE, True),
        ("racwd", Operation.LIST, False),
        ("l", Operation.LIST, True),
        ("acwdl", Operation.READ, False),
    ],
)
def test_permissions_per_operation(
    signer: SasSigner, permissions: str, operation: Operation, allowed: bool
) -> None:
    query = parse_qsl(signer.sign("videos", None, permissions, NOW + timedelta(hours=1)))
    blob = None if operation is Operation.LIST else BLOB
    if allowed:
        signer.verify(query, "videos", blob, operation, NOW, "https")
    else:
        with pytest.raises(SasDenied) as denied:
            signer.verify(query, "videos", blob, operation, NOW, "https")
        assert denied.value.code == "AuthorizationPermissionMismatch"


@pytest.mark.parametrize(
    "change",
    [
        {"sv": "2019-12-12"},
        {"sv": "2099-01-01"},
        {"sr": "bs"},
        {"sp": "wr"},
        {"sp": "rr"},
        {"sp": "rx"},
        {"sp": ""},
        {"spr": "http"},
        {"spr": "http,https"},
        {"se": "2030-01-01 13:00:00"},
        {"st": "tomorrow"},
    ],
)
def test_malformed_fields_are_refused(signer: SasSigner, change: dict[str, str]) -> None:
    query = [
        (k, change.get(k, v))
        for k, v in parse_qsl(signer.sign("videos", None, "r", NOW + timedelta(hours=1)))
    ]
    with pytest.raises(SasDenied):
        signer.verify(query, "videos", BLOB, Operation.READ, NOW, "https")


@pytest.mark.parametrize("missing", ["sv", "sr", "sp", "se", "spr", "sig"])
def test_required_fields(signer: SasSigner, missing: str) -> None:
    query = [
        (k, v)
        for k, v in parse_qsl(signer.sign("videos", None, "r", NOW + timedelta(hours=1)))
        if k != missing
    ]
    with pytest.raises(SasDenied) as denied:
        signer.verify(query, "videos", BLOB, Operation.READ, NOW, "https")
    assert "sig=" not in denied.value.message


def test_a_sas_without_st_is_valid_until_se(signer: SasSigner) -> None:
    query = generate_blob_sas(
        ACCOUNT,
        "videos",
        BLOB,
        account_key=KEY,
        permission="r",
        expiry=NOW + timedelta(minutes=1),
        protocol="https",
    )
    assert "st" not in fields(query)
    signer.verify(parse_qsl(query), "videos", BLOB, Operation.READ, NOW, "https")


def test_signing_refuses_bad_requests(signer: SasSigner) -> None:
    with pytest.raises(ValueError, match="permissions"):
        signer.sign("videos", None, "wr", NOW + timedelta(hours=1))
    with pytest.raises(ValueError, match="list"):
        signer.sign("videos", BLOB, "rl", NOW + timedelta(hours=1))
    with pytest.raises(ValueError, match="expire"):
        signer.sign("videos", None, "r", NOW + timedelta(days=8))
    with pytest.raises(ValueError, match="expire"):
        signer.sign("videos", None, "r", NOW - timedelta(minutes=20))
    with pytest.raises(ValueError, match="32 bytes"):
        SasSigner(ACCOUNT, b"short")


def test_issuer_back_dates_start_and_requires_https(signer: SasSigner) -> None:
    query = fields(signer.sign("videos", BLOB, "r", NOW + timedelta(hours=1)))
    assert (query["st"], query["spr"], query["sr"]) == ("2030-01-01T11:45:00Z", "https", "b")
    assert (
        fields(signer.sign("videos", BLOB, "r", NOW + timedelta(hours=1), allow_http=True))["spr"]
        == "https,http"
    )
