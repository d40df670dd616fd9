"""Errors of the blob stores and of the SAS checks.

Exception tree (roots from ``ova.common.errors``)::

    OvaError
    └── StorageError                            root of this package
        ├── BlobNotFound (NotFound)             404 BlobNotFound
        ├── ContainerNotFound (NotFound)        404 ContainerNotFound
        ├── BlobExists (Conflict)               409 BlobAlreadyExists: create-only put, other bytes
        ├── InvalidBlobName (ValidationFailed)  400 InvalidResourceName: container or blob name refused
        ├── InvalidRange (ValidationFailed)     416 InvalidRange: range starts past the end
        ├── StorageUnavailable                  503 ServerBusy: backend unreachable or I/O failed
        └── SasDenied (Forbidden)               403 AuthenticationFailed, or the Authorization*Mismatch
                                                code naming the check that failed

The codes are Azure Blob's, so the storage family's XML errors read as Azure's do and the
azure-storage-blob SDK maps them to its own exceptions.
"""

from __future__ import annotations

from ova.common.errors import Conflict, Forbidden, NotFound, OvaError, ValidationFailed


class StorageError(OvaError):
    """Root of every error this package raises on purpose."""


class BlobNotFound(NotFound, StorageError):
    default_code = "BlobNotFound"


class ContainerNotFound(NotFound, StorageError):
    default_code = "ContainerNotFound"


class BlobExists(Conflict, StorageError):
    default_code = "BlobAlreadyExists"


class InvalidBlobName(ValidationFailed, StorageError):
    default_code = "InvalidResourceName"


class InvalidRange(ValidationFailed, StorageError):
    status = 416
    default_code = "InvalidRange"


class StorageUnavailable(StorageError):
    status = 503
    default_code = "ServerBusy"


class SasDenied(Forbidden, StorageError):
    """A request's SAS does not allow it. The message never holds the signature or the URL."""

    default_code = "AuthenticationFailed"
