"""The desktop sync worker: register this PC, then push the outbox and pull the county's
changes. No Qt: the GUI runs :meth:`SyncEngine.sync` in a worker thread, the CLI calls it
directly.

Guarantees kept here (sync design):
* an op's ``first_sent_at`` is committed before its first send; resends carry the same op
  ids and payloads (the county answers a replay with the stored result);
* each push answer is stored per op in one transaction; a rejected op is final and goes to
  the inbox; the rest go on;
* each pulled page is applied together with its cursor in ONE transaction, keeping a row
  only when its version is newer (at-least-once delivery);
* one worker at a time per data folder (a file lock).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core import syncproto as sp
from desktop import __version__
from desktop.errors import is_disk_full
from desktop.secrets import CredentialError, CredentialStore
from desktop.store import Store, syncruns
from desktop.store import syncstate as st
from desktop.store.journal import audit_head, now_iso
from desktop.sync import errors
from desktop.sync.apply import apply_page, apply_waiting_ytd, apply_ytd
from desktop.sync.custody import CustodyMixin, _Disabled
from desktop.sync.hooks import SyncHooks
from desktop.sync.lock import LockBusy, SyncLock
from desktop.sync.policies import install_policies
from desktop.sync.prefetch import Prefetch
from desktop.sync.registration import RegistrationMixin
from desktop.sync.results import OP_LABELS as OP_LABELS  # re-exported
from desktop.sync.results import REJECT_ACTIONS as REJECT_ACTIONS
from desktop.sync.results import settle
from desktop.sync.transport import Cancelled, HttpStatus, RetryPolicy, Transport

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]


@dataclass
class SyncSummary:
    pushed: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    received: int = 0  # changes received (snapshot + pull)
    applied: int = 0  # changes newer than what was held
    snapshot: int = 0  # snapshot rows received
    inbox_new: int = 0
    pending: int = 0  # operations still waiting after this sync
    round_trips: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    seconds: float = 0.0
    finished_at: str = ""
    update_app: bool = False  # the county speaks a newer protocol than this app
    update_offer: dict | None = None  # the application version the county lets this desk take

    def line(self) -> str:
        parts = [f"上传 {self.pushed} 条"]
        if self.by_status:
            parts[0] += (
                "（"
                + "，".join(
                    f"{STATUS_LABELS.get(k, k)} {v}" for k, v in sorted(self.by_status.items())
                )
                + "）"
            )
        parts.append(f"下载 {self.received} 条（更新 {self.applied} 条）")
        if self.inbox_new:
            parts.append(f"新通知 {self.inbox_new} 条")
        parts.append(f"待上传 {self.pending} 条")
        parts.append(f"往返 {self.round_trips} 次，{self.bytes_sent + self.bytes_received} 字节")
        if self.update_app:
            parts.append("县医保服务器已升级，请尽快联系技术人员升级本软件")
        return "同步完成：" + "；".join(parts)


STATUS_LABELS = {
    sp.ST_APPLIED: "已接收",
    sp.ST_DUPLICATE: "重复",
    sp.ST_MERGED: "已合并",
    sp.ST_REJECTED: "被拒绝",
    sp.ST_CONFLICT: "冲突",
}


class _TooLarge(Exception):
    pass


class SyncEngine(RegistrationMixin, CustodyMixin):
    def __init__(
        self,
        store: Store,
        data_dir: str | Path,
        *,
        operator_id: str = "system",
        operator_name: str = "",
        credentials: CredentialStore | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        batch_size: int = sp.RECOMMENDED_BATCH_OPS,
        pull_limit: int = sp.DEFAULT_PULL_LIMIT,
        snapshot_limit: int = sp.DEFAULT_SNAPSHOT_LIMIT,
        hooks: SyncHooks | None = None,
    ):
        self.store = store
        self.hooks = hooks or SyncHooks()
        self.data_dir = Path(data_dir)
        self.operator_id = operator_id
        self.operator_name = operator_name
        self.creds = credentials or CredentialStore()
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.batch_size = max(1, min(batch_size, sp.MAX_BATCH_OPS))
        self.pull_limit = pull_limit
        self.snapshot_limit = snapshot_limit
        self.cancel_event = threading.Event()
        self._token: str | None = None
        self._token_exp = 0.0
        self._disabled = False  # the county disabled this PC (token answer or 403)
        self.transport: Transport | None = None

    # ------------------------------------------------------------------ helpers
    def cancel(self) -> None:
        self.cancel_event.set()

    def _transport(self, server_url: str, ca_pem: str | None = None) -> Transport:
        if self.transport is None or self.transport.base_url != server_url.rstrip("/"):
            self.transport = Transport(
                server_url,
                retry=self.retry,
                timeout=self.timeout,
                cancel=self.cancel_event,
                ca_pem=ca_pem or st.county_ca(self.store),
            )
        return self.transport

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    @staticmethod
    def _map(e: HttpStatus) -> errors.SyncError:
        if e.code == sp.ERR_DEVICE_DISABLED:
            return _Disabled()
        if e.status == 426 or e.code == sp.ERR_PROTOCOL:
            return errors.TooOld(e.message or None)
        if e.status == 401:
            return errors.AuthFailed(
                (e.message + "。" if e.message else "") + errors.AuthFailed.default
            )
        if e.status == 413:
            return errors.ProtocolFailed("上传内容过大，县医保服务器拒收。请联系技术人员。")
        text = e.message or ""
        return errors.ProtocolFailed(
            f"{text}（{e.status} {e.code}）。数据仍保存在本机，请联系县医保局技术人员。"
        )

    # ------------------------------------------------------------------ registration
    # ------------------------------------------------------------------ tokens
    def _credential(self, dev: dict) -> str:
        try:
            cred = self.creds.get(f"device:{dev['device_id']}")
        except CredentialError as e:
            raise errors.CredentialMissing(str(e)) from e
        if not cred:
            raise errors.NotRegistered(
                "系统凭据库中找不到本机的设备凭证（可能重装过系统）。请向县医保局领取新的注册码，"
                "在“同步”页重新注册本机。"
            )
        return cred

    def _get_token(self, dev: dict, *, force: bool = False) -> str:
        now = time.time()
        if not force and self._token and self._token_exp - 30 > now:
            return self._token
        name = f"token:{dev['device_id']}"
        if not force:
            try:
                cached = self.creds.get(name)
            except CredentialError:
                cached = None
            if cached:
                exp, op, tok = (cached.split("|", 2) + ["", "", ""])[:3]
                try:
                    exp_f = float(exp)
                except ValueError:
                    exp_f = 0.0
                if op == self.operator_id and tok and exp_f - 30 > now:
                    self._token, self._token_exp = tok, exp_f
                    return tok
        cred = self._credential(dev)
        req = sp.TokenRequest(cred, self.operator_id, self.operator_name)
        try:
            doc = self._transport(dev["server_url"]).post(sp.EP_TOKEN, req.as_dict())
        except HttpStatus as e:
            raise self._map(e) from e
        resp = sp.TokenResponse.from_dict(doc)
        self._disabled = resp.disabled
        self._token, self._token_exp = resp.token, now + resp.expires_in
        try:
            self.creds.set(name, f"{self._token_exp:.0f}|{self.operator_id}|{resp.token}")
        except CredentialError:
            pass  # the token is only a cache: the next sync asks for a new one
        return resp.token

    def _call(self, dev: dict, path: str, body: dict) -> dict:
        t = self._transport(dev["server_url"])
        token = self._get_token(dev)
        try:
            return t.post(path, body, token=token)
        except HttpStatus as e:
            if e.status == 413:
                raise _TooLarge() from e
            if e.status != 401 or e.code == sp.ERR_CREDENTIAL:
                raise self._map(e) from e
        token = self._get_token(dev, force=True)  # 401: refresh the token once
        try:
            return t.post(path, body, token=token)
        except HttpStatus as e:
            if e.status == 413:
                raise _TooLarge() from e
            raise self._map(e) from e

    # ------------------------------------------------------------------ sync
    def sync(
        self,
        *,
        trigger: str = "manual",
        progress: ProgressFn | None = None,
        cancel: threading.Event | None = None,
    ) -> SyncSummary:
        """One full sync: push, first-sync snapshot if needed, pull. Raises SyncError."""
        if cancel is not None:
            self.cancel_event = cancel
            if self.transport is not None:
                self.transport.cancel = cancel
        lock = SyncLock(self.data_dir)
        try:
            lock.acquire()
        except LockBusy as e:
            raise errors.Busy() from e
        started = time.monotonic()
        summary = SyncSummary()
        run_id = None
        try:
            dev = st.device(self.store)
            if dev is None:
                raise errors.NotRegistered()
            t = self._transport(dev["server_url"])
            t.stats.__init__()
            with self.store.write() as db:
                syncruns.close_dangling(db, now_iso())
                run_id = syncruns.start_run(db, now_iso(), trigger)
            inbox_before = self._open_inbox()
            report = progress or (lambda done, total, text: None)
            try:
                self._push(dev, summary, report)
                if self._disabled:
                    raise _Disabled()
                self._escrow(dev)
                done, token = st.snapshot_state(self.store)
                if not done:
                    self._snapshot(dev, token, summary, report)
                self._pull(dev, summary, report)
            except _Disabled:
                self._wipe(dev, summary, report)
            with self.store.write() as db:
                if summary.applied or summary.pushed:  # a no-op sync skips the scan
                    st.reproject_waiting(db)
                    self._apply_waiting_ytd(db)
                syncruns.set_last_sync_at(db, now_iso())
            self._install_policies()
            summary.inbox_new = max(0, self._open_inbox() - inbox_before)
            summary.pending = st.pending_count(self.store)
            self._finish(run_id, summary, started, "ok", "")
            return summary
        except Cancelled as e:
            self._finish(run_id, summary, started, "cancelled", e.message)
            raise
        except errors.SyncError as e:
            self._finish(run_id, summary, started, "failed", f"{e.code} {e.message}")
            raise
        except Exception as e:
            if is_disk_full(e) or is_disk_full(e.__cause__ or e):
                log.error("sync stopped: the disk is full (%s)", e)
                full = errors.DiskFull(detail=repr(e))
                self._finish(run_id, summary, started, "failed", f"{full.code} {full.message}")
                raise full from e
            log.exception("sync failed")
            self._finish(run_id, summary, started, "failed", f"E-SYNC {type(e).__name__}: {e}")
            raise errors.SyncError(detail=repr(e)) from e
        finally:
            lock.release()

    def _install_policies(self) -> int:
        """The county's published policy files into ``<data_dir>/policies/`` (see
        :func:`desktop.sync.policies.install_policies`). Runs after every sync, so a sync
        killed before this step installs them next time."""
        return install_policies(self.store, self.data_dir / self.hooks.policy_dirname)

    def _open_inbox(self) -> int:
        return syncruns.open_inbox_count(self.store)

    def _finish(self, run_id, summary: SyncSummary, started: float, outcome: str, msg: str):
        summary.seconds = time.monotonic() - started
        summary.finished_at = now_iso()
        if self.transport is not None:
            s = self.transport.stats
            summary.round_trips = s.round_trips
            summary.update_app = (s.server_protocol or 0) > sp.PROTOCOL_VERSION
            summary.bytes_sent = s.bytes_sent
            summary.bytes_received = s.bytes_received
        if run_id is None:
            return
        try:
            with self.store.write() as db:
                syncruns.finish_run(
                    db,
                    run_id,
                    finished_at=summary.finished_at,
                    pushed=summary.pushed,
                    pulled=summary.received,
                    round_trips=summary.round_trips,
                    bytes_sent=summary.bytes_sent,
                    bytes_received=summary.bytes_received,
                    outcome=outcome,
                    message=msg,
                )
        except Exception:  # never hide the real error behind a bookkeeping one
            log.exception("could not record the sync run")

    # ------------------------------------------------------------------ push
    def _push(self, dev: dict, summary: SyncSummary, progress: ProgressFn) -> None:
        total = st.pending_count(self.store)
        if total == 0:
            return
        size = self.batch_size
        done = 0
        progress(0, total, f"正在上传：0 / {total}")
        while True:
            self.transport.check_cancel()
            rows = st.pending_ops(self.store, size)
            if not rows:
                break
            with self.store.write() as db:
                st.mark_first_sent(db, [r["op_id"] for r in rows])
            ops = [sp.Op.from_outbox_row(r) for r in rows]
            req = sp.PushRequest(batch_id=str(uuid.uuid4()), ops=ops)
            try:
                doc = self._call(dev, sp.EP_PUSH, req.as_dict())
            except _TooLarge:
                if size > 1:
                    size = max(1, size // 2)
                    continue
                self._reject_locally(rows[0])
                summary.pushed += 1
                summary.by_status[sp.ST_REJECTED] = summary.by_status.get(sp.ST_REJECTED, 0) + 1
                continue
            resp = sp.PushResponse.from_dict(doc)
            by_id = {r["op_id"]: r for r in rows}
            settled = 0
            with self.store.write() as db:
                for res in resp.results:
                    row = by_id.get(res.op_id)
                    if row is None:
                        continue
                    if self._settle(db, res, row):
                        settled += 1
                        summary.by_status[res.status] = summary.by_status.get(res.status, 0) + 1
            if settled == 0:
                raise errors.ProtocolFailed(
                    "县医保服务器没有答复本批上传的记录。数据仍保存在本机，请联系县医保局技术人员。"
                )
            summary.pushed += settled
            done += settled
            progress(done, max(total, done), f"正在上传：{done} / {max(total, done)}")

    def _reject_locally(self, row: dict) -> None:
        res = sp.OpResult(
            op_id=row["op_id"],
            status=sp.ST_REJECTED,
            message="记录过大，县医保服务器拒收",
            code=sp.R_TOO_LARGE,
        )
        with self.store.write() as db:
            self._settle(db, res, row, local=True)

    def _settle(self, db, res: sp.OpResult, row: dict, *, local: bool = False) -> bool:
        return settle(db, res, row, local=local)

    # ------------------------------------------------------------------ snapshot and pull
    def _snapshot(self, dev, token, summary: SyncSummary, progress: ProgressFn) -> None:
        progress(0, 0, "首次同步：正在下载本服务点的数据…")
        with Prefetch(lambda t: self._snapshot_page(dev, t)) as pages:
            pages.ask(token)
            while True:
                resp = pages.take()
                self.transport.check_cancel()  # a page come after 取消 is not stored
                more = not resp.done and bool(resp.next_page_token)
                if more:  # the next page comes while this one is stored
                    pages.ask(resp.next_page_token)
                with self.store.write() as db:
                    apply_page(self.store, db, resp.changes, summary, self.hooks)
                    st.save_snapshot_progress(db, resp.next_page_token, resp.done, resp.cursor)
                summary.received += len(resp.changes)
                summary.snapshot += len(resp.changes)
                progress(summary.snapshot, 0, f"首次同步：已下载 {summary.snapshot} 条")
                if not more:
                    if not resp.done:
                        with self.store.write() as db:
                            st.save_snapshot_progress(db, None, True, resp.cursor)
                    return

    def _snapshot_page(self, dev: dict, token) -> sp.SnapshotResponse:
        req = sp.SnapshotRequest(page_token=token, limit=self.snapshot_limit)
        return sp.SnapshotResponse.from_dict(self._page(dev, sp.EP_SNAPSHOT, req.as_dict()))

    def _page(self, dev: dict, path: str, body: dict) -> dict:
        """One page of the snapshot or of a pull (run by :class:`Prefetch`'s thread)."""
        self.transport.check_cancel()
        try:
            return self._call(dev, path, body)
        except _TooLarge as e:
            raise errors.ProtocolFailed() from e

    def _apply_ytd(self, db, data: dict) -> bool:
        return apply_ytd(self.store, db, data, self.hooks)

    def _apply_waiting_ytd(self, db) -> int:
        return apply_waiting_ytd(self.store, db, self.hooks)

    def _operator_or_none(self, db) -> str | None:
        """This engine's operator when it is a real local operator (not a scheduled run)."""
        return self.operator_id if syncruns.operator_exists(db.conn, self.operator_id) else None

    def _pull(self, dev: dict, summary: SyncSummary, progress: ProgressFn) -> None:
        cursor = st.cursors(self.store)
        head = audit_head(self.store.conn)  # anchored at the county with the first page
        status = {
            "pending": st.pending_count(self.store),
            "last_error": syncruns.last_failure_code(self.store),
            "app_version": __version__,
            "update": self.store.setting("update_state", "") or "",
        }

        def pull_page(req: sp.PullRequest) -> sp.PullResponse:
            return sp.PullResponse.from_dict(self._page(dev, sp.EP_PULL, req.as_dict()))

        with Prefetch(pull_page) as pages:
            pages.ask(
                sp.PullRequest(
                    cursor=cursor, limit=self.pull_limit, audit_head=head, desk_status=status
                )
            )
            while True:
                resp = pages.take()
                self.transport.check_cancel()  # a page come after 取消 is not stored
                summary.update_offer = resp.update
                following = {**cursor, **resp.next_cursor}
                if resp.has_more:  # the next page comes while this one is stored
                    pages.ask(sp.PullRequest(cursor=following, limit=self.pull_limit))
                with self.store.write() as db:
                    apply_page(self.store, db, resp.changes, summary, self.hooks)
                    st.save_cursors(db, following)
                summary.received += len(resp.changes)
                cursor = following
                if resp.changes:
                    progress(summary.received, 0, f"正在下载：已收到 {summary.received} 条")
                if not resp.has_more:
                    return
