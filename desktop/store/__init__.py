"""The local SQLite store: connections, migrations, transactions. Owns all desktop SQL."""

from desktop.store.db import Store, connect, open_store
from desktop.store.errors import StoreError

__all__ = ["Store", "StoreError", "connect", "open_store"]
