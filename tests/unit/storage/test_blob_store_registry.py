"""open_blob_store: backends by URL scheme."""

from __future__ import annotations

from pathlib import Path

import pytest

from ova.storage.azure import AzureBlobStore
from ova.storage.filesystem import FilesystemBlobStore
from ova.storage.registry import open_blob_store, schemes

KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def test_file_urls_open_the_filesystem_store(tmp_path: Path) -> None:
    store = open_blob_store(f"file://{tmp_path}/blobs")
    assert isinstance(store, FilesystemBlobStore)
    assert store.root == tmp_path / "blobs"
    assert (tmp_path / "blobs").is_dir()


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        ("azure://acct1", "https://acct1.blob.core.windows.net/"),
        ("azure+http://127.0.0.1:10000/acct1", "http://127.0.0.1:10000/acct1"),
        ("azure+https://blob.example.com/acct1", "https://blob.example.com/acct1"),
    ],
)
async def test_azure_urls(url: str, endpoint: str) -> None:
    store = open_blob_store(url, account_key=KEY)
    assert isinstance(store, AzureBlobStore)
    assert store._service.url.rstrip("/") == endpoint.rstrip("/")
    assert store._service.account_name == "acct1"
    await store.close()


async def test_connection_strings_open_azure() -> None:
    connection = f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
    store = open_blob_store(connection)
    assert isinstance(store, AzureBlobStore)
    await store.close()


@pytest.mark.parametrize("url", ["s3://bucket", "ftp://x", "/just/a/path", "azure://", "azure+http://h/a/b"])
def test_unknown_or_malformed_urls(url: str) -> None:
    with pytest.raises(ValueError) as caught:
        open_blob_store(url, account_key=KEY)
    assert KEY not in str(caught.value)


def test_azure_needs_a_key() -> None:
    with pytest.raises(ValueError, match="account_key"):
        open_blob_store("azure://acct1")
    assert {"file", "azure", "azure+http", "azure+https"} <= set(schemes())
