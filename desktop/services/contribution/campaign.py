"""The yearly campaign list (征缴名单) and its CSV/xlsx export."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.categories import INSURED_CATEGORIES
from core.contribution import (
    PersonYear,
    compute,
)
from core.errors import ValidationError
from core.ids import mask_cert
from core.money import ZERO
from core.policy import Policy
from desktop.services.contribution.common import _parse_year, policy_for
from desktop.store import Store
from desktop.store import campaign as campaign_store


def campaign(
    store: Store,
    *,
    year: Any,
    village_id: str | None = None,
    household_id: str | None = None,
    today: dt.date | None = None,
) -> dict:
    """Who in a village (or a household) has not paid for ``year``: one row per person with
    the amount due as if paying today (inside the collection period when it has not started
    yet), plus counts and totals. Fully subsidized persons are counted apart; persons whose
    enrollment is terminated (status 3) are left out."""
    today = today or dt.date.today()
    y = _parse_year(year)
    if not village_id and not household_id:
        raise ValidationError({"village_id": "请选择村或户"})
    scope = {"village_id": village_id} if village_id else {"household_id": household_id}
    with store.read():
        persons = campaign_store.unpaid(store, y, **scope)
        total_persons = campaign_store.persons_in_scope(store, **scope)
        prev_paid = campaign_store.payers(store, y - 1, **scope)
    rows, subsidized = [], 0
    total = ZERO
    cache: dict[str, Policy | None] = {}
    memo: dict[tuple, Decimal] = {}
    message = ""
    for p in persons:
        region = p["region_code"]
        if region not in cache:
            cache[region] = policy_for(store, region, y)
        pol = cache[region]
        due: Decimal | None = None
        if pol is not None:
            due = _due_today(pol, p, y, today, p["id"] in prev_paid, memo)
            if due is None:
                subsidized += 1
                continue
            total += due
        else:
            message = f"{y}参保年度缴费标准未发布（无政策文件），应缴金额暂不能计算"
        rows.append(_campaign_row(p, due, p["id"] in prev_paid))
    return {
        "year": y,
        "rows": rows,
        "unpaid_count": len(rows),
        "persons": total_persons,
        "paid_count": total_persons - len(rows) - subsidized,
        "subsidized_count": subsidized,
        "total_due": str(total),
        "households": len({r["household_id"] for r in rows}),
        "message": message,
    }


def _due_today(
    pol: Policy, p: dict, y: int, today: dt.date, paid_last_year: bool, memo: dict
) -> Decimal | None:
    """What the person owes for ``y`` if paying today (inside the collection period when it
    has not started yet); None when a department pays it all (资助参保)."""
    terms = pol.section("contribution")
    sub = terms.subsidy_for(p["insured_category"])
    if sub is not None and sub.kind == "full":
        return None
    pay_day = min(max(today, terms.period.start), dt.date(y, 12, 31))
    born = dt.date.fromisoformat(p["birth_date"]) if p["birth_date"] else None
    # the rules are pure: persons alike in what they read share one result (only a
    # newborn's birth date matters to them)
    nb = terms.newborn
    born_key = born if nb is not None and p["insured_category"] == nb.category else None
    key = (pol.id, p["insured_category"], y - 1 if paid_last_year else None, born_key)
    if key not in memo:
        memo[key] = compute(
            terms,
            PersonYear(
                category=p["insured_category"],
                year=y,
                paid_on=pay_day,
                born_on=born_key if born_key and born_key <= pay_day else None,
                last_insured_year=key[2],
            ),
            pol.id,
        ).amount_due
    return memo[key]


def _campaign_row(p: dict, due: Decimal | None, paid_last_year: bool) -> dict:
    return {
        "person_id": p["id"],
        "name": p["name"],
        "cert_no": p["cert_no"],
        "cert_masked": mask_cert(p["cert_type"], p["cert_no"]),
        "sex": "男" if p["sex"] == "male" else "女",
        "birth_date": p["birth_date"],
        "category": INSURED_CATEGORIES.get(p["insured_category"], p["insured_category"]),
        "household_id": p["household_id"],
        "head_name": p["head_name"] or "",
        "address": p["address"],
        "village": p["village"] or "",
        "phone": p["phone"],
        "paid_last_year": paid_last_year,
        "amount_due": str(due) if due is not None else "",
    }


EXPORT_COLUMNS = [
    ("village", "村"),
    ("address", "住址"),
    ("head_name", "户主"),
    ("name", "姓名"),
    ("cert_masked", "证件号码"),
    ("sex", "性别"),
    ("birth_date", "出生日期"),
    ("category", "参保类别"),
    ("phone", "联系电话"),
    ("paid_last_year", "上年已缴"),
    ("amount_due", "应缴金额（元）"),
]


def _export_rows(result: dict) -> list[list[Any]]:
    out = []
    for r in result["rows"]:
        out.append(
            [("是" if r[k] else "否") if k == "paid_last_year" else r[k] for k, _ in EXPORT_COLUMNS]
        )
    return out


def _summary(result: dict) -> str:
    return (
        f"{result['year']}参保年度未缴 {result['unpaid_count']} 人（{result['households']} 户），"
        f"应缴合计 {result['total_due']} 元；已缴 {result['paid_count']} 人，"
        f"资助参保 {result['subsidized_count']} 人"
    )


def export_csv(result: dict, path: str | Path) -> Path:
    """UTF-8 with BOM (so Excel on Windows opens the Chinese correctly); ID numbers masked."""
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([label for _, label in EXPORT_COLUMNS])
        w.writerows(_export_rows(result))
        w.writerow([])
        w.writerow([_summary(result)])
    return path


def export_xlsx(result: dict, path: str | Path) -> Path:
    """One sheet (openpyxl write-only mode: fast for a whole township); the amount column
    holds numbers formatted to the fen, ID numbers masked, a summary line at the end."""
    from openpyxl import Workbook  # deferred: openpyxl loads slowly; only exports need it
    from openpyxl.cell import WriteOnlyCell  # deferred: openpyxl loads slowly; only exports need it
    from openpyxl.styles import Font  # deferred: openpyxl loads slowly; only exports need it

    path = Path(path)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(f"{result['year']}未缴名单")
    for col, width in zip("ABCDEFGHIJK", (8, 20, 8, 8, 22, 6, 12, 16, 14, 8, 14), strict=True):
        ws.column_dimensions[col].width = width
    bold = Font(bold=True)
    header = []
    for _, label in EXPORT_COLUMNS:
        c = WriteOnlyCell(ws, value=label)
        c.font = bold
        header.append(c)
    ws.append(header)
    for r in _export_rows(result):
        if r[-1]:
            c = WriteOnlyCell(ws, value=Decimal(r[-1]))
            c.number_format = "#,##0.00"
            r = [*r[:-1], c]
        ws.append(r)
    ws.append([])
    ws.append([_summary(result)])
    wb.save(path)
    return path


# ------------------------------------------------------------------ sync banner
