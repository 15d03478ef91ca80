"""全年结算: a year of one person's bills settled in date order, every year-to-date counter
carried from bill to bill (:func:`core.estimate.settle_year`).

- :func:`run_year` — bills given as JSON (the CLI ``township-desk estimate --year FILE``):
  ``{"policy": id, "start": {ytd fields…, "admissions": n}, "bills": [given, …]}``; a bill
  may carry ``date`` (YYYY-MM-DD, the bills are taken in date order) and ``label``.
- :func:`person_year` — a person's settled estimates of a year, settled again in the order
  they were settled, beside what each saved estimate said (the 报销测算 page).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from core import estimate as engine
from core.errors import ValidationError
from core.estimate import YTD_FIELDS, YearState
from core.money import ZERO, parse_amount
from desktop.services.estimate import _policy
from desktop.services.policies import PolicyUnavailable
from desktop.services.policies import load as load_policies
from desktop.store import Store, estimates

SUMMARY = ("medfee_sumamt", "inscp_scp_amt", "act_pay_dedc", "hifp_pay", "hifmi_pay")
SUMMARY += ("maf_pay", "tilted_pay", "fund_pay_sumamt", "psn_part_amt")


def _start(start: Any) -> YearState:
    if start is None:
        return YearState.start()
    if not isinstance(start, Mapping):
        raise ValidationError({"start": "年初累计应为一个 JSON 对象"})
    figures: dict[str, Decimal] = {}
    errors: dict[str, str] = {}
    stays = 0
    for k, v in start.items():
        if k == "admissions":
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 99:
                errors[k] = "此前住院次数应为 0–99 的整数"
            else:
                stays = v
        elif k in YTD_FIELDS:
            try:
                figures[k] = parse_amount(v, field=k, label=YTD_FIELDS[k])
            except ValidationError as e:
                errors.update(e.errors)
        else:
            errors[k] = f"不认识的年初累计字段“{k}”"
    if errors:
        raise ValidationError({f"start.{k}": v for k, v in errors.items()})
    return YearState.start(figures, stays)


def _bill(i: int, given: Any) -> tuple[str, str, engine.EstimateInput]:
    if not isinstance(given, Mapping):
        raise ValidationError({f"bills[{i}]": "每张票据应为一个 JSON 对象"})
    data = dict(given)
    day = data.pop("date", "")
    label = str(data.pop("label", ""))
    if day:
        try:
            dt.date.fromisoformat(str(day))
        except ValueError:
            raise ValidationError({f"bills[{i}].date": f"日期“{day}”应为 YYYY-MM-DD"}) from None
    try:
        inp = engine.parse_given(data)
    except ValidationError as e:
        raise ValidationError({f"bills[{i}].{k}": v for k, v in e.errors.items()}) from None
    if not isinstance(inp, engine.EstimateInput):
        raise ValidationError({f"bills[{i}].layer": "全年结算只收整张票据（不收单独一层）"})
    return str(day), label, inp


def _row(n: int, day: str, label: str, inp, r) -> dict[str, Any]:
    out = {"n": n, "date": day, "label": label, "setting": inp.setting, "level": inp.level}
    out["result"] = r.to_dict()
    out["input"] = engine.input_to_json(inp)
    return out


def _totals(rows: list[dict[str, Any]]) -> dict[str, str]:
    sums = {k: ZERO for k in SUMMARY}
    for row in rows:
        for k in SUMMARY:
            sums[k] += Decimal(row["result"].get(k) or "0")
    return {k: f"{v:.2f}" for k, v in sums.items()}


def _end(state: YearState) -> dict[str, Any]:
    return {
        "fields": {k: f"{v:.2f}" for k, v in state.ytd.items()},
        "levels": {
            f"{s}/{lv}": {"level_in_policy_ytd": f"{a:.2f}", "level_paid_ytd": f"{b:.2f}"}
            for (s, lv), (a, b) in state.levels.items()
        },
        "admissions": state.admissions,
    }


def run_year(
    policy_id: str | None, data: Any, *, data_dir: str | Path | None = None
) -> dict[str, Any]:
    """Settle a year of bills given as JSON (see the module doc); raises ValidationError."""
    if isinstance(data, list):
        data = {"bills": data}
    if not isinstance(data, Mapping) or not isinstance(data.get("bills"), list):
        raise ValidationError({"bills": "请给出 bills：按日期排列的票据列表"})
    unknown = set(data) - {"policy", "start", "bills"}
    if unknown:
        raise ValidationError({k: f"不认识的字段“{k}”" for k in sorted(unknown)})
    pid = policy_id or data.get("policy")
    if not pid:
        raise ValidationError({"policy": "请指定政策"})
    policy = _policy(pid, data_dir)
    state = _start(data.get("start"))
    bills = [_bill(i, b) for i, b in enumerate(data["bills"])]
    order = sorted(range(len(bills)), key=lambda i: (bills[i][0] or "9999", i))
    rows = []
    for n, i in enumerate(order, start=1):
        day, label, inp = bills[i]
        try:
            filled = state.bill(inp)
            r = engine.estimate(policy, filled)
        except ValidationError as e:
            raise ValidationError({f"bills[{i}].{k}": v for k, v in e.errors.items()}) from None
        rows.append(_row(n, day, label, filled, r))
        state = state.after(r)
    return {"policy": policy.id, "bills": rows, "totals": _totals(rows), "end": _end(state)}


def person_year(store: Store, person_id: str, year: int) -> dict[str, Any]:
    """The person's settled whole-bill estimates of ``year`` settled again in the order they
    were settled, from nothing used; each row also gives what the saved estimate paid
    (``saved_fund``), so a bill settled with stale counters shows."""
    with store.read():
        saved = estimates.settled_results(store, person_id, int(year))
    state = YearState.start()
    rows: list[dict[str, Any]] = []
    skipped = 0
    try:
        ps = load_policies(store.path.parent if store.path is not None else None)
    except PolicyUnavailable as e:
        raise ValidationError({"policy": str(e)}) from None
    for s in saved:
        given = json.loads(s["input_json"])
        if given.get("layer") not in (None, "all") or s["policy_id"] not in ps.policies:
            skipped += 1
            continue
        inp = state.bill(engine.parse_given(given))
        r = engine.estimate(ps.get(s["policy_id"]), inp)
        row = _row(len(rows) + 1, (s["settled_at"] or "")[:10], "", inp, r)
        row["estimate_id"] = s["id"]
        row["saved_fund"] = json.loads(s["result_json"]).get("fund_pay_sumamt")
        rows.append(row)
        state = state.after(r)
    return {"bills": rows, "totals": _totals(rows), "end": _end(state), "skipped": skipped}
