"""A replacement PC (issue 14): a supervisor brings the old PC's work back with the county's
help — and nobody else can.

The old PC's backups are encrypted with its data folder's key; the county holds that key
sealed (escrowed at the old PC's first sync). With a one-time recovery code the county
issues for the old device (``township-county device recovery-code``), this PC receives the
key and a new credential for the old device (the old credential stops working). The backup
is then checked (it must open with that key and hold the supervisor's account), copied in
as the store, migrated and registered: the next sync pushes the work the old PC never sent
and brings down the rest from the county. Someone with the backup but no code reads
nothing; someone with a code but not the supervisor's password restores nothing."""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from core import synccustody as sc
from core import syncproto as sp
from desktop import __version__
from desktop.secrets import CredentialStore
from desktop.services.registration import count_persons
from desktop.services.restore import supervisor_in
from desktop.services.sync import check_registration
from desktop.store import Store, cipher, open_store
from desktop.store import backupfiles as bf
from desktop.store import syncstate as st
from desktop.store.backupfiles import BackupError
from desktop.store.db import DB_FILENAME
from desktop.store.journal import audit_event

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovered:
    device_id: str
    service_point: str
    persons: int
    pending: int  # operations of the old PC the county does not hold yet


def _ask_county(server_url: str, code: str, ca_pem: str | None) -> sc.RecoverResponse:
    from desktop.sync import errors  # deferred: httpx loads with the sync client
    from desktop.sync.registration import device_name  # deferred: httpx loads with sync
    from desktop.sync.transport import HttpStatus, RetryPolicy, Transport  # deferred: ditto

    t = Transport(server_url.strip().rstrip("/"), retry=RetryPolicy(attempts=2), ca_pem=ca_pem)
    req = sc.RecoverRequest(code=code.strip(), device_name=device_name(), app_version=__version__)
    try:
        return sc.RecoverResponse.from_dict(t.post(sp.EP_RECOVER, req.as_dict()))
    except HttpStatus as e:
        raise errors.RegistrationFailed(
            (e.message + "。" if e.message else "") + "请向县医保局重新领取恢复码。"
        ) from e
    finally:
        t.close()


def recover(
    data_dir: str | Path,
    *,
    server_url: str,
    code: str,
    backup: str | Path,
    username: str,
    password: str,
    ca_pem: str | None = None,
) -> Recovered:
    """Bring the old PC's backup back on this PC (see the module text). Raises
    :class:`BackupError`, ``PermissionError`` or a sync error with a Chinese message; on any
    failure nothing is left behind in ``data_dir``."""
    data_dir, backup = Path(data_dir), Path(backup)
    if (data_dir / DB_FILENAME).exists():
        raise BackupError(
            "这台电脑已有本系统的数据，不能在这里恢复。请在新装的电脑（或空的数据文件夹）上操作。",
            code="RECOVER-001",
        )
    if not backup.is_file():
        raise BackupError(f"找不到备份文件：{backup}", code="BACKUP-404")
    # a slip in the address or the code is said before the one-time code is spent
    server_url, code = check_registration(server_url, code, "恢复码")
    resp = _ask_county(server_url, code, ca_pem)
    data_dir.mkdir(parents=True, exist_ok=True)
    id_file = data_dir / cipher.ID_FILENAME
    id_file.write_text(resp.folder_id + "\n", encoding="ascii")
    cipher.save_key(resp.folder_id, bytes.fromhex(resp.store_key))
    try:
        return _restore(data_dir, backup, resp, server_url, username, password, ca_pem)
    except BaseException:
        with contextlib.suppress(Exception):
            CredentialStore().delete(cipher.key_name(resp.folder_id))
        cipher.forget_all()
        for leftover in (id_file, data_dir / DB_FILENAME, data_dir / (DB_FILENAME + ".partial")):
            leftover.unlink(missing_ok=True)
        raise


def _restore(
    data_dir: Path,
    backup: Path,
    resp: sc.RecoverResponse,
    server_url: str,
    username: str,
    password: str,
    ca_pem: str | None,
) -> Recovered:
    # it opens only with the old PC's key (so it is that PC's), it is sound, this version's
    bf.verified_backup(backup)
    src = bf.open_read_only(backup)
    try:
        operator_id = supervisor_in(src, username, password)
        partial = data_dir / (DB_FILENAME + ".partial")
        bf.copy_database(src, partial)
    finally:
        src.close()
    bf.fsync_file(partial)
    os.replace(partial, data_dir / DB_FILENAME)
    store = open_store(data_dir)
    try:
        _register(store, resp, server_url, ca_pem, operator_id, backup)
        persons = count_persons(store)
        result = Recovered(
            resp.device_id, resp.service_point.name, persons, st.pending_count(store)
        )
    finally:
        store.close()
    log.warning("store recovered from %s for device %s", backup.name, resp.device_id)
    return result


def _register(
    store: Store,
    resp: sc.RecoverResponse,
    server_url: str,
    ca_pem: str | None,
    operator_id: str,
    backup: Path,
) -> None:
    CredentialStore().set(f"device:{resp.device_id}", resp.credential)
    with store.write() as db:
        st.save_device(
            db,
            server_url=server_url.strip().rstrip("/"),
            device_id=resp.device_id,
            service_point_id=resp.service_point.id,
            service_point_code=resp.service_point.code,
        )
        st.save_county_ca(db, ca_pem or st.county_ca(db))
        st.set_escrowed_folder(db, resp.folder_id)
        audit_event(
            db,
            operator_id=operator_id,
            action="store.recovered",
            entity="sync_device",
            entity_id=resp.device_id,
            after={"backup": backup.name, "service_point": resp.service_point.code},
        )
    if resp.receipt_key is not None:
        from desktop.services.receipts import install_county_key  # deferred: reportlab

        install_county_key(store, resp.receipt_key.key_id, resp.receipt_key.key)
