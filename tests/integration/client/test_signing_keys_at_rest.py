"""A local reader of the metadata store cannot forge content tokens (issue 7, item 3).

The attack: read the ``signing_keys`` table (open ``ova.db``, or dump PostgreSQL), take the
key column, and sign a content token for a video with what was found. The column holds only
sealed text, so every forgery built from it is refused with 401, while the token the client
API hands out still plays.
"""

from __future__ import annotations

import base64
import contextlib
import time
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ova.auth.service_tokens import CONTENT
from ova.cloud.runtime import Cloud
from support.client_api import Tenant, available_media, bearer, content_token
from support.customer_issuer import CustomerIssuer
from support.management import arm_error


async def key_column(cloud: Cloud) -> list[tuple[str, str]]:
    """What a reader of the database finds: every (kid, private_pem) row, as raw SQL returns it."""
    async with cloud.engine.connect() as connection:
        rows = await connection.execute(text("SELECT kid, private_pem FROM signing_keys"))
        return [(str(kid), str(value)) for kid, value in rows]


def sqlite_files(cloud: Cloud) -> list[Path]:
    url = make_url(cloud.settings.resolved_database_url)
    if url.get_backend_name() != "sqlite" or url.database is None:
        return []
    database = Path(url.database)
    return [path for path in database.parent.glob(database.name + "*") if path.is_file()]


def forgeries(kid: str, found: str, claims: dict[str, object]) -> dict[str, str]:
    """Every content token an attacker can sign with ``found`` (and the stored ``kid``)."""
    headers = {"kid": kid, "typ": CONTENT.typ}
    payload = {**claims, "aud": CONTENT.audience, "exp": int(time.time()) + 600}
    tokens = {
        "ES256 with a new key under the stored kid": jwt.encode(
            payload, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256", headers=headers
        ),
    }
    with contextlib.suppress(jwt.InvalidKeyError):  # PyJWT will not take a PEM as an HMAC secret
        tokens["HS256 with the column text"] = jwt.encode(payload, found, "HS256", headers=headers)
    with contextlib.suppress(ValueError, TypeError):  # the column as a PEM key: what used to work
        key = serialization.load_pem_private_key(found.encode(), password=None)
        tokens["ES256 with the column as a PEM key"] = jwt.encode(payload, key, "ES256", headers=headers)
    with contextlib.suppress(ValueError, IndexError):
        sealed = base64.b64decode(found.split(":", 1)[1])
        tokens["HS256 with the sealed bytes"] = jwt.encode(payload, sealed, "HS256", headers=headers)
    return tokens


async def test_the_key_column_yields_no_token_streaming_accepts(
    cloud: Cloud, viewer: httpx.AsyncClient, tenant: Tenant, issuer: CustomerIssuer, subtests: pytest.Subtests
) -> None:
    archive = await tenant.archive_url("lobby")
    genuine = await content_token(viewer, tenant, "lobby", issuer.token(tenant.aud("/videos/*")))
    assert (await viewer.get(available_media(archive), headers=bearer(genuine))).status_code == 200

    [(kid, found)] = await key_column(cloud)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    for label, token in forgeries(kid, found, {"sub": claims["sub"], "acct": claims["acct"]}).items():
        with subtests.test(msg=label):
            arm_error(await viewer.get(available_media(archive), headers=bearer(token)), 401)
            arm_error(await viewer.get(available_media(archive, token)), 401)

    assert found.startswith("ova-kek1:") and "PRIVATE KEY" not in found
    for path in sqlite_files(cloud):  # nor anywhere else in the SQLite files, WAL included
        assert b"PRIVATE KEY" not in path.read_bytes(), path
