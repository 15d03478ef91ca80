"""The county's answers to pushed operations: stored per op, with an inbox item that tells
the clerk what to do about an op that was refused or lost a conflict."""

from __future__ import annotations

from core import syncproto as sp
from desktop.store import syncstate as st
from desktop.store.cipher import sqlite3
from desktop.sync.apply import describe

OP_LABELS = {
    "household.create": "新建家庭户",
    "household.update": "修改家庭户",
    "person.create": "参保人员登记",
    "person.update": "修改人员信息",
    "enrollment.create": "参保登记",
    "enrollment.update": "修改参保登记",
    "payment.record": "缴费记录",
}
REJECT_ACTIONS = {
    sp.R_HASH_MISMATCH: "这条记录上传时内容与县里已收到的不一致，请联系县医保局技术人员核查。",
    sp.R_INVALID: "请打开这条记录，按提示改正后保存，改正后的内容会在下次同步时上传。",
    sp.R_UNKNOWN_OP: "本软件版本与县医保服务器不匹配，请联系技术人员升级软件。",
    sp.R_NOT_FOUND: "这条记录所依赖的人员或参保记录县里没有，请先核对该人员的登记是否成功上传。",
    sp.R_SCOPE: "这条记录属于其他服务点，本服务点不能修改。请让参保人到所属服务点办理。",
    sp.R_TOO_LARGE: "这条记录内容过大无法上传，请删减备注等文字后重新保存。",
}


def settle(db, res: sp.OpResult, row: dict, *, local: bool = False) -> bool:
    """Store the county's answer to one pushed op (in the caller's transaction): its
    status, an alias for a merged person, an inbox item for a refused or conflicting op.
    False when the answer is not one this desk understands or was already stored."""
    if res.status not in sp.OP_STATUSES:
        return False
    if not st.store_result(db, res, local=local):
        return False
    entity = sp.entity_of(row["op_type"]) or ""
    label = OP_LABELS.get(row["op_type"], row["op_type"])
    who = describe(db, row)
    # the county's row comes back by pull (its version, projected there)
    if res.status == sp.ST_MERGED and res.canonical_id and res.canonical_id != row["entity_id"]:
        if entity == sp.E_PERSON:
            try:
                st.add_alias(db, row["entity_id"], res.canonical_id, "push-result")
            except sqlite3.IntegrityError:
                pass
            # the county tells both points with an identity_merged notice (inbox)
    elif res.status == sp.ST_REJECTED:
        st.add_inbox(
            db,
            id=f"op:{res.op_id}",
            kind="rejected",
            severity="error",
            op_id=res.op_id,
            entity=entity,
            entity_id=row["entity_id"],
            title=f"{label}未被县医保局接受：{who}{('——' + res.message) if res.message else ''}",
            action=REJECT_ACTIONS.get(res.code or "", "请联系县医保局了解原因。"),
            detail=res.as_dict(),
        )
    elif res.status == sp.ST_CONFLICT and not res.conflict_id:
        # a conflict with an id comes with the county's notice (what to do); only an
        # unexplained one gets its own inbox item
        st.add_inbox(
            db,
            id=f"op:{res.op_id}",
            kind="conflict",
            severity="warn",
            op_id=res.op_id,
            entity=entity,
            entity_id=row["entity_id"],
            title=f"{label}与其他服务点冲突：{who}{('——' + res.message) if res.message else ''}",
            action="记录已保留在县里，等待县医保局裁定；请查看下面县医保局的通知并按通知办理。",
            detail=res.as_dict(),
        )
    return True
