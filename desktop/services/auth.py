"""Operators and log-in. Passwords are hashed with argon2id (argon2-cffi)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import ValidationError
from core.names import normalize_name
from desktop.services.context import Actor
from desktop.store import Store
from desktop.store.journal import new_id, now_iso, record_change

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
    row = store.query_one("SELECT id FROM service_point LIMIT 1")
    return row["id"] if row else None


def create_operator(
    store: Store, *, username: str, display_name: str, password: str, role: str, by: Actor | None
) -> Actor:
    """Create an operator. ``by`` must be a supervisor, except for the first (setup) one."""
    u, name = _validate_new_operator(username, display_name, password, role)
    with store.write() as db:
        count = db.conn.execute("SELECT COUNT(*) FROM operator").fetchone()[0]
        if by is None and count:
            raise PermissionError("只有主管可以添加操作员")
        if by is not None:
            by.require_supervisor("添加操作员")
        if db.conn.execute("SELECT 1 FROM operator WHERE username = ?", (u,)).fetchone():
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
        db["operator"].insert(row)
        public = {k: v for k, v in row.items() if k != "password_hash"}
        record_change(
            db,
            operator_id=by.operator_id if by else oid,
            action="operator.create",
            entity="operator",
            entity_id=oid,
            before=None,
            after=public,
        )
    sp = service_point_id(store) or ""
    return Actor(oid, u, name, role, sp)


def login(store: Store, username: str, password: str) -> Actor:
    """Check a password; raises LoginFailed with a Chinese message. Audited."""
    row = store.query_one(
        "SELECT * FROM operator WHERE username = ? AND active = 1", ((username or "").strip(),)
    )
    ok = False
    if row is not None:
        try:
            ok = _hasher.verify(row["password_hash"], password or "")
        except (VerificationError, InvalidHashError):
            ok = False
    with store.write() as db:
        record_change(
            db,
            operator_id=row["id"] if row else None,
            action="operator.login" if ok else "operator.login_failed",
            entity="operator",
            entity_id=row["id"] if row else None,
            before=None,
            after=None,
            extra={"username": (username or "")[:64]},
        )
        if ok and _hasher.check_needs_rehash(row["password_hash"]):
            db.conn.execute(
                "UPDATE operator SET password_hash = ? WHERE id = ?",
                (hash_password(password), row["id"]),
            )
    if not ok:
        raise LoginFailed("用户名或密码不正确，请重新输入")
    return Actor(
        row["id"], row["username"], row["display_name"], row["role"], service_point_id(store) or ""
    )
