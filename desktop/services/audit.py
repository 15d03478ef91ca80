"""``audit verify``: the audit log's chain checked here (keyed links) and against the
anchors the county holds (the chain heads this PC sent with each sync), so a log that was
cut short or rewritten shows even when its links were recomputed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from desktop.store import Store, syncstate
from desktop.store.journal import AuditProblem, audit_count, check_anchors, verify_audit


@dataclass
class AuditReport:
    entries: int
    problems: list[AuditProblem] = field(default_factory=list)
    anchors: int = 0  # county anchors compared
    county_note: str = ""  # why the county could not be asked ("" when it was)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(store: Store, data_dir: str | Path, *, ask_county: bool = True) -> AuditReport:
    report = AuditReport(entries=audit_count(store), problems=verify_audit(store.db))
    if not ask_county:
        report.county_note = "未与县里核对"
        return report
    if syncstate.device(store) is None:
        report.county_note = "本机未注册到县医保服务器，只做了本机校验"
        return report
    from desktop.services.sync import engine_for  # deferred: httpx loads with the sync client
    from desktop.sync.errors import SyncError  # deferred: httpx loads with the sync client

    engine = engine_for(store, data_dir, None)
    try:
        anchors = engine.audit_anchors()
    except SyncError as e:
        report.county_note = f"未能与县里核对：{e.message}"
        return report
    report.anchors = len(anchors)
    report.problems += check_anchors(store.conn, anchors)
    return report
