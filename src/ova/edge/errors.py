"""The edge module's errors, and the direct-method status and codes each stands for.

Exception tree::

    EdgeError (OvaError)
    ├── MethodRequestInvalid (ValidationFailed)   400 BadRequest / InvalidResource / InvalidVersion
    ├── PipelineValidation (ValidationFailed)     400 InvalidResource, detail PipelineValidationError
    ├── NodeNotAvailable (ValidationFailed)       400 InvalidResource, detail ModuleValidationError:
    │                                             a node type this module does not run yet
    ├── EntityNotFound (NotFound)                 404 NotFound
    ├── TopologyInUse (Conflict)                  409 Conflict, detail PipelineTopologyInUse
    ├── NotAllowedInState (Conflict)              409 Conflict, detail OperationNotAllowedInState
    ├── ResourceInvalid (Conflict)                409 Conflict, detail ResourceValidationError
    ├── ConnectivityRequired                      402 ConnectivityRequired (the 36-hour rule)
    ├── Busy                                      503 ServerBusy
    ├── UnknownMethod (NotFound)                  404 NotFound: no direct method of that name
    ├── MethodNotSupported                        501 NotImplemented: a Video Analyzer method this
    │                                             module does not offer (remote device adapters, ONVIF)
    ├── CloudUnavailable                          the cloud could not be reached (retried)
    └── HubUnavailable                            the IoT Hub (or edge hub) did not answer in time

Direct-method answers use Video Analyzer's envelope:
``{"error": {"code", "message", "details": [{"code", "message"}]}}``.
"""

from __future__ import annotations

from ova.common.errors import Conflict, NotFound, OvaError, ValidationFailed


class EdgeError(OvaError):
    """Root of the edge module's errors."""

    detail_code: str | None = None


class MethodRequestInvalid(EdgeError, ValidationFailed):
    status = 400
    default_code = "BadRequest"


class PipelineValidation(EdgeError, ValidationFailed):
    status = 400
    default_code = "InvalidResource"
    detail_code = "PipelineValidationError"


class NodeNotAvailable(EdgeError, ValidationFailed):
    status = 400
    default_code = "InvalidResource"
    detail_code = "ModuleValidationError"


class EntityNotFound(EdgeError, NotFound):
    status = 404
    default_code = "NotFound"


class TopologyInUse(EdgeError, Conflict):
    status = 409
    default_code = "Conflict"
    detail_code = "PipelineTopologyInUse"


class NotAllowedInState(EdgeError, Conflict):
    status = 409
    default_code = "Conflict"
    detail_code = "OperationNotAllowedInState"


class ResourceInvalid(EdgeError, Conflict):
    status = 409
    default_code = "Conflict"
    detail_code = "ResourceValidationError"


class ConnectivityRequired(EdgeError):
    status = 402
    default_code = "ConnectivityRequired"


class Busy(EdgeError):
    status = 503
    default_code = "ServerBusy"


class CloudUnavailable(EdgeError):
    status = 503
    default_code = "ServiceUnavailable"


class UnknownMethod(EdgeError, NotFound):
    status = 404
    default_code = "NotFound"
    detail_code = "MethodNotFound"


class MethodNotSupported(EdgeError):
    status = 501
    default_code = "NotImplemented"
    detail_code = "MethodNotSupported"


class HubUnavailable(EdgeError):
    """The module is not connected to its hub, or the hub did not answer a request in time."""

    status = 503
    default_code = "ServiceUnavailable"
