"""Registering this PC with the county: a one-time code for a device credential (kept in
the OS keyring), the county's CA certificate, the service point's receipt key. A mix-in of
:class:`desktop.sync.engine.SyncEngine`."""

from __future__ import annotations

import socket

from core import syncproto as sp
from desktop import __version__
from desktop.secrets import CredentialError
from desktop.store import syncstate as st
from desktop.sync import errors
from desktop.sync.transport import HttpStatus, RetryPolicy, check_url, load_ca


def device_name() -> str:
    try:
        return socket.gethostname()[:60]
    except OSError:
        return ""


class RegistrationMixin:
    def register(
        self, server_url: str, code: str, *, name: str | None = None, ca_pem: str | None = None
    ) -> dict:
        """Exchange a one-time code for a device credential (kept in the OS keyring). With
        ``ca_pem`` (the county's CA certificate), only a server certificate it signed is
        accepted, from now on."""
        code = (code or "").strip().upper()
        server_url = (server_url or "").strip().rstrip("/")
        check_url(server_url)
        if ca_pem:
            load_ca(ca_pem)  # a bad file is said before the one-time code is spent
        if not code:
            raise errors.RegistrationFailed("请填写县医保局提供的注册码。")
        try:
            self.creds.get("probe")  # fail before the one-time code is spent
        except CredentialError as e:
            raise errors.CredentialMissing(str(e)) from e
        # a person is waiting at the screen: two tries, not the sync's patient backoff
        self.close()  # a new address or certificate: a new connection
        t = self._transport(server_url, ca_pem)
        t.retry = RetryPolicy(attempts=2, base_delay=min(self.retry.base_delay, 0.5))
        req = sp.RegisterRequest(
            code=code, device_name=name or device_name(), app_version=__version__
        )
        try:
            doc = t.post(sp.EP_REGISTER, req.as_dict())
        except HttpStatus as e:
            if e.code == sp.ERR_CODE_INVALID or e.status in (400, 404, 409, 410):
                raise errors.RegistrationFailed(
                    (e.message + "。" if e.message else "") + errors.RegistrationFailed.default
                ) from e
            raise self._map(e) from e
        finally:
            t.retry = self.retry
        resp = sp.RegisterResponse.from_dict(doc)
        try:
            self.creds.set(f"device:{resp.device_id}", resp.credential)
        except CredentialError as e:
            raise errors.CredentialMissing(str(e)) from e
        with self.store.write() as db:
            old = st.device(db)
            st.save_device(
                db,
                server_url=server_url,
                device_id=resp.device_id,
                service_point_id=resp.service_point.id,
                service_point_code=resp.service_point.code,
            )
            if ca_pem:
                st.save_county_ca(db, ca_pem)
            if resp.receipt_key is not None and self.hooks.install_county_key is not None:
                # the county keeps this key to check the codes on this point's receipts
                self.hooks.install_county_key(
                    self.store,
                    resp.receipt_key.key_id,
                    resp.receipt_key.key,
                    self._operator_or_none(db),
                )
        if old and old["device_id"] != resp.device_id:
            try:
                self.creds.delete(f"device:{old['device_id']}")
                self.creds.delete(f"token:{old['device_id']}")
            except CredentialError:
                pass
        return {
            "device_id": resp.device_id,
            "server_url": server_url,
            "service_point": resp.service_point.__dict__,
            "receipt_key_id": resp.receipt_key.key_id if resp.receipt_key else None,
        }
