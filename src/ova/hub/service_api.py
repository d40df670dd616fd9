"""The ``hub`` endpoint family: IoT Hub's service REST API (api-version 2021-04-12), as the SDK calls it.

Paths (the cloud mounts this app at the root for paths starting ``/devices`` and ``/twins``):

- ``GET /devices?top=``, ``PUT|GET|DELETE /devices/{id}`` — devices (registryRead / registryWrite);
- ``GET /devices/{id}/modules``, ``PUT|GET|DELETE /devices/{id}/modules/{mid}`` — modules;
- ``GET|PATCH|PUT /twins/{id}[/modules/{mid}]`` — twins, ``If-Match`` an etag (serviceConnect);
- ``POST /twins/{id}[/modules/{mid}]/methods`` — direct methods (serviceConnect);
- extension (not IoT Hub's): ``GET /devices/{id}/modules/{mid}/messages/events?after=&top=`` —
  the module's stored device-to-cloud messages, oldest first, at most 100 a page
  (``{"value": [...], "nextAfter": seq}``) (serviceConnect).

Every request carries a service SAS (``ova.hub.service_auth``). Errors use IoT Hub's body,
``{"Message": "ErrorCode:{code};{message}", "ExceptionMessage": "…"}``, which the SDK's
``HttpOperationError`` exposes as its response. Request bodies are bounded (``MAX_BODY_BYTES``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from ova.common.clock import isoformat
from ova.common.errors import OvaError
from ova.contracts.iot_hub import IDENTITY_ID
from ova.hub.errors import ServiceRequestInvalid
from ova.hub.messages import MAX_PAGE, MessageStore
from ova.hub.methods import MethodInvoker, Presence
from ova.hub.namespace import Identity
from ova.hub.registry import IdentityRecord, IdentitySpec, Registry, Status
from ova.hub.service_auth import Policy, Right, ServiceAuthenticator, require
from ova.hub.twins import TwinService

MAX_BODY_BYTES = 256 * 1024
Json = dict[str, Any]


@dataclass(frozen=True)
class HubServices:
    """What the service API's handlers call."""

    auth: ServiceAuthenticator
    registry: Registry
    twins: TwinService
    methods: MethodInvoker
    messages: MessageStore
    presence: Presence


def error_body(code: str, message: str) -> Json:
    return {"Message": f"ErrorCode:{code};{message}", "ExceptionMessage": f"ErrorCode:{code}"}


def _install_errors(app: FastAPI) -> None:
    async def ova_error(_request: Request, error: Exception) -> Response:
        assert isinstance(error, OvaError)
        return JSONResponse(error_body(error.code, error.message), status_code=error.status)

    async def invalid(_request: Request, error: Exception) -> Response:
        return JSONResponse(error_body("ArgumentInvalid", "The request is not valid."), status_code=400)

    async def http_error(_request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        code = "NotFound" if error.status_code == 404 else "RequestInvalid"
        return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code)

    app.add_exception_handler(OvaError, ova_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)


def identity_document(record: IdentityRecord, connected: bool = False) -> Json:
    """A device or module as IoT Hub's registry returns it (keys included, as IoT Hub does)."""
    document: Json = {
        "deviceId": record.identity.device_id,
        "generationId": record.generation_id,
        "etag": record.etag,
        "connectionState": "Connected" if connected else "Disconnected",
        "lastActivityTime": isoformat(record.updated_at),
        "cloudToDeviceMessageCount": 0,
        "authentication": {
            "type": "sas",
            "symmetricKey": {"primaryKey": record.keys.primary, "secondaryKey": record.keys.secondary},
        },
    }
    if record.identity.module_id is None:
        document |= {
            "status": record.status,
            "statusReason": record.status_reason,
            "statusUpdatedTime": isoformat(record.status_updated_at),
            "capabilities": {"iotEdge": False},
        }
    else:
        document |= {"moduleId": record.identity.module_id, "managedBy": record.managed_by}
    return document


def spec_of(body: Json) -> IdentitySpec:
    authentication = body.get("authentication") or {}
    if not isinstance(authentication, dict) or authentication.get("type", "sas") not in ("sas", None):
        raise ServiceRequestInvalid("Only symmetric-key (sas) authentication is supported.")
    keys = authentication.get("symmetricKey") or {}
    status: Status = "disabled" if body.get("status") == "disabled" else "enabled"
    if body.get("status") not in (None, "", "enabled", "disabled") or not isinstance(keys, dict):
        raise ServiceRequestInvalid("status is enabled or disabled.")
    try:
        return IdentitySpec(
            status=status,
            status_reason=_text(body.get("statusReason"), 128),
            managed_by=_text(body.get("managedBy"), 128),
            primary_key=_text(keys.get("primaryKey"), 512),
            secondary_key=_text(keys.get("secondaryKey"), 512),
        )
    except ValueError as error:
        raise ServiceRequestInvalid(str(error)) from None


def _text(value: object, limit: int) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"A text field is at most {limit} characters.")
    return value


async def json_body(request: Request) -> Json:
    """The request's JSON object, read within ``MAX_BODY_BYTES``."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ServiceRequestInvalid(
                f"The request body exceeds {MAX_BODY_BYTES} bytes.", code="MessageTooLarge"
            )
        chunks.append(chunk)
    try:
        body = json.loads(b"".join(chunks) or b"{}")
    except ValueError:
        raise ServiceRequestInvalid("The request body is not JSON.") from None
    if not isinstance(body, dict):
        raise ServiceRequestInvalid("The request body must be a JSON object.")
    return body


def hub_services(request: Request) -> HubServices:
    services: HubServices = request.app.state.hub_services
    return services


async def caller_policy(request: Request, authorization: Annotated[str | None, Header()] = None) -> Policy:
    return await hub_services(request).auth.authenticate(authorization)


def target(request: Request) -> Identity:
    """The device or module the path names (declared by ``ON_DEVICE`` / ``ON_MODULE``)."""
    return _identity(request.path_params["device_id"], request.path_params.get("module_id"))


def device_path(device_id: Annotated[str, Path(max_length=128)]) -> None:
    """Declares a device route's path parameter."""


def module_path(
    device_id: Annotated[str, Path(max_length=128)], module_id: Annotated[str, Path(max_length=128)]
) -> None:
    """Declares a module route's path parameters."""


Services = Annotated[HubServices, Depends(hub_services)]
Caller = Annotated[Policy, Depends(caller_policy)]
Body = Annotated[Json, Depends(json_body)]
IfMatch = Annotated[str | None, Header(alias="If-Match")]
Target = Annotated[Identity, Depends(target)]
DEVICE = "/devices/{device_id}"
MODULE = "/devices/{device_id}/modules/{module_id}"
DEVICE_TWIN = "/twins/{device_id}"
MODULE_TWIN = "/twins/{device_id}/modules/{module_id}"
ON_DEVICE = [Depends(device_path)]
ON_MODULE = [Depends(module_path)]
router = APIRouter()


def create_app(services: HubServices) -> FastAPI:
    app = FastAPI(
        title="Open Video Analyzer hub API",
        description=__doc__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi/hub.json",
    )
    app.state.hub_services = services
    _install_errors(app)
    app.include_router(router)
    return app


@router.get("/devices", summary="List devices")
async def list_devices(
    services: Services, caller: Caller, top: Annotated[int, Query(ge=1, le=1000)] = 1000
) -> list[Json]:
    require(caller, Right.REGISTRY_READ)
    return [_document(services, record) for record in await services.registry.list_devices(top)]


@router.put(DEVICE, dependencies=ON_DEVICE, operation_id="putDevice", summary="Create or update a device")
@router.put(MODULE, dependencies=ON_MODULE, operation_id="putModule", summary="Create or update a module")
async def put_identity(
    services: Services, identity: Target, caller: Caller, body: Body, if_match: IfMatch = None
) -> Json:
    require(caller, Right.REGISTRY_WRITE)
    return _document(services, await services.registry.put(identity, spec_of(body), if_match))


@router.get(DEVICE, dependencies=ON_DEVICE, operation_id="getDevice", summary="Get a device")
@router.get(MODULE, dependencies=ON_MODULE, operation_id="getModule", summary="Get a module")
async def get_identity(services: Services, identity: Target, caller: Caller) -> Json:
    require(caller, Right.REGISTRY_READ)
    return _document(services, await services.registry.get(identity))


@router.delete(
    DEVICE,
    dependencies=ON_DEVICE,
    status_code=204,
    operation_id="deleteDevice",
    summary="Delete a device and its modules",
)
@router.delete(
    MODULE, dependencies=ON_MODULE, status_code=204, operation_id="deleteModule", summary="Delete a module"
)
async def delete_identity(
    services: Services, identity: Target, caller: Caller, if_match: IfMatch = None
) -> Response:
    require(caller, Right.REGISTRY_WRITE)
    await services.registry.delete(identity, if_match)
    return Response(status_code=204)


@router.get(DEVICE + "/modules", dependencies=ON_DEVICE, summary="List a device's modules")
async def list_modules(services: Services, identity: Target, caller: Caller) -> list[Json]:
    require(caller, Right.REGISTRY_READ)
    return [
        _document(services, record) for record in await services.registry.list_modules(identity.device_id)
    ]


@router.get(DEVICE_TWIN, dependencies=ON_DEVICE, operation_id="getDeviceTwin", summary="Get a device twin")
@router.get(MODULE_TWIN, dependencies=ON_MODULE, operation_id="getModuleTwin", summary="Get a module twin")
async def get_twin(services: Services, identity: Target, caller: Caller) -> Json:
    require(caller, Right.SERVICE_CONNECT)
    return await services.twins.get(identity)


@router.patch(
    DEVICE_TWIN, dependencies=ON_DEVICE, operation_id="updateDeviceTwin", summary="Patch a device twin"
)
@router.patch(
    MODULE_TWIN,
    dependencies=ON_MODULE,
    operation_id="updateModuleTwin",
    summary="Patch a module twin's tags and desired",
)
async def update_twin(
    services: Services, identity: Target, caller: Caller, body: Body, if_match: IfMatch = None
) -> Json:
    require(caller, Right.SERVICE_CONNECT)
    return await services.twins.update(identity, body, if_match)


@router.put(
    DEVICE_TWIN, dependencies=ON_DEVICE, operation_id="replaceDeviceTwin", summary="Replace a device twin"
)
@router.put(
    MODULE_TWIN,
    dependencies=ON_MODULE,
    operation_id="replaceModuleTwin",
    summary="Replace a module twin's tags and desired",
)
async def replace_twin(
    services: Services, identity: Target, caller: Caller, body: Body, if_match: IfMatch = None
) -> Json:
    require(caller, Right.SERVICE_CONNECT)
    return await services.twins.replace(identity, body, if_match)


@router.post(
    DEVICE_TWIN + "/methods",
    dependencies=ON_DEVICE,
    operation_id="invokeDeviceMethod",
    summary="Invoke a device method",
)
@router.post(
    MODULE_TWIN + "/methods",
    dependencies=ON_MODULE,
    operation_id="invokeModuleMethod",
    summary="Invoke a module method",
)
async def invoke_method(services: Services, identity: Target, caller: Caller, body: Body) -> Json:
    require(caller, Right.SERVICE_CONNECT)
    await services.registry.get(identity)
    name, payload, timeout = _method_request(body)
    result = await services.methods.invoke(identity, name, payload, timeout)
    return {"status": result.status, "payload": result.payload}


@router.get(
    MODULE + "/messages/events",
    dependencies=ON_MODULE,
    summary="Read a module's device-to-cloud messages (ova extension)",
)
async def read_messages(
    services: Services,
    identity: Target,
    caller: Caller,
    after: Annotated[int, Query(ge=0)] = 0,
    top: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> Json:
    require(caller, Right.SERVICE_CONNECT)
    await services.registry.get(identity)
    page = await services.messages.read(identity, after, top)
    return {
        "value": [message.to_json() for message in page],
        "nextAfter": page[-1].sequence if page else after,
    }


def _document(services: HubServices, record: IdentityRecord) -> Json:
    return identity_document(record, services.presence(record.identity))


def _method_request(body: Json) -> tuple[str, Any, int | None]:
    name, timeout = body.get("methodName"), body.get("responseTimeoutInSeconds")
    if not isinstance(name, str):
        raise ServiceRequestInvalid("methodName is required.")
    if timeout is not None and (not isinstance(timeout, int) or isinstance(timeout, bool)):
        raise ServiceRequestInvalid("responseTimeoutInSeconds is an integer.")
    return name, body.get("payload"), timeout


def _identity(device_id: str, module_id: str | None = None) -> Identity:
    for value in (device_id, module_id):
        if value is not None and not IDENTITY_ID.match(value):
            raise ServiceRequestInvalid("A device or module id is 1 to 128 characters IoT Hub allows.")
    return Identity(device_id, module_id)
