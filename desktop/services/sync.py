"""Sync as the GUI and the CLI see it: register this PC, run one sync, the state for the
status bar, the conflict inbox. The work itself is in ``desktop/sync`` (no Qt)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from core import regcodes
from core import syncproto as sp
from core.errors import ValidationError
from desktop.services import contribution, estimate, policies, settings, updates, wipe
from desktop.services.context import Actor
from desktop.store import Store, places, syncruns
from desktop.store import syncstate as st
from desktop.store.journal import audit_event
from desktop.sync.engine import SyncEngine, SyncSummary
from desktop.sync.hooks import SyncHooks
from desktop.sync.transport import RetryPolicy

DEFAULT_INTERVAL_MINUTES = 10
STATE_LABELS = {
    "never": "尚未同步",
    "ok": "已是最新",
    "failed": "同步失败",
    "offline": "离线",
    "syncing": "同步中",
    "unregistered": "未注册",
}
ROW_STATE_LABELS = {"pending": "待上传", "confirmed": "已确认", "local": "仅本机"}


# figures and confirmations written by the county, not by whoever ran the sync
COUNTY_ACTOR = Actor(None, "county-sync", "县医保局同步", "clerk", "")


def _install_county_key(store: Store, key_id: str, key: str, operator_id: str | None) -> None:
    # imported on use: receipts brings reportlab (about 0.5 s), which the window showing
    # the sync status does not need at start-up
    from desktop.services.receipts import install_county_key

    install_county_key(store, key_id, key, operator_id=operator_id)


def _apply_confirmations(store: Store, confirmations: list[dict]) -> None:
    contribution.apply_county_confirmations(store, confirmations, operator_id=None)


def _set_county_ytd(store: Store, person_id: str, year: int, figures: dict, as_of) -> None:
    estimate.set_county_ytd(
        store, COUNTY_ACTOR, person_id=person_id, year=year, figures=figures, as_of=as_of
    )


# what the services do with what a sync brings (the sync worker imports no service)
HOOKS = SyncHooks(
    install_county_key=_install_county_key,
    apply_confirmations=_apply_confirmations,
    set_county_ytd=_set_county_ytd,
    policy_dirname=policies.POLICY_DIRNAME,
    wipe=wipe.erase,
)


def actor_by_username(store: Store, username: str) -> Actor | None:
    """The active operator ``username`` as an Actor (None when there is none)."""
    row = syncruns.active_operator(store, username)
    if row is None:
        return None
    sp = places.service_point(store)
    return Actor(
        row["id"], row["username"], row["display_name"], row["role"], sp["id"] if sp else ""
    )


def engine_for(
    store: Store,
    data_dir: str | Path,
    actor: Actor | None,
    *,
    retry: RetryPolicy | None = None,
    **kw,
) -> SyncEngine:
    return SyncEngine(
        store,
        data_dir,
        operator_id=actor.operator_id if actor else sp.SCHEDULED_OPERATOR,
        operator_name=actor.display_name if actor else "定时同步",
        retry=retry,
        hooks=HOOKS,
        **kw,
    )


def read_ca(path: str | Path) -> str:
    """The county's CA certificate from a .pem/.crt file (checked: it must hold one)."""
    from desktop.sync.errors import BadCaFile  # deferred: the sync client loads on first use
    from desktop.sync.transport import load_ca  # deferred: the sync client loads on first use

    try:
        pem = Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as e:
        raise BadCaFile() from e
    load_ca(pem)
    return pem


def check_registration(server_url: str, code: str, what: str = "注册码") -> tuple[str, str]:
    """The address and code to ask the county with, or a ValidationError naming the box
    (``server`` / ``code``) that cannot be right — said before the county is asked, so a
    typing slip does not cost a try of the one-time code."""
    from desktop.sync.errors import InsecureServer  # deferred: the sync client loads on use
    from desktop.sync.transport import check_url  # deferred: the sync client loads on use

    errors: dict[str, str] = {}
    url = ""
    if not (server_url or "").strip():
        errors["server"] = "请填写县医保服务器地址（县医保局通知上的网址）"
    else:
        try:
            url = settings.validate_url(server_url, "server")
            check_url(url)
        except ValidationError as e:
            errors.update(e.errors)
        except InsecureServer:
            errors["server"] = "只能用 https:// 开头的加密地址：本机不向未加密的地址发送参保人信息"
    if not (code or "").strip():
        errors["code"] = f"请填写{what}"
    elif not regcodes.code_well_formed(code):
        errors["code"] = f"{what}是12位字母和数字（如 7KQM-X2PD-9TZR，没有0、1、O、I、L），请核对"
    if errors:
        raise ValidationError(errors)
    return url, regcodes.normalize_code(code)


def register_device(
    store: Store,
    data_dir: str | Path,
    server_url: str,
    code: str,
    *,
    actor: Actor | None,
    ca_pem: str | None = None,
) -> dict:
    """Register this PC with the county (a supervisor at the window, or a technician at the
    command line when ``actor`` is None); ``ca_pem`` is the county's CA certificate."""
    if actor is not None:
        actor.require_supervisor("注册本机到县医保服务器")
    server_url, code = check_registration(server_url, code)
    engine = engine_for(store, data_dir, actor)
    try:
        result = engine.register(server_url, code, ca_pem=ca_pem)
    finally:
        engine.close()
    with store.write() as db:
        audit_event(
            db,
            operator_id=actor.operator_id if actor else None,
            action="sync.register_device",
            entity="sync_device",
            entity_id=result["device_id"],
            before=None,
            after={"server_url": result["server_url"], "service_point": result["service_point"]},
        )
    return result


def run_sync(
    store: Store,
    data_dir: str | Path,
    actor: Actor | None,
    *,
    trigger: str = "manual",
    progress: Callable[[int, int, str], None] | None = None,
    cancel: threading.Event | None = None,
    retry: RetryPolicy | None = None,
    **kw,
) -> SyncSummary:
    updates.absorb_outcome(store, Path(data_dir))  # the county hears it with this pull
    engine = engine_for(store, data_dir, actor, retry=retry, **kw)
    try:
        summary = engine.sync(trigger=trigger, progress=progress, cancel=cancel)
    finally:
        engine.close()
    fetch_update(store, data_dir, summary, cancel=cancel)
    return summary


def fetch_update(
    store: Store, data_dir: str | Path, summary: SyncSummary, *, cancel=None, **kw
) -> str:
    """After a sync: keep the county's update offer and, when it is a newer version, fetch
    and stage it (in the background worker, at a capped byte rate). Returns the new state."""
    updates.note_offer(store, summary.update_offer)
    dev = st.device(store)
    if dev is None:
        return ""
    return updates.fetch_offered(
        store, Path(data_dir), dev["server_url"], ca_pem=st.county_ca(store), cancel=cancel, **kw
    )


def status(store: Store) -> dict:
    """What the status bar and the 同步 page show."""
    dev = st.device(store)
    last = store.setting("last_sync_at")
    err = store.setting("last_sync_error")
    run = syncruns.last_run(store)
    if dev is None:
        state = "unregistered"
    elif run and run["outcome"] == "failed":
        state = "offline" if (run["message"] or "").startswith("E-SYNC-OFFLINE") else "failed"
    elif last:
        state = "ok"
    else:
        state = "never"
    return {
        "state": state,
        "state_label": STATE_LABELS[state],
        "registered": dev is not None,
        "server_url": dev["server_url"] if dev else None,
        "county_url": store.setting("county.server_url"),
        "service_point_code": dev["service_point_code"] if dev else None,
        "device_id": dev["device_id"] if dev else None,
        "last_sync_at": last,
        "last_error": err if state in ("failed", "offline") else None,
        "pending": st.pending_count(store),
        "inbox_open": syncruns.open_inbox_count(store),
        "version_note": updates.note(store),
        "update_staged": updates.state(store).startswith("staged:"),
    }


def bar_state(s: dict) -> str:
    """Map a status to the main window's status-bar states."""
    return {"unregistered": "never"}.get(s["state"], s["state"])


def inbox(store: Store, *, include_resolved: bool = False) -> list[dict]:
    return st.inbox(store, include_resolved=include_resolved)


def resolve_inbox_item(store: Store, actor: Actor, item_id: str) -> bool:
    """The clerk has done what the item asked; audited."""
    with store.write() as db:
        ok = st.resolve_inbox(db, item_id, actor.operator_id)
        if ok:
            audit_event(
                db,
                operator_id=actor.operator_id,
                action="sync.inbox_resolved",
                entity="sync_inbox",
                entity_id=item_id,
                before=None,
                after={"resolved": True},
            )
    return ok


def row_state(store: Store, entity: str, entity_id: str) -> str:
    """待上传 / 已确认 / 仅本机 for a row on screen."""
    return ROW_STATE_LABELS[st.row_state(store, entity, entity_id)]


def interval_minutes(store: Store) -> int:
    try:
        return max(1, int(store.setting("sync_interval_minutes") or DEFAULT_INTERVAL_MINUTES))
    except ValueError:
        return DEFAULT_INTERVAL_MINUTES
