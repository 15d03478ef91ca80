"""Who may use the county console, and how a request proves it.

* Staff accounts with argon2 password hashes; roles 管理员 ``admin`` (everything), 经办
  ``clerk`` (conflicts, corrections, imports, reports), 只读 ``viewer`` (reports). The first
  administrator is made on the command line (``township-county staff create``).
* A session is a random token in an HttpOnly, SameSite=Strict cookie (Secure when the server
  speaks TLS); the database keeps only its SHA-256, with an expiry that slides with use
  (``console_session_minutes``, default 30).
* Every form carries the session's CSRF token; the log-in form a double-submit token of its
  own. Log-in failures are limited per address (429) and lock the account after 10 in a row.
* Everything a person does is written to ``staff_audit`` with the person and the time.
* On a province's server an account may work for one county (``staff.county``, its 区划):
  every list, report, export and action of the console is then that county's only; an
  account with no county sees every county.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

import psycopg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request

from county.admin import COMMAND_LINE
from county.db import jsonb
from county.security import sha256_hex
from county.tables import AdminError

COOKIE = "county_session"
LOGIN_COOKIE = "county_login"
ROLES = {"admin": "管理员", "clerk": "经办", "viewer": "只读"}
# what each page or action needs (the role of the person must be in the set)
MAY = {
    "devices": {"admin", "clerk"},
    "devices.change": {"admin"},
    "conflicts": {"admin", "clerk"},
    "conflicts.resolve": {"admin", "clerk"},
    "imports": {"admin", "clerk"},
    "policies": {"admin", "clerk"},
    "policies.publish": {"admin"},
    "reports": {"admin", "clerk", "viewer"},
    "reports.refresh": {"admin", "clerk"},
    "alerts": {"admin", "clerk"},
    "updates": {"admin", "clerk"},
    "updates.offer": {"admin"},
    "staff": {"admin"},
}
LOCK_AFTER = 10
LOCK_MINUTES = 15

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Staff:
    id: int
    username: str
    display_name: str
    role: str
    csrf: str
    county: str | None = None  # the 区划 this account works for; None: every county

    @property
    def role_label(self) -> str:
        return ROLES[self.role]

    def may(self, what: str) -> bool:
        return self.role in MAY[what]

    def region(self, chosen: str = "") -> str:
        """The county a page shows: the account's own, else the one chosen ("" for all)."""
        return self.county or chosen

    def covers(self, region_code: str | None) -> bool:
        """Whether a service point or resident of ``region_code`` is this account's."""
        return self.county is None or region_code == self.county

    def refuse_outside(self) -> Forbidden:
        return Forbidden(
            f"这个账号只管区划 {self.county} 的服务点和居民；"
            "其他县区的请找该县或省医保局的管理员。",
            self,
        )


class NotSignedIn(Exception):
    """No valid session: a page sends the browser to the log-in, a form gets 403."""


class Forbidden(Exception):
    """Signed in, but this role may not, or the form's CSRF token is wrong. Carries the
    person, so the refusal is a console page with their menu."""

    def __init__(self, message: str, staff: Staff | None = None):
        super().__init__(message)
        self.staff = staff


def _county(county: str | None) -> str | None:
    county = (county or "").strip() or None
    if county is not None and not (len(county) == 6 and county.isascii() and county.isdigit()):
        raise AdminError("县区的医保区划代码应为6位数字（不填：管全部县区）")
    return county


def create_staff(
    conn: psycopg.Connection,
    username: str,
    display_name: str,
    role: str,
    password: str,
    county: str | None = None,
    by: int | None = None,
) -> dict:
    """A console account; ``county``: the 区划 of the one county it works for (None: all);
    ``by``: the administrator who opened it on the console (None: the command line)."""
    if role not in ROLES:
        raise AdminError(f"角色应为 {' / '.join(ROLES)}")
    if len(password or "") < 8:
        raise AdminError("密码至少8个字符")
    county = _county(county)
    try:
        row = conn.execute(
            "INSERT INTO staff(username, display_name, role, password_hash, county)"
            " VALUES (%s, %s, %s, %s, %s) RETURNING id, username, role, county",
            (
                (username or "").strip().lower(),
                (display_name or "").strip(),
                role,
                _hasher.hash(password),
                county,
            ),
        ).fetchone()
    except psycopg.errors.UniqueViolation as e:
        raise AdminError(f"用户名 {username} 已存在") from e
    except psycopg.errors.CheckViolation as e:
        raise AdminError("用户名应为2-32个小写字母、数字或 _ . -；姓名1-40个字") from e
    audit(conn, by, "staff.create", row["username"], {"role": role, "county": county})
    return row


def list_staff(conn: psycopg.Connection) -> list[dict]:
    """Every console account: name, role, county (None: all), whether it may log in."""
    return conn.execute(
        "SELECT username, display_name, role, county, active,"
        " locked_until > now() AS locked FROM staff ORDER BY county NULLS FIRST, username"
    ).fetchall()


def set_staff_active(conn: psycopg.Connection, username: str, active: bool) -> dict | None:
    """停用 (its sessions end at once) or 启用 again an account; None: no such account."""
    row = conn.execute(
        "UPDATE staff SET active = %s, failed = 0, locked_until = NULL WHERE username = %s"
        " RETURNING id, username, county, active",
        (active, (username or "").strip().lower()),
    ).fetchone()
    if row is not None and not active:
        conn.execute("DELETE FROM staff_session WHERE staff_id = %s", (row["id"],))
    return row


def set_staff_county(conn: psycopg.Connection, username: str, county: str | None) -> dict:
    """Let an account work for one county (``county``) or for all (None); its sessions end,
    so the next page it opens is already of its new scope."""
    county = _county(county)
    row = conn.execute(
        "UPDATE staff SET county = %s WHERE username = %s RETURNING id, username, county",
        (county, (username or "").strip().lower()),
    ).fetchone()
    if row is None:
        raise AdminError(f"没有用户名为 {username} 的控制台账号")
    conn.execute("DELETE FROM staff_session WHERE staff_id = %s", (row["id"],))
    audit(conn, None, "staff.county", row["username"], {"county": county})
    return row


# who acted, where the server's command line (or the admin API) did: the technician
TECHNICIAN = "技术员（服务器上的命令）"


def actor_names(conn: psycopg.Connection, bys) -> dict[str, str]:
    """Who did something, in words, for each recorded ``by`` (a console account's log-in,
    or the command line): the account's name (its log-in if the account is gone), the
    command line as the technician. One query for them all."""
    wanted = {b for b in bys if b}
    if not wanted:
        return {}
    rows = conn.execute(
        "SELECT username, display_name FROM staff WHERE username = ANY(%s)", (list(wanted),)
    ).fetchall()
    names = {r["username"]: r["display_name"] for r in rows}
    return {b: TECHNICIAN if b == COMMAND_LINE else names.get(b, b) for b in wanted}


def audit(conn, staff_id: int | None, action: str, target: str | None, detail=None) -> None:
    conn.execute(
        "INSERT INTO staff_audit(staff_id, action, target, detail) VALUES (%s, %s, %s, %s)",
        (staff_id, action, target, jsonb(detail or {})),
    )


def check_password(
    conn: psycopg.Connection, username: str, password: str, now: float
) -> dict | None:
    """The staff row when the password is right and the account usable; counts failures."""
    row = conn.execute(
        "SELECT id, username, display_name, role, password_hash, active, failed,"
        " locked_until > to_timestamp(%s) AS locked FROM staff WHERE username = %s FOR UPDATE",
        (now, (username or "").strip().lower()),
    ).fetchone()
    if row is None:
        _hasher.hash("not-a-user")  # the same work as a real check: no timing hint
        return None
    ok = False
    if row["active"] and not row["locked"]:
        try:
            ok = _hasher.verify(row["password_hash"], password or "")
        except (VerificationError, InvalidHashError):
            ok = False
    if ok:
        conn.execute("UPDATE staff SET failed = 0, locked_until = NULL WHERE id = %s", (row["id"],))
        return row
    failed = row["failed"] + 1
    conn.execute(
        "UPDATE staff SET failed = %s, locked_until = CASE WHEN %s >= %s"
        " THEN to_timestamp(%s) + make_interval(mins => %s) ELSE locked_until END WHERE id = %s",
        (failed, failed, LOCK_AFTER, now, LOCK_MINUTES, row["id"]),
    )
    audit(conn, row["id"], "staff.login_failed", row["username"], {"failed": failed})
    return None


def start_session(conn: psycopg.Connection, staff_id: int, now: float, minutes: int) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO staff_session(token_sha256, staff_id, csrf, expires_at)"
        " VALUES (%s, %s, %s, to_timestamp(%s) + make_interval(mins => %s))",
        (sha256_hex(token), staff_id, secrets.token_urlsafe(24), now, minutes),
    )
    return token


def end_session(conn: psycopg.Connection, token: str | None) -> None:
    if token:
        conn.execute("DELETE FROM staff_session WHERE token_sha256 = %s", (sha256_hex(token),))


def current(request: Request) -> Staff:
    """The signed-in person of this request (the session slides), else NotSignedIn."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise NotSignedIn()
    now = request.app.state.clock()
    minutes = request.app.state.settings.console_session_minutes
    with request.app.state.pool.connection() as conn, conn.transaction():
        row = conn.execute(
            "UPDATE staff_session s SET expires_at = to_timestamp(%s)"
            " + make_interval(mins => %s) FROM staff t"
            " WHERE s.token_sha256 = %s AND t.id = s.staff_id AND t.active"
            " AND s.expires_at > to_timestamp(%s)"
            " RETURNING t.id, t.username, t.display_name, t.role, s.csrf, t.county",
            (now, minutes, sha256_hex(token), now),
        ).fetchone()
    if row is None:
        raise NotSignedIn()
    return Staff(
        row["id"], row["username"], row["display_name"], row["role"], row["csrf"], row["county"]
    )


def require(request: Request, what: str, csrf: str | None = None) -> Staff:
    """The person, when their role may do ``what``; with ``csrf`` (every form), the token
    must be the session's."""
    staff = current(request)
    if not staff.may(what):
        raise Forbidden(
            f"{staff.role_label}的账号不能打开这一页；需要时请找县医保局的管理员。", staff
        )
    if csrf is not None and not hmac.compare_digest(csrf, staff.csrf):
        raise Forbidden("表单已过期或来源不明，请刷新页面后重试", staff)
    return staff
