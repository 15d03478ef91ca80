"""Application updates through the county (issue 17). The project's release process signs a
TUF repository (``release/``); the county IT admin imports it here (``township-county updates
import``), the server serves its files as they are (``routers/updates.py``), and the county
decides which version each service point may install: every point, a pilot group first, or
none (held back). The desks verify every file against the project's keys, so the county
needs no key and cannot alter a release — it only chooses which one a desk may take."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import psycopg
from packaging.version import InvalidVersion, Version

ALL = "*"  # the offer for every service point not named
ROLES = ("root", "timestamp", "snapshot", "targets")
ARCHIVE = re.compile(r"^(?P<app>[a-z][a-z0-9-]*)-(?P<version>\d[0-9A-Za-z.+]*)\.tar\.gz$")
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$")
STATE_LABELS = {
    "downloading": "正在下载",
    "staged": "已下载，待重启安装",
    "installed": "已安装",
    "refused": "校验不通过，已拒绝",
    "rolled_back": "自检失败，已退回原版本",
}


class UpdateError(ValueError):
    """A release or an offer that cannot be used (Chinese message for the county IT admin)."""


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UpdateError(f"发布包中的 {path.name} 缺失或无法读取") from e


def check_repository(src: Path) -> dict[str, dict]:
    """The releases in a release repository (metadata/ and targets/): version → archive and
    length. Checks that every file the signed targets list is there with its length and
    SHA-256 (a copy that broke on the way is refused here, not on a thousand desks)."""
    meta, targets = src / "metadata", src / "targets"
    for role in ROLES:
        _json(meta / f"{role}.json")
    listed = _json(meta / "targets.json").get("signed", {}).get("targets", {})
    releases: dict[str, dict] = {}
    for name, info in listed.items():
        path = targets / name
        if not SAFE_NAME.match(name) or not path.is_file():
            raise UpdateError(f"发布包缺少文件 {name}，未导入")
        if path.stat().st_size != info.get("length"):
            raise UpdateError(f"文件 {name} 的大小与签名清单不符（可能复制不完整），未导入")
        want = info.get("hashes", {}).get("sha256")
        h = hashlib.sha256()
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        if want != h.hexdigest():
            raise UpdateError(f"文件 {name} 的校验值与签名清单不符，未导入")
        m = ARCHIVE.match(name)
        if m:
            releases[m["version"]] = {"archive": name, "length": info["length"]}
    if not releases:
        raise UpdateError("发布包中没有程序版本，未导入")
    return releases


def import_repository(conn: psycopg.Connection, updates_dir: Path, src: Path) -> list[str]:
    """Copy a checked release repository into the county's updates folder — the files first,
    the metadata after, ``timestamp.json`` last, each replaced whole — and record its
    versions. Returns the versions, oldest first."""
    releases = check_repository(src)
    for sub in ("targets", "metadata"):
        (updates_dir / sub).mkdir(parents=True, exist_ok=True)
    for path in sorted((src / "targets").iterdir()):
        _copy(path, updates_dir / "targets" / path.name)
    tail = [f"{r}.json" for r in ("targets", "snapshot", "timestamp")]
    for path in sorted((src / "metadata").glob("*.json"), key=lambda p: p.name in tail):
        if path.name not in tail:
            _copy(path, updates_dir / "metadata" / path.name)
    for name in tail:
        _copy(src / "metadata" / name, updates_dir / "metadata" / name)
    for version, r in releases.items():
        conn.execute(
            "INSERT INTO update_release(version, archive, length) VALUES (%s, %s, %s)"
            " ON CONFLICT (version) DO NOTHING",
            (version, r["archive"], r["length"]),
        )
    return sorted(releases, key=Version)


def _copy(src: Path, dst: Path) -> None:
    if not SAFE_NAME.match(src.name):
        return
    tmp = dst.with_name(dst.name + ".part")
    shutil.copyfile(src, tmp)
    with tmp.open("rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, dst)


def set_offer(
    conn: psycopg.Connection, version: str | None, sp_codes: list[str] | None, by: str
) -> list[str]:
    """Let ``sp_codes`` (None: every point not named otherwise) install ``version`` (None:
    hold them back). Returns the service points' names (or ["全部服务点"])."""
    if version is not None:
        try:
            Version(version)
        except InvalidVersion as e:
            raise UpdateError(f"版本号格式不对：{version}") from e
        if not conn.execute(
            "SELECT 1 FROM update_release WHERE version = %s", (version,)
        ).fetchone():
            raise UpdateError(f"县服务器上没有 {version} 版（请先导入发布包）")
    if sp_codes is None:
        scopes, names = [ALL], ["全部服务点"]
    else:
        rows = conn.execute(
            "SELECT id, code, name FROM service_point WHERE code = ANY(%s)", (sp_codes,)
        ).fetchall()
        missing = sorted(set(sp_codes) - {r["code"] for r in rows})
        if missing:
            raise UpdateError(f"没有这些服务点：{'、'.join(missing)}")
        scopes, names = [r["id"] for r in rows], [r["name"] for r in rows]
    for scope in scopes:
        conn.execute(
            "INSERT INTO update_offer(scope, version, set_by) VALUES (%s, %s, %s)"
            " ON CONFLICT (scope) DO UPDATE SET version = excluded.version,"
            " set_at = now(), set_by = excluded.set_by",
            (scope, version, by),
        )
    return names


def clear_offer(conn: psycopg.Connection, sp_codes: list[str]) -> None:
    """The named service points follow the offer for every point again."""
    conn.execute(
        "DELETE FROM update_offer WHERE scope IN"
        " (SELECT id FROM service_point WHERE code = ANY(%s))",
        (sp_codes,),
    )


def offer_for(conn: psycopg.Connection, sp_id: str) -> dict | None:
    """The version a desk of this service point may install ({"version": …}), or None."""
    row = conn.execute(
        "SELECT version FROM update_offer WHERE scope IN (%s, %s)"
        " ORDER BY scope = %s LIMIT 1",  # the point's own offer before the one for all
        (sp_id, ALL, ALL),
    ).fetchone()
    if row is None or row["version"] is None:
        return None
    return {"version": row["version"]}


def record_status(conn: psycopg.Connection, device_id: str, app_version: str, update: str) -> None:
    conn.execute(
        "UPDATE device SET app_version = coalesce(nullif(%s, ''), app_version),"
        " reported_update = %s WHERE id = %s",
        (app_version, update, device_id),
    )


def describe(update: str) -> str:
    """A desk's reported update state in words ("已下载，待重启安装 0.2.0"); "" for none."""
    state, _, version = update.partition(":")
    return f"{STATE_LABELS.get(state, state)} {version}".strip() if update else ""


def overview(conn: psycopg.Connection, region: str = "") -> dict:
    """Releases, offers and the desks by version (the CLI's and the console's view); with
    ``region``, the offers and desks of that county's service points (and the offer for
    every point)."""
    releases = conn.execute(
        "SELECT version, archive, length, imported_at FROM update_release"
    ).fetchall()
    offers = conn.execute(
        "SELECT o.scope, o.version, o.set_at, sp.code, sp.name FROM update_offer o"
        " LEFT JOIN service_point sp ON sp.id = o.scope"
        " WHERE %(r)s = '' OR o.scope = %(a)s OR sp.region_code = %(r)s"
        " ORDER BY o.scope != %(a)s, sp.code",
        {"a": ALL, "r": region},
    ).fetchall()
    desks = conn.execute(
        "SELECT d.app_version, count(*) AS n, array_agg(d.reported_update) AS updates"
        " FROM device d JOIN service_point sp ON sp.id = d.service_point_id"
        " WHERE d.revoked_at IS NULL AND (%(r)s = '' OR sp.region_code = %(r)s)"
        " GROUP BY d.app_version",
        {"r": region},
    ).fetchall()
    return {
        "releases": sorted(releases, key=lambda r: Version(r["version"])),
        "offers": offers,
        "desks": sorted(desks, key=lambda r: Version(r["app_version"] or "0"), reverse=True),
    }
