"""Operators and log-in. Passwords are hashed with argon2id (argon2-cffi).

After set-up a supervisor manages the operators in the app (系统 → 操作员管理) and a
technician with ``township-desk operators …``: add a clerk, reset a password, disable or
enable an account. Every change is audited; ``by=None`` means the command line."""

from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import ValidationError
from core.names import normalize_name
from desktop.services.context import Actor
from desktop.store import Store
from desktop.store import operators as op_store
from desktop.store.journal import audit_event, new_id, now_iso

_hasher = PasswordHasher()  # argon2id with the library's recommended parameters
ROLES = {"clerk": "经办员", "supervisor": "主管"}
PASSWORD_MIN = 6


class LoginFailed(Exception):
    pass


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _validate_new_operator(
    username: str, display_name: str, password: str, role: str
) -> tuple[str, str]:
    errors: dict[str, str] = {}
    u = (username or "").strip()
    if not u or not u.isascii() or not u.replace("_", "").replace(".", "").isalnum() or len(u) > 32:
        errors["username"] = "用户名请用1-32位字母、数字、下划线或点"
    try:
        name = normalize_name(display_name, field="display_name", label="姓名")
    except ValidationError as e:
        errors.update(e.errors)
        name = ""
    if len(password or "") < PASSWORD_MIN:
        errors["password"] = f"密码至少{PASSWORD_MIN}位"
    if role not in ROLES:
        errors["role"] = "角色只能是经办员或主管"
    if errors:
        raise ValidationError(errors)
    return u, name


def service_point_id(store: Store) -> str | None:
    return op_store.service_point_id(store)


def _check_password(password: str, field: str = "password") -> None:
    if len(password or "") < PASSWORD_MIN:
        raise ValidationError({field: f"密码至少{PASSWORD_MIN}位"})


def create_operator(
    store: Store, *, username: str, display_name: str, password: str, role: str, by: Actor | None
) -> Actor:
    """Create an operator. ``by`` must be a supervisor, except for the first (setup) one."""
    u, name = _validate_new_operator(username, display_name, password, role)
    return _create(store, u, name, password, role, by=by, first_only=True)


def add_operator(
    store: Store, *, username: str, display_name: str, password: str, role: str, by: Actor | None
) -> Actor:
    """A supervisor (or, with ``by=None``, a technician at the command line) adds an
    operator after set-up."""
    if by is not None:
        by.require_supervisor("添加操作员")
    u, name = _validate_new_operator(username, display_name, password, role)
    return _create(store, u, name, password, role, by=by, first_only=False)


def _create(
    store: Store, u: str, name: str, password: str, role: str, *, by: Actor | None, first_only: bool
) -> Actor:
    with store.write() as db:
        if first_only and by is None and op_store.count(db):
            raise PermissionError("只有主管可以添加操作员")
        if by is not None:
            by.require_supervisor("添加操作员")
        if op_store.username_taken(db, u):
            raise ValidationError({"username": f"用户名“{u}”已被使用"})
        oid = new_id()
        row = {
            "id": oid,
            "username": u,
            "display_name": name,
            "role": role,
            "password_hash": hash_password(password),
            "active": 1,
            "created_at": now_iso(),
        }
        op_store.insert(db, row)
        public = {k: v for k, v in row.items() if k != "password_hash"}
        audit_event(
            db,
            operator_id=by.operator_id if by else (None if not first_only else oid),
            action="operator.create",
            entity="operator",
            entity_id=oid,
            before=None,
            after=public,
        )
    sp = service_point_id(store) or ""
    return Actor(oid, u, name, role, sp)


# Wrong passwords in a row: from DELAY_AFTER on, the next try waits DELAY_SECONDS; at
# LOCK_AFTER the account locks until a supervisor unlocks it (an app setting, not a rule).
DELAY_AFTER = 3
DELAY_SECONDS = 30
LOCK_AFTER = 5


def _refuse_locked(row, now: dt.datetime) -> None:
    """Refuse a locked account, or a try inside the delay after repeated wrong passwords —
    before the password is even checked (so guessing gains nothing)."""
    if row["locked"]:
        raise LoginFailed(
            f"账号“{row['username']}”因连续{LOCK_AFTER}次密码错误已锁定，请主管在“操作员管理”中解锁"
        )
    if row["failed_logins"] >= DELAY_AFTER and row["last_failed_at"]:
        last = dt.datetime.fromisoformat(row["last_failed_at"])
        elapsed = (now - last).total_seconds()
        if 0 <= elapsed < DELAY_SECONDS:
            wait = int(DELAY_SECONDS - elapsed) + 1
            raise LoginFailed(f"密码已连续输错{row['failed_logins']}次，请{wait}秒后再试")


def login(
    store: Store,
    username: str,
    password: str,
    *,
    now: dt.datetime | None = None,
    confirming: bool = False,
) -> Actor:
    """Check a password; raises LoginFailed with a Chinese message. Audited. Repeated wrong
    passwords first delay the next try, then lock the account (a supervisor unlocks).
    ``confirming``: a supervisor confirms a clerk's step (作废/退费) without logging in —
    audited as ``operator.confirm``, so the desk still offers the clerk at the next log-in."""
    now = now or dt.datetime.now(dt.UTC)
    row = op_store.by_username(store, (username or "").strip())
    if row is not None and not row["active"]:
        row = None
    if row is not None:
        _refuse_locked(row, now)
    ok = False
    if row is not None:
        try:
            ok = _hasher.verify(row["password_hash"], password or "")
        except (VerificationError, InvalidHashError):
            ok = False
    failures = 0
    with store.write() as db:
        if row is not None:
            if ok:
                op_store.clear_failures(db, row["id"])
            else:
                failures = op_store.record_failure(db, row["id"], now.isoformat(), LOCK_AFTER)
        audit_event(
            db,
            operator_id=row["id"] if row else None,
            action=("operator.confirm" if confirming else "operator.login")
            + ("" if ok else "_failed"),
            entity="operator",
            entity_id=row["id"] if row else None,
            before=None,
            after=None,
            extra={"username": (username or "")[:64]},
        )
        if ok and _hasher.check_needs_rehash(row["password_hash"]):
            op_store.set_password_hash(db, row["id"], hash_password(password))
    if not ok:
        if failures >= LOCK_AFTER:
            raise LoginFailed(
                f"密码已连续输错{LOCK_AFTER}次，账号已锁定，请主管在“操作员管理”中解锁"
            )
        raise LoginFailed("用户名或密码不正确，请重新输入")
    return Actor(
        row["id"], row["username"], row["display_name"], row["role"], service_point_id(store) or ""
    )


def last_login_username(store: Store) -> str:
    """The name to offer in the log-in box: whoever logged in last at this desk."""
    return op_store.last_login_username(store)


def list_operators(store: Store) -> list[dict]:
    """Every operator (public fields, no hashes), active ones first."""
    return op_store.list_all(store)


def reset_password(store: Store, *, operator_id: str, new_password: str, by: Actor | None) -> dict:
    """Set a new password for an operator (a supervisor, or a technician with ``by=None``)."""
    if by is not None:
        by.require_supervisor("重设密码")
    _check_password(new_password)
    with store.write() as db:
        row = op_store.get(db, operator_id)
        if row is None:
            raise ValidationError({"operator": "找不到这个操作员"})
        op_store.set_password_hash(db, operator_id, hash_password(new_password))
        audit_event(
            db,
            operator_id=by.operator_id if by else None,
            action="operator.reset_password",
            entity="operator",
            entity_id=operator_id,
            before=None,
            after=None,
            extra={"username": row["username"], "via": "窗口" if by else "命令行"},
        )
    return row


def unlock_operator(store: Store, *, operator_id: str, by: Actor | None) -> dict:
    """A supervisor (or the technician, ``by=None``) unlocks an account locked by wrong
    passwords. Audited."""
    if by is not None:
        by.require_supervisor("解锁操作员")
    with store.write() as db:
        row = op_store.get(db, operator_id)
        if row is None:
            raise ValidationError({"operator": "找不到这个操作员"})
        op_store.clear_failures(db, operator_id)
        audit_event(
            db,
            operator_id=by.operator_id if by else None,
            action="operator.unlock",
            entity="operator",
            entity_id=operator_id,
            before=None,
            after=None,
            extra={"username": row["username"]},
        )
    return row


def set_operator_active(store: Store, *, operator_id: str, active: bool, by: Actor | None) -> dict:
    """Disable (or enable again) an operator: a disabled one cannot log in. The last active
    supervisor cannot be disabled, nor can a supervisor disable themself."""
    if by is not None:
        by.require_supervisor("停用或启用操作员")
    with store.write() as db:
        row = op_store.get(db, operator_id)
        if row is None:
            raise ValidationError({"operator": "找不到这个操作员"})
        if not active and by is not None and by.operator_id == operator_id:
            raise ValidationError({"operator": "不能停用正在使用的自己的账号"})
        if (
            not active
            and row["active"]
            and row["role"] == "supervisor"
            and op_store.active_supervisors(db) <= 1
        ):
            raise ValidationError({"operator": "这是最后一个可用的主管账号，不能停用"})
        if bool(row["active"]) == active:
            return row
        op_store.set_active(db, operator_id, active)
        audit_event(
            db,
            operator_id=by.operator_id if by else None,
            action="operator.enable" if active else "operator.disable",
            entity="operator",
            entity_id=operator_id,
            before={"active": row["active"]},
            after={"active": int(active)},
            extra={"username": row["username"], "via": "窗口" if by else "命令行"},
        )
        row = dict(row, active=int(active))
    return row


def find_operator(store: Store, username: str) -> dict:
    """An operator by user name (for the command line); ValidationError if unknown."""
    row = op_store.by_username(store, (username or "").strip())
    if row is None:
        raise ValidationError({"username": f"没有用户名为“{username}”的操作员"})
    return {k: v for k, v in row.items() if k != "password_hash"}
