"""How ``ova edge`` reaches its hub: from a module connection string, or from the IoT Edge
environment when IoT Edge started it.

1. ``EdgeSettings.connection_string`` (``--connection-string`` / ``OVA_EDGE_CONNECTION_STRING``):
   the key signs the tokens; TLS verifies the hub with ``ca_file`` (default: the system trust).
2. Else ``IOTEDGE_*``: the workload API signs the tokens; TLS verifies the edge hub with
   ``ca_file`` or, by default, the workload API's trust bundle.

``hub.tls: false`` (plain MQTT) is for a broker on a trusted network only.
"""

from __future__ import annotations

from collections.abc import Mapping

from ova.contracts import iot_hub
from ova.edge.iothub.client import ClientOptions, ModuleClient
from ova.edge.iothub.credentials import KeyCredential, SasCredential
from ova.edge.iothub.edge_environment import EdgeEnvironment, WorkloadClient
from ova.edge.iothub.endpoint import HubEndpoint, tls_context
from ova.edge.settings import EdgeSettings


class HubConfigurationError(ValueError):
    """Neither a usable connection string nor an IoT Edge environment (the message names which)."""


def options_of(settings: EdgeSettings) -> ClientOptions:
    hub = settings.hub
    return ClientOptions(
        token_lifetime_s=hub.token_lifetime_s,
        renew_margin_s=min(hub.renew_margin_s, hub.token_lifetime_s // 2),
        keepalive_s=hub.keepalive_s,
        connect_timeout_s=hub.connect_timeout_s,
        request_timeout_s=hub.request_timeout_s,
        backoff_initial_s=hub.backoff_initial_s,
        backoff_max_s=hub.backoff_max_s,
        publish_wait_s=hub.publish_wait_s,
    )


async def open_client(settings: EdgeSettings, environ: Mapping[str, str]) -> ModuleClient:
    """The module client (not started yet); ``HubConfigurationError`` or ``EdgeEnvironmentError``."""
    credential: SasCredential
    ca_pem: str | None = None
    if settings.connection_string is not None:
        try:
            connection = iot_hub.ConnectionString.parse(settings.connection_string.get_secret_value())
            endpoint = HubEndpoint.from_connection_string(connection)
            credential = KeyCredential(connection.shared_access_key)
        except ValueError as error:  # ConnectionStringError, or a key that is not base64
            raise HubConfigurationError(f"The connection string is not usable: {error}") from None
    else:
        environment = EdgeEnvironment.detect(environ)
        if environment is None:
            raise HubConfigurationError(
                "No connection string (--connection-string or OVA_EDGE_CONNECTION_STRING) and no IoT Edge "
                "environment (IOTEDGE_*)."
            )
        endpoint = environment.endpoint()
        workload = WorkloadClient(environment)
        credential = workload
        if settings.ca_file is None and settings.hub.tls:
            ca_pem = await workload.trust_bundle()
    tls = tls_context(settings.ca_file, ca_pem) if settings.hub.tls else None
    return ModuleClient(endpoint, credential, tls, options_of(settings))
