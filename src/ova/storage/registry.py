"""Blob-store backends looked up by URL scheme: ``open_blob_store(url)``.

=====================================================  =============================================
``file:///var/lib/ova/blobs`` (``file://DIR``)          filesystem store rooted at DIR (relative
                                                        DIR: from the working directory)
``azure://ACCOUNT``                                     Azure Blob at https://ACCOUNT.blob.core.windows.net
                                                        (key: ``account_key``)
``azure+http://HOST:PORT/ACCOUNT``                      an emulator (Azurite) at that address
``azure+https://HOST[:PORT]/ACCOUNT``                   an Azure-compatible endpoint over TLS
an Azure connection string                              ``DefaultEndpointsProtocol=…;AccountName=…;…``
                                                        or ``BlobEndpoint=…;…`` (key inside)
=====================================================  =============================================

A new backend registers an opener for its scheme with ``register_scheme``. Openers do no
network I/O; the filesystem store creates its root directory.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ova.storage.blob_store import BlobStore
from ova.storage.sas import SasSigner

_CONNECTION_KEYS = ("defaultendpointsprotocol=", "blobendpoint=", "accountname=", "usedevelopmentstorage=")


@dataclass(frozen=True)
class StoreOptions:
    """What an opener may need beyond the URL (secrets stay out of URLs)."""

    account_key: str | None = None
    """Azure: the account key (base64); signed URLs need it."""
    signer: SasSigner | None = None
    """Filesystem: signs the storage family's SAS URLs."""
    public_url: str | None = None
    """Filesystem: the storage family's base URL, e.g. ``https://media.example.com/storage``."""


Opener = Callable[[str, StoreOptions], BlobStore]
_OPENERS: dict[str, Opener] = {}


def register_scheme(scheme: str, opener: Opener) -> None:
    _OPENERS[scheme] = opener


def schemes() -> list[str]:
    return sorted(_OPENERS)


def open_blob_store(
    url: str,
    *,
    account_key: str | None = None,
    signer: SasSigner | None = None,
    public_url: str | None = None,
) -> BlobStore:
    """The store ``url`` names (see the module docstring); ValueError for an unknown scheme."""
    options = StoreOptions(account_key=account_key, signer=signer, public_url=public_url)
    if url.lower().startswith(_CONNECTION_KEYS):
        return _open_connection_string(url, options)
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    opener = _OPENERS.get(scheme)
    if opener is None:
        raise ValueError(f"unknown blob store URL scheme {scheme!r}; known: {', '.join(schemes())}")
    return opener(url, options)


def _open_file(url: str, options: StoreOptions) -> BlobStore:
    from ova.storage.filesystem import FilesystemBlobStore

    directory = url.partition("://")[2]
    if not directory:
        raise ValueError("a file:// blob store URL needs a directory")
    return FilesystemBlobStore(Path(directory), signer=options.signer, public_url=options.public_url)


def _open_azure(url: str, options: StoreOptions) -> BlobStore:
    from ova.storage.azure import AzureBlobStore

    if options.account_key is None:
        raise ValueError("an azure:// blob store needs account_key")
    parts = urlsplit(url)
    if parts.scheme == "azure":
        account = parts.netloc
        endpoint = f"https://{account}.blob.core.windows.net"
    else:
        account = parts.path.strip("/")
        endpoint = f"{parts.scheme.removeprefix('azure+')}://{parts.netloc}/{account}"
    if not account or "/" in account:
        raise ValueError("an azure blob store URL names exactly one account")
    return AzureBlobStore.from_account(endpoint, account, options.account_key)


def _open_connection_string(connection_string: str, _options: StoreOptions) -> BlobStore:
    from ova.storage.azure import AzureBlobStore

    return AzureBlobStore.from_connection_string(connection_string)


register_scheme("file", _open_file)
for _scheme in ("azure", "azure+http", "azure+https"):
    register_scheme(_scheme, _open_azure)
