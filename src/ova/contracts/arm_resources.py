"""Writable shapes of the Video Analyzer management resources (api-version 2021-11-01-preview).

Only what a client may set is modelled; server-owned fields (``id``, ``systemData``,
``provisioningState``, a video's ``flags``...) are dropped before validation, as ARM does.
Field names are the JSON names of the public contract.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

ShortText = Annotated[str, StringConstraints(max_length=256)]
LongText = Annotated[str, StringConstraints(max_length=2048)]
ArmId = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
RETENTION = re.compile(r"^P(\d{1,4})D$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- accounts ---------------------------------------------------------------------------------


class ResourceIdentity(Strict):
    user_assigned_identity: ArmId = Field(alias="userAssignedIdentity")


class StorageAccount(Strict):
    id: ArmId
    identity: ResourceIdentity | None = None


class IotHub(Strict):
    id: ArmId
    identity: ResourceIdentity


class KeyVaultProperties(Strict):
    key_identifier: Annotated[str, StringConstraints(max_length=1024)] = Field(alias="keyIdentifier")


class AccountEncryption(Strict):
    type: Literal["SystemKey", "CustomerKey"]
    key_vault_properties: KeyVaultProperties | None = Field(None, alias="keyVaultProperties")
    identity: ResourceIdentity | None = None


class GroupLevelAccessControl(Strict):
    public_network_access: Literal["Enabled", "Disabled"] | None = Field(None, alias="publicNetworkAccess")


class NetworkAccessControl(Strict):
    integration: GroupLevelAccessControl | None = None
    ingestion: GroupLevelAccessControl | None = None
    consumption: GroupLevelAccessControl | None = None


class AccountProperties(Strict):
    storage_accounts: Annotated[list[StorageAccount], Field(max_length=1)] | None = Field(
        None, alias="storageAccounts"
    )
    iot_hubs: Annotated[list[IotHub], Field(max_length=10)] | None = Field(None, alias="iotHubs")
    encryption: AccountEncryption | None = None
    public_network_access: Literal["Enabled", "Disabled"] | None = Field(None, alias="publicNetworkAccess")
    network_access_control: NetworkAccessControl | None = Field(None, alias="networkAccessControl")


class UserAssignedIdentity(Strict):
    pass


class AccountIdentity(Strict):
    type: Annotated[str, StringConstraints(max_length=64)]
    user_assigned_identities: dict[ArmId, UserAssignedIdentity] | None = Field(
        None, alias="userAssignedIdentities", max_length=10
    )


Tags = Annotated[
    dict[Annotated[str, StringConstraints(min_length=1, max_length=512)], ShortText], Field(max_length=50)
]


class AccountBody(Strict):
    location: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    tags: Tags | None = None
    identity: AccountIdentity | None = None
    properties: AccountProperties = Field(default_factory=AccountProperties)


class AccountPatchBody(Strict):
    tags: Tags | None = None
    identity: AccountIdentity | None = None
    properties: AccountProperties = Field(default_factory=AccountProperties)


# --- videos -----------------------------------------------------------------------------------


class VideoArchival(Strict):
    retention_period: str | None = Field(None, alias="retentionPeriod")

    @field_validator("retention_period")
    @classmethod
    def _whole_days(cls, value: str | None) -> str | None:
        if value is None:
            return value
        match = RETENTION.fullmatch(value)
        if not match or not 1 <= int(match.group(1)) <= 3650:
            raise ValueError("retentionPeriod must be whole days from P1D to P3650D")
        return value


class VideoProperties(Strict):
    title: ShortText | None = None
    description: LongText | None = None
    archival: VideoArchival | None = None


# --- access policies --------------------------------------------------------------------------


class TokenClaim(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    value: Annotated[str, StringConstraints(max_length=1024)]


class JwtAuthentication(Strict):
    type: Literal["#Microsoft.VideoAnalyzer.JwtAuthentication"] = Field(alias="@type")
    issuers: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=1024)]], Field(max_length=20)
    ] = []
    audiences: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=1024)]], Field(max_length=20)
    ] = []
    claims: Annotated[list[TokenClaim], Field(max_length=20)] = []
    keys: Annotated[list[dict[str, object]], Field(min_length=1, max_length=20)]


class AccessPolicyProperties(Strict):
    role: Literal["Reader"] = "Reader"
    authentication: JwtAuthentication


# --- pipelines --------------------------------------------------------------------------------


class ParameterDefinition(Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    value: Annotated[str, StringConstraints(max_length=4096)] | None = None


Parameters = Annotated[list[ParameterDefinition], Field(max_length=50)]


class LivePipelineProperties(Strict):
    topology_name: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        alias="topologyName"
    )
    description: LongText | None = None
    bitrate_kbps: int = Field(alias="bitrateKbps", ge=500, le=3000)
    parameters: Parameters = []

    @field_validator("bitrate_kbps")
    @classmethod
    def _steps_of_100(cls, value: int) -> int:
        if value % 100:
            raise ValueError("bitrateKbps must be a multiple of 100")
        return value


class PipelineJobProperties(Strict):
    topology_name: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        alias="topologyName"
    )
    description: LongText | None = None
    parameters: Parameters = []


class ProvisioningTokenRequest(Strict):
    expiration_date: str = Field(alias="expirationDate")


class CheckNameAvailabilityRequest(Strict):
    name: Annotated[str, StringConstraints(max_length=260)] | None = None
    type: Annotated[str, StringConstraints(max_length=260)] | None = None
