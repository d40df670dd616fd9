"""Blob storage: the ``BlobStore`` protocol, its backends (filesystem, Azure Blob) and SAS signing.

``open_blob_store(url)`` (in ``ova.storage.registry``) picks the backend by URL scheme.
"""
