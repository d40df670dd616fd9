"""Driving the client and streaming families as a customer's viewer does.

A ``Tenant`` is one account seen from both sides: its operator creates videos and access
policies through ``arm``; its viewers call ``endpoint_url`` (the account's
``endpoints[type=ClientApi].endpointUrl``) with customer JWTs, and the video's
``archiveBaseUrl`` with the content token that ``listContentToken`` hands out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ova.cloud.runtime import Cloud
from support.management import API_VERSION, Arm

Json = dict[str, Any]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Tenant:
    """One account as its operator (``arm``) and its viewers (``endpoint_url``) see it."""

    arm: Arm
    endpoint_url: str

    @property
    def key(self) -> str:
        """The 32-hex account key in client and streaming URLs."""
        return self.endpoint_url.rsplit("/", 1)[1]

    def url(self, path: str = "/videos") -> str:
        """A Client API URL of this account, with the api-version the player sends."""
        return f"{self.endpoint_url}{path}?api-version={API_VERSION}"

    def aud(self, pattern: str = "/videos/*") -> str:
        """A token audience of the resource-URL kind under this account's endpoint."""
        return f"{self.endpoint_url}{pattern}"

    async def video(self, name: str) -> Json:
        return await self.arm.ok("PUT", f"videos/{name}", {"properties": {"title": name}})

    async def archive_url(self, name: str) -> str:
        video = await self.arm.get(f"videos/{name}")
        url: str = video["properties"]["contentUrls"]["archiveBaseUrl"]
        return url


async def open_tenant(api: httpx.AsyncClient, cloud: Cloud, name: str) -> Tenant:
    """Create account ``name`` through the management API."""
    arm = Arm(api, cloud, account=name)
    created = await arm.create_account()
    return Tenant(arm, created["properties"]["endpoints"][0]["endpointUrl"])


def available_media(archive_base_url: str, token: str | None = None) -> str:
    """The player's ``availableMedia`` URL for the whole archive, with the content token as ``token``."""
    params = {"precision": "year", **({"token": token} if token is not None else {})}
    return str(httpx.URL(f"{archive_base_url}/availableMedia", params=params))


async def content_token(viewer: httpx.AsyncClient, tenant: Tenant, video: str, jwt: str) -> str:
    """What the player does before playback: listContentToken with the customer JWT."""
    response = await viewer.post(tenant.url(f"/videos/{video}/listContentToken"), headers=bearer(jwt))
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token
