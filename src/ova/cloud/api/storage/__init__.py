"""The storage family: the filesystem blob store over HTTP, authorised by SAS, shaped like Azure Blob."""
