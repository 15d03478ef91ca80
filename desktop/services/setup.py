"""First run: the service point (name, 6-digit region code, its villages) and its first
administrator, created together in one transaction."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ValidationError
from core.names import clean_free_text, normalize_name
from desktop.services import auth
from desktop.services.context import Actor
from desktop.store import Store, places
from desktop.store.journal import audit_event, new_id, now_iso


@dataclass(frozen=True)
class ServicePointInput:
    name: str
    region_code: str
    code: str  # service point code (county-issued; goes into receipt numbers)
    villages: list[str]
    device_no: int = 1


def needs_setup(store: Store) -> bool:
    return places.service_point(store) is None


def validate_service_point(sp: ServicePointInput) -> ServicePointInput:
    errors: dict[str, str] = {}
    try:
        name = normalize_name(sp.name, field="sp_name", label="服务点名称")
    except ValidationError as e:
        errors.update(e.errors)
        name = ""
    region = (sp.region_code or "").strip()
    if not (len(region) == 6 and region.isascii() and region.isdigit()):
        errors["region_code"] = "医保区划代码应为6位数字"
    code = (sp.code or "").strip()
    if not (code.isascii() and code.isalnum() and 1 <= len(code) <= 12):
        errors["code"] = "服务点编码应为1-12位字母或数字"
    villages: list[str] = []
    for i, v in enumerate(sp.villages):
        try:
            vn = clean_free_text(v, field=f"village_{i}", label="村/居委会名称", limit=50)
        except ValidationError as e:
            errors.update(e.errors)
            continue
        if vn and vn not in villages:
            villages.append(vn)
    if not villages and "villages" not in errors:
        errors["villages"] = "请至少填写一个村（居委会）"
    if not (1 <= int(sp.device_no) <= 99):
        errors["device_no"] = "设备编号应为1-99"
    if errors:
        raise ValidationError(errors)
    return ServicePointInput(name, region, code.upper(), villages, int(sp.device_no))


def run_setup(
    store: Store,
    sp: ServicePointInput,
    *,
    admin_username: str,
    admin_name: str,
    admin_password: str,
) -> Actor:
    """Create the service point, its villages and the first supervisor. All or nothing."""
    sp = validate_service_point(sp)
    with store.write() as db:
        if not needs_setup(store):
            raise ValidationError("本机已完成初始设置")
        sp_id = new_id()
        now = now_iso()
        row = {
            "id": sp_id,
            "code": sp.code,
            "name": sp.name,
            "region_code": sp.region_code,
            "device_no": sp.device_no,
            "created_at": now,
        }
        places.insert_service_point(db, row)
        for v in sp.villages:
            places.insert_village(db.conn, new_id(), sp_id, v)
        admin = auth.create_operator(
            store,
            username=admin_username,
            display_name=admin_name,
            password=admin_password,
            role="supervisor",
            by=None,
        )
        audit_event(
            db,
            operator_id=admin.operator_id,
            action="service_point.create",
            entity="service_point",
            entity_id=sp_id,
            before=None,
            after={**row, "villages": sp.villages},
        )
    return Actor(admin.operator_id, admin.username, admin.display_name, admin.role, sp_id)


def service_point(store: Store) -> dict | None:
    return places.service_point(store)


def villages(store: Store) -> list[dict]:
    return places.villages(store)


def add_village(store: Store, name: str, *, by: Actor) -> str:
    by.require_supervisor("添加村（居委会）")
    vn = clean_free_text(name, field="village", label="村/居委会名称", limit=50)
    if not vn:
        raise ValidationError({"village": "请输入村（居委会）名称"})
    with store.write() as db:
        if places.village_named(db.conn, vn):
            raise ValidationError({"village": f"“{vn}”已存在"})
        vid = new_id()
        places.insert_village(db.conn, vid, by.service_point_id, vn)
        audit_event(
            db,
            operator_id=by.operator_id,
            action="village.create",
            entity="village",
            entity_id=vid,
            before=None,
            after={"name": vn},
        )
    return vid
