"""The local SQLite store: connections, migrations, transactions. Owns all desktop SQL."""

from desktop.store.db import Store, StoreError, connect, open_store

__all__ = ["Store", "StoreError", "connect", "open_store"]
