"""Desk settings a supervisor edits in the app: the county server's address, the default
printer and paper, and the service point's details.

Stored in the ``settings`` table (key → text) and the ``service_point`` row, so they live
in the store, survive crashes and travel with backups. Every change is one write
transaction with its audit entry (``settings.update``: before/after of the changed keys).

Keys other areas read (use the constants, or :func:`get_settings`):

* ``county.server_url`` — where sync registers and pushes (issue 6 keeps the URL of a
  registered device in ``sync_device``; a change here updates that row in the same
  transaction so the two never disagree);
* ``print.printer`` — default printer name ('' = the system's default printer);
* ``print.paper`` — ``A4`` or ``A5``;
* ``service_point.phone`` / ``service_point.address`` — printed on receipts and notices.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from urllib.parse import urlsplit

from core.errors import ValidationError
from core.names import clean_free_text, normalize_name
from desktop.services.context import Actor
from desktop.store import Store, places
from desktop.store import settings as settings_table
from desktop.store.journal import audit_event

KEY_COUNTY_URL = "county.server_url"
KEY_PRINTER = "print.printer"
KEY_PAPER = "print.paper"
KEY_SP_PHONE = "service_point.phone"
KEY_SP_ADDRESS = "service_point.address"
KEY_COUNTY_PHONE = "county.phone"  # whom the clerk calls when the county's data is missing
KEY_CARD_READER = "card.reader"  # keyboard (a wedge scanner types the number) | termb
KEY_CARD_LIBRARY = "card.library"  # the vendor's termb.dll
KEY_CARD_PORT = "card.port"  # '' = find the reader (USB 1001–1016, then serial 1–16)
KEY_CARD_PHOTO = "card.keep_photo"  # '1': the card photo may be read (personal data; off)
KEY_IDLE_LOCK = "lock.idle_minutes"  # the window locks after this many idle minutes
DEFAULT_IDLE_MINUTES = "10"

CARD_READERS = {
    "keyboard": "键盘输入式读卡器（默认，读卡后号码自动输入查找框）",
    "termb": "身份证阅读器（厂家接口库 termb.dll）",
}

PAPERS = {"A4": "A4（210×297 毫米）", "A5": "A5（148×210 毫米）"}
DEFAULT_PAPER = "A4"
URL_MAX = 200
PRINTER_MAX = 200
ADDRESS_MAX = 100
_PHONE_RE = re.compile(r"^[0-9][0-9\- ]{5,18}[0-9]$")

# editable field → settings key (the service point's name lives in its own table)
_KEYS = {
    "county_url": KEY_COUNTY_URL,
    "county_phone": KEY_COUNTY_PHONE,
    "printer": KEY_PRINTER,
    "paper": KEY_PAPER,
    "sp_phone": KEY_SP_PHONE,
    "sp_address": KEY_SP_ADDRESS,
    "card_reader": KEY_CARD_READER,
    "card_library": KEY_CARD_LIBRARY,
    "card_port": KEY_CARD_PORT,
    "card_photo": KEY_CARD_PHOTO,
    "idle_minutes": KEY_IDLE_LOCK,
}


@dataclass(frozen=True)
class DeskSettings:
    county_url: str = ""
    county_phone: str = ""
    printer: str = ""  # '' = system default
    paper: str = DEFAULT_PAPER
    sp_name: str = ""
    sp_phone: str = ""
    sp_address: str = ""
    # county-issued, shown but not edited here (they are part of every receipt number)
    sp_code: str = ""
    sp_region_code: str = ""
    sp_device_no: int = 1
    card_reader: str = "keyboard"
    card_library: str = ""
    card_port: str = ""
    card_photo: str = "0"
    idle_minutes: str = DEFAULT_IDLE_MINUTES  # 锁屏：空闲多少分钟后锁定窗口

    def editable(self) -> dict[str, str]:
        d = asdict(self)
        return {k: d[k] for k in (*_KEYS, "sp_name")}


def get_settings(store: Store) -> DeskSettings:
    rows = settings_table.all_settings(store)
    sp = places.summary(store) or {}
    paper = rows.get(KEY_PAPER, DEFAULT_PAPER)
    return DeskSettings(
        county_url=rows.get(KEY_COUNTY_URL, ""),
        county_phone=rows.get(KEY_COUNTY_PHONE, ""),
        printer=rows.get(KEY_PRINTER, ""),
        paper=paper if paper in PAPERS else DEFAULT_PAPER,
        sp_name=sp.get("name", ""),
        sp_phone=rows.get(KEY_SP_PHONE, ""),
        sp_address=rows.get(KEY_SP_ADDRESS, ""),
        sp_code=sp.get("code", ""),
        sp_region_code=sp.get("region_code", ""),
        sp_device_no=int(sp.get("device_no", 1) or 1),
        card_reader=rows.get(KEY_CARD_READER, "keyboard"),
        card_library=rows.get(KEY_CARD_LIBRARY, ""),
        card_port=rows.get(KEY_CARD_PORT, ""),
        card_photo=rows.get(KEY_CARD_PHOTO, "0"),
        idle_minutes=rows.get(KEY_IDLE_LOCK, DEFAULT_IDLE_MINUTES),
    )


def validate_url(text: str | None, field: str = "county_url") -> str:
    url = (text or "").strip()
    if not url:
        return ""  # not configured yet: the desk works offline
    problem = None
    if len(url) > URL_MAX:
        problem = f"地址过长（最多{URL_MAX}个字符）"
    elif any(ch.isspace() for ch in url) or not url.isascii():
        problem = "地址中不能有空格或中文字符"
    else:
        if "://" not in url:
            # the county's notice gives the address as people write it (ybj.example.gov.cn):
            # the desk talks to the county only over https
            url = "https://" + url
        parts = urlsplit(url)
        try:
            port_ok = parts.port is None or 0 < parts.port < 65536
        except ValueError:
            port_ok = False
        if parts.scheme not in ("http", "https") or not parts.hostname:
            problem = "地址应为 https:// 开头的网址，例如 https://ybj.example.gov.cn"
        elif not port_ok:
            problem = "端口号应为1-65535"
        elif parts.query or parts.fragment or parts.username or parts.password:
            problem = "地址中不应包含“?”“#”或用户名、密码"
    if problem:
        raise ValidationError({field: problem})
    return url.rstrip("/")


def validate(values: dict[str, str]) -> dict[str, str]:
    """Check the editable fields; returns them cleaned. Raises ValidationError with one
    Chinese message per wrong field (nothing is written)."""
    errors: dict[str, str] = {}
    out: dict[str, str] = {}

    def check(field: str, fn) -> None:
        try:
            out[field] = fn()
        except ValidationError as e:
            errors.update(e.errors)

    check("county_url", lambda: validate_url(values.get("county_url")))
    check(
        "printer",
        lambda: clean_free_text(
            values.get("printer"), field="printer", label="打印机名称", limit=PRINTER_MAX
        ),
    )
    paper = (values.get("paper") or "").strip().upper()
    if paper not in PAPERS:
        errors["paper"] = "纸张只能选 A4 或 A5"
    out["paper"] = paper
    check(
        "sp_name",
        lambda: normalize_name(values.get("sp_name"), field="sp_name", label="服务点名称"),
    )
    for field in ("sp_phone", "county_phone"):
        phone = (values.get(field) or "").strip()
        if phone and not _PHONE_RE.match(phone):
            errors[field] = "电话只能包含数字和“-”，7-20位，例如 0351-1234567"
        out[field] = phone
    check(
        "sp_address",
        lambda: clean_free_text(
            values.get("sp_address"), field="sp_address", label="服务点地址", limit=ADDRESS_MAX
        ),
    )
    _check_card(values, out, errors)
    idle = str(values.get("idle_minutes") or DEFAULT_IDLE_MINUTES).strip()
    if not (idle.isdigit() and 1 <= int(idle) <= 120):
        errors["idle_minutes"] = "空闲锁屏时间应为1至120分钟"
    out["idle_minutes"] = idle
    if errors:
        raise ValidationError(errors)
    return out


def _check_card(values: dict[str, str], out: dict[str, str], errors: dict[str, str]) -> None:
    reader = (values.get("card_reader") or "keyboard").strip()
    if reader not in CARD_READERS:
        errors["card_reader"] = "请选择读卡方式"
    out["card_reader"] = reader
    try:
        out["card_library"] = clean_free_text(
            values.get("card_library"), field="card_library", label="接口库位置", limit=260
        )
    except ValidationError as e:
        errors.update(e.errors)
        out["card_library"] = ""
    if reader == "termb" and not out["card_library"]:
        errors["card_library"] = "请填写阅读器厂家提供的 termb.dll 的位置"
    port = (values.get("card_port") or "").strip()
    if port and not (port.isdigit() and (1 <= int(port) <= 16 or 1001 <= int(port) <= 1016)):
        errors["card_port"] = "端口应为空（自动查找）、1-16（串口）或1001-1016（USB）"
    out["card_port"] = port
    out["card_photo"] = (
        "1" if str(values.get("card_photo") or "0") in ("1", "true", "True") else "0"
    )


def update_settings(store: Store, actor: Actor, values: dict[str, str]) -> DeskSettings:
    """Save the settings a supervisor changed (one transaction, audited). Fields missing
    from ``values`` keep their current value. Returns the settings now in force."""
    actor.require_supervisor("修改系统设置")
    current = get_settings(store)
    merged = {**current.editable(), **{k: v for k, v in values.items() if v is not None}}
    clean = validate(merged)
    before = current.editable()
    changed = {k: v for k, v in clean.items() if before.get(k) != v}
    if not changed:
        return current
    with store.write() as db:
        for field, value in changed.items():
            if field == "sp_name":
                continue
            settings_table.put(db.conn, _KEYS[field], value)
        if "sp_name" in changed:
            if not places.has_service_point(db.conn):
                raise ValidationError({"sp_name": "尚未完成服务点设置"})
            places.rename_service_point(db.conn, changed["sp_name"])
        if (
            "county_url" in changed
            and changed["county_url"]
            and settings_table.has_registered_device(db.conn)
        ):
            settings_table.set_device_server_url(db.conn, changed["county_url"])
        audit_event(
            db,
            operator_id=actor.operator_id,
            action="settings.update",
            entity="settings",
            entity_id="desk",
            before={k: before.get(k) for k in changed},
            after=changed,
        )
    return replace(current, **changed)
