"""The device's secrets in the OS credential store: see :mod:`desktop.secrets`
(the sync client is its only user; re-exported here for the services' callers)."""

from desktop.secrets import (
    NO_BACKEND_MSG,
    SERVICE,
    WINDOWS_BLOB_LIMIT,
    CredentialError,
    CredentialStore,
    secret_size,
)

__all__ = [
    "NO_BACKEND_MSG",
    "SERVICE",
    "WINDOWS_BLOB_LIMIT",
    "CredentialError",
    "CredentialStore",
    "secret_size",
]
