"""Building blocks shared by cloud and edge topologies: parameters, credentials, endpoints, videos.

Cloud endpoints (management API) require credentials and may add a remote-device
tunnel; edge endpoints (direct methods) take any of the three credential kinds.
"""

from __future__ import annotations

import re
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, field_validator

from ova.contracts.topology_model import ContractModel, TypedModel, TypeRegistry
from ova.contracts.topology_values import (
    PREFIX,
    BoolText,
    Certificate,
    Description,
    ParameterName,
    RequiredText,
    Text,
    Title,
    duration,
    has_reference,
    invalid,
)

RETENTION = re.compile(r"^P(\d{1,4})D$")
MAX_CERTIFICATES = 32


def _retention_period(value: str) -> str:
    if has_reference(value):
        return value
    match = RETENTION.fullmatch(value)
    if match is None or not 1 <= int(match[1]) <= 3650:
        raise invalid(f"'{value[:64]}' is not a retention period; use whole days from P1D to P3650D.")
    return value


SegmentLength = Annotated[Text, AfterValidator(duration(30, 300, 30))]
RetentionPeriod = Annotated[Text, AfterValidator(_retention_period)]


# --- parameters -------------------------------------------------------------------------------


class ParameterDeclaration(ContractModel):
    """``{name, type, description?, default?}``; pipelines supply values for ``${name}``."""

    TYPES: ClassVar[tuple[str, ...]] = ()

    name: ParameterName
    type: RequiredText
    description: Description | None = None
    default: Text | None = None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        for canonical in cls.TYPES:
            if canonical.lower() == value.lower():
                return canonical
        raise invalid(f"'{value[:64]}' is not a parameter type; use one of: {', '.join(cls.TYPES)}.")

    @property
    def is_secret(self) -> bool:
        return self.type.lower() == "secretstring"


class CloudParameterDeclaration(ParameterDeclaration):
    TYPES = ("String", "SecretString", "Int", "Double", "Bool")


class EdgeParameterDeclaration(ParameterDeclaration):
    TYPES = ("string", "secretString", "int", "double", "bool")


# --- credentials ------------------------------------------------------------------------------


class Credentials(TypedModel):
    """Base of the credential kinds an endpoint may carry."""


class UsernamePasswordCredentials(Credentials):
    TYPE = f"{PREFIX}UsernamePasswordCredentials"

    username: Text
    password: Text


class HttpHeaderCredentials(Credentials):
    TYPE = f"{PREFIX}HttpHeaderCredentials"

    header_name: RequiredText
    header_value: Text


class SymmetricKeyCredentials(Credentials):
    TYPE = f"{PREFIX}SymmetricKeyCredentials"

    key: RequiredText


EDGE_CREDENTIALS = TypeRegistry[Credentials](
    "credentials", UsernamePasswordCredentials, HttpHeaderCredentials, SymmetricKeyCredentials
)


# --- endpoints --------------------------------------------------------------------------------


class PemCertificateList(TypedModel):
    TYPE = f"{PREFIX}PemCertificateList"

    certificates: list[Certificate] = Field(min_length=1, max_length=MAX_CERTIFICATES)


class TlsValidationOptions(ContractModel):
    ignore_hostname: BoolText | None = None
    ignore_signature: BoolText | None = None


class TlsSettings(ContractModel):
    """What a TLS endpoint adds: extra trusted roots and relaxed checks."""

    trusted_certificates: PemCertificateList | None = None
    validation_options: TlsValidationOptions | None = None


class SecureIotDeviceRemoteTunnel(TypedModel):
    """Reach a camera behind a firewall through an IoT device (cloud topologies only)."""

    TYPE = f"{PREFIX}SecureIotDeviceRemoteTunnel"

    iot_hub_name: RequiredText
    device_id: RequiredText


class Endpoint(TypedModel):
    url: RequiredText


class EdgeEndpoint(Endpoint):
    credentials: Annotated[Credentials, EDGE_CREDENTIALS] | None = None


class EdgeUnsecuredEndpoint(EdgeEndpoint):
    TYPE = f"{PREFIX}UnsecuredEndpoint"


class EdgeTlsEndpoint(EdgeEndpoint, TlsSettings):
    TYPE = f"{PREFIX}TlsEndpoint"


class CloudEndpoint(Endpoint):
    credentials: UsernamePasswordCredentials
    tunnel: SecureIotDeviceRemoteTunnel | None = None


class CloudUnsecuredEndpoint(CloudEndpoint):
    TYPE = f"{PREFIX}UnsecuredEndpoint"


class CloudTlsEndpoint(CloudEndpoint, TlsSettings):
    TYPE = f"{PREFIX}TlsEndpoint"


EDGE_ENDPOINTS = TypeRegistry[EdgeEndpoint]("an endpoint", EdgeUnsecuredEndpoint, EdgeTlsEndpoint)
CLOUD_ENDPOINTS = TypeRegistry[CloudEndpoint]("an endpoint", CloudUnsecuredEndpoint, CloudTlsEndpoint)


# --- videos -----------------------------------------------------------------------------------


class VideoCreationProperties(ContractModel):
    """Used only when the video sink has to create its video resource."""

    title: Title | None = None
    description: Description | None = None
    segment_length: SegmentLength | None = None
    retention_period: RetentionPeriod | None = None
