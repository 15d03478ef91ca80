"""Remote disable (issue 14): the county disabled this PC (reported lost, or retired).

The sync worker pushes everything first, then calls :func:`erase` (through the sync hooks):
the marker is written, every key of this data folder leaves the OS credential store — the
store's key, the receipt keys, the device credential and its token — and the copies
(backups, copies kept aside) are overwritten and removed. Without its key the store file is
unreadable; :func:`finish` removes it once the app has closed it, and the next start does
the same if the power went first. The clerk is told in plain words."""

from __future__ import annotations

import logging
from pathlib import Path

from desktop.secrets import CredentialError, CredentialStore
from desktop.services.receipts import keys as receipt_keys
from desktop.store import Store, cipher
from desktop.store import syncstate as st
from desktop.store import wipe as files

log = logging.getLogger(__name__)

REASON = "报失或换下"


def _secret_names(store: Store, data_dir: Path) -> list[str]:
    folder = cipher.folder_id(data_dir, create=False)
    names = [cipher.key_name(folder)] if folder else []
    names += receipt_keys.credential_names(store)
    dev = st.device(store)
    if dev:
        names += [f"device:{dev['device_id']}", f"token:{dev['device_id']}"]
    return names


def erase(store: Store, data_dir: str | Path) -> None:
    """Crypto-erase this data folder (the store stays open, unreadable without its key)."""
    data_dir = Path(data_dir)
    names = _secret_names(store, data_dir)
    files.mark(data_dir, REASON)
    creds = CredentialStore()
    for name in names:
        try:
            creds.delete(name)
        except CredentialError as e:
            log.error("could not delete a key from the credential store: %s", e)
    cipher.forget_all()
    removed = files.remove_copies(data_dir)
    log.warning("disabled by the county: keys deleted, copies removed (%s)", ", ".join(removed))


def finish(data_dir: str | Path) -> list[str]:
    """Remove the closed store file and what remains (the marker and the logs stay)."""
    removed = files.remove_data_files(data_dir)
    log.warning("disabled by the county: data files removed (%s)", ", ".join(removed))
    return removed


def wiped_message(data_dir: str | Path) -> str | None:
    return files.marked(data_dir)
