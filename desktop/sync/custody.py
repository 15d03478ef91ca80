"""What the county keeps for this PC and what it may order: the data folder's key in escrow
(for a replacement PC), the audit chain's anchors, and remote disable (push everything,
erase, report). A mix-in of :class:`desktop.sync.engine.SyncEngine`."""

from __future__ import annotations

import logging

from core import synccustody as sc
from core import syncproto as sp
from desktop.store import cipher
from desktop.store import syncstate as st
from desktop.sync import errors
from desktop.sync.transport import HttpStatus

log = logging.getLogger("desktop.sync.engine")


class _Disabled(errors.SyncError):
    """Internal: the county answered that this device is disabled."""


class CustodyMixin:
    def _escrow(self, dev: dict) -> None:
        """Once per data folder: the county keeps (sealed) this folder's key, so that a
        replacement PC can open this PC's encrypted backup with a county recovery code."""
        folder = cipher.folder_id(self.data_dir, create=False)
        key = getattr(self.store, "key", None)
        if not folder or not key or st.escrowed_folder(self.store) == folder:
            return
        req = sc.EscrowRequest(folder_id=folder, store_key=key.hex())
        try:
            self._call(dev, sp.EP_ESCROW, req.as_dict())
        except _Disabled:
            raise
        except errors.SyncError as e:  # a county before escrow: the next sync tries again
            log.warning("key escrow not done: %s", e.code)
            return
        with self.store.write() as db:
            st.set_escrowed_folder(db, folder)

    def audit_anchors(self) -> list[dict]:
        """The audit-chain heads the county holds for this PC (newest first)."""
        dev = st.device(self.store)
        if dev is None:
            raise errors.NotRegistered()
        try:
            return list(self._call(dev, sp.EP_AUDIT_ANCHORS, {}).get("anchors") or [])
        finally:
            self.close()

    def _wipe(self, dev: dict, summary, progress) -> None:
        """The county disabled this PC: push whatever it still holds (a failure here leaves
        everything for the next contact), erase, tell the county, say so."""
        self._disabled = True
        self._push(dev, summary, progress)
        if st.pending_count(self.store):
            raise errors.ProtocolFailed("本机已被停用，但还有记录没有上传完。请稍后再同步。")
        log.warning("the county disabled this device: everything pushed, erasing")
        if self.hooks.wipe is not None:
            self.hooks.wipe(self.store, self.data_dir)
        try:
            self.transport.post(sp.EP_WIPED, {}, token=self._token)
        except (errors.SyncError, HttpStatus) as e:  # the county learns at the next contact
            log.warning("could not tell the county the data were erased: %s", e)
        raise errors.DeviceDisabled()
