"""报销测算: run an estimate (the GUI and CLI call this), save it, mark it settled, and the
person's year-to-date figures (本年已报销) from settled estimates and county data.

- :func:`run` — compute only: ``run(policy_id, given, data_dir=...)`` → result dict (the
  engine's :meth:`EstimateResult.to_dict` plus ``input``). ``given`` is a JSON-like dict
  shaped like the acceptance cases' ``given`` objects (see :func:`core.estimate.parse_given`).
- :func:`year_to_date` — the YTD fields for a person and year, with where they came from.
- :func:`save` / :func:`mark_settled` — one write transaction each, audited.
- :func:`set_county_ytd` — figures from the county (sync or a county statement).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from core import estimate as engine
from core.errors import ValidationError
from core.estimate import LEVEL_YTD_FIELDS as LEVEL_YTD
from core.estimate import YTD_FIELDS
from core.money import ZERO, parse_amount
from core.names import clean_free_text
from desktop.services import alerts
from desktop.services.context import Actor
from desktop.services.policies import PolicyUnavailable
from desktop.services.policies import load as load_policies
from desktop.store import Store, estimates, persons
from desktop.store.journal import canonical_json, new_id, now_iso

log = logging.getLogger(__name__)

# the year-to-date figures the estimator takes (defined with the engine)


class EstimateError(ValidationError):
    pass


def _policy(policy_id: str, data_dir: str | Path | None):
    try:
        return load_policies(data_dir).get(policy_id)
    except PolicyUnavailable as e:
        raise ValidationError({"policy": str(e)}) from None


def compute(
    policy_id: str, given: Mapping[str, Any], *, data_dir: str | Path | None = None
) -> tuple[Any, engine.EstimateResult]:
    """Parse and run; raises ValidationError (Chinese, by field) on bad input."""
    policy = _policy(policy_id, data_dir)
    inp = engine.parse_given(given)
    return inp, engine.run_input(policy, inp)


def run(
    policy_id: str, given: Mapping[str, Any], *, data_dir: str | Path | None = None
) -> dict[str, Any]:
    inp, result = compute(policy_id, given, data_dir=data_dir)
    out = result.to_dict()
    out["input"] = engine.input_to_json(inp)
    return out


# ---------------------------------------------------------------- year to date


def _add(acc: dict[str, Decimal], field: str, value: str | None) -> None:
    if value is not None:
        acc[field] = acc.get(field, ZERO) + Decimal(value)


def contributions(result: Mapping[str, Any]) -> dict[str, Decimal]:
    """What one settled result adds to the year-to-date fields."""
    acc: dict[str, Decimal] = {}
    layer = result.get("layer")
    if layer == "all":
        counter = result.get("counter") if result.get("in_section", True) else None
        if counter == "inpatient":
            _add(acc, "basic_paid_ytd", result.get("hifp_pay"))
            _add(acc, "deductible_paid_ytd", result.get("act_pay_dedc"))
        elif counter in ("outpatient", "chronic"):
            _add(acc, f"{counter}_in_policy_ytd", result.get("inscp_scp_amt"))
            _add(acc, f"{counter}_paid_ytd", result.get("hifp_pay"))
        _add(acc, "dabing_burden_ytd", result.get("dabing_burden"))
        _add(acc, "dabing_paid_ytd", result.get("hifmi_pay"))
        _add(acc, "assistance_paid_ytd", result.get("maf_pay"))
        _add(acc, "assistance_base_ytd", result.get("assistance_base"))
        _add(acc, "tilted_paid_ytd", result.get("tilted_pay"))
        _add(acc, "tilted_base_ytd", result.get("tilted_base"))
    elif layer == "dabing":
        _add(acc, "dabing_burden_ytd", result.get("dabing_burden"))
        _add(acc, "dabing_paid_ytd", result.get("hifmi_pay"))
    elif layer == "assistance":
        _add(acc, "assistance_paid_ytd", result.get("maf_pay"))
        _add(acc, "assistance_base_ytd", result.get("assistance_base"))
    return acc


def _instant(text: str | None) -> dt.datetime:
    """An ISO time as an aware instant (times from different offsets compare correctly;
    a time without offset is taken as local time)."""
    if not text:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    t = dt.datetime.fromisoformat(text)
    return t if t.tzinfo else t.astimezone()


def year_to_date(store: Store, person_id: str, year: int) -> dict[str, Any]:
    """YTD figures for the estimator: ``{"fields": {name: "0.00"}, "levels": {"setting/level":
    {level_in_policy_ytd, level_paid_ytd}}, "admissions": n,
    "next_admission_no": n + 1, "settled_estimates": k, "county_as_of": str | None}``.

    County figures (``person_ytd``) count as of their date; settled local estimates after
    that date are added. Without county figures, all settled estimates of the year count."""
    with store.read():
        county = estimates.county_ytd(store, person_id, int(year))
        rows = estimates.settled_results(store, person_id, int(year))
    acc = {k: ZERO for k in YTD_FIELDS}
    as_of: str | None = None
    for c in county:
        if c["field"] in acc:
            acc[c["field"]] = Decimal(c["amount"])
            if as_of is None or _instant(c["as_of"]) > _instant(as_of):
                as_of = c["as_of"]
    admissions = 0
    counted = 0
    levels: dict[str, dict[str, Decimal]] = {}
    for r in rows:
        res = json.loads(r["result_json"])
        if res.get("level_counter"):  # the county sends no per-level figures: all count
            lv = levels.setdefault(
                f"{res['setting']}/{res['level']}", dict.fromkeys(LEVEL_YTD, ZERO)
            )
            lv["level_in_policy_ytd"] += Decimal(res["inscp_scp_amt"])
            lv["level_paid_ytd"] += Decimal(res["hifp_pay"])
        if as_of is not None and _instant(r["settled_at"]) <= _instant(as_of):
            continue
        for k, v in contributions(res).items():
            acc[k] += v
        if r["setting"] == "inpatient":
            admissions += 1
        counted += 1
    return {
        "fields": {k: f"{v:.2f}" for k, v in acc.items()},
        "levels": {key: {k: f"{v:.2f}" for k, v in lv.items()} for key, lv in levels.items()},
        "admissions": admissions,
        "next_admission_no": admissions + 1,
        "settled_estimates": counted,
        "county_as_of": as_of,
    }


def after_break(insured: set[int], year: int, run: int | None) -> bool:
    """Whether the run of ``run`` continuous years ending at ``year`` began after a break:
    an insured year before the gap that started it."""
    return run is not None and any(y < year - run for y in insured)


def coverage(store: Store, person_id: str, year: int) -> dict[str, Any] | None:
    """The person's 参保 status for the year, from the contribution service: status and its
    label, benefit period, waiting, and the 大病 cap raise earned by continuous enrollment
    (``incentive_raise``, yuan). None when the contribution records cannot say."""
    try:
        from desktop.services import (
            contribution,
        )  # deferred: avoids an import cycle (contribution and registration import estimate)

        data = contribution.status_years(store, person_id, span=10)
    except (ImportError, LookupError, ValueError) as e:  # ValidationError is a ValueError
        log.warning("no coverage status for %s/%s: %s", person_id, year, e)
        return None
    row = next((r for r in data.get("years", []) if r.get("year") == int(year)), None)
    if row is None:
        return None
    keys = ("status", "status_label", "benefits_from", "benefits_to", "in_waiting")
    out = {k: row.get(k) for k in keys}
    insured = {
        r["year"]
        for r in data.get("years", [])
        if r.get("status") in ("local", "confirmed", "subsidized")
    }
    run = row.get("continuous_years")
    out["continuous_years"] = run
    out["after_break"] = after_break(insured, int(year), run)
    out.update(
        waiting_until=row.get("waiting_until"),
        incentive_raise=row.get("incentive_raise"),
        note=row.get("note") or "",
    )
    return out


def person_year(store: Store, person_id: str, year: int) -> dict[str, Any]:
    """What the estimate page shows for a chosen person and year: ``{"ytd": year_to_date,
    "coverage": coverage}``; the 大病 cap raise of the enrollment pre-fills
    ``ytd["fields"]["dabing_cap_raise"]``."""
    ytd = year_to_date(store, person_id, year)
    cov = coverage(store, person_id, year)
    raise_ = (cov or {}).get("incentive_raise")
    net = Decimal(raise_) if raise_ else ZERO  # a break may have lowered the cap (negative)
    ytd["fields"]["dabing_cap_raise"] = f"{max(net, ZERO):.2f}"
    ytd["fields"]["dabing_cap_cut"] = f"{max(-net, ZERO):.2f}"
    return {"ytd": ytd, "coverage": cov}


def set_county_ytd(
    store: Store,
    actor: Actor,
    *,
    person_id: str,
    year: int,
    figures: Mapping[str, Any],
    as_of: str | None = None,
    source: str = "county",
) -> None:
    """Record the county's YTD figures for a person (sync, or a county statement entered by a
    supervisor). Audited."""
    if source != "county":
        actor.require_supervisor("录入县级年度累计数")
    errors: dict[str, str] = {}
    clean: dict[str, Decimal] = {}
    for k, v in figures.items():
        if k not in YTD_FIELDS:
            errors[k] = f"不认识的年度累计字段“{k}”"
            continue
        try:
            clean[k] = parse_amount(v, field=k, label=YTD_FIELDS[k])
        except ValidationError as e:
            errors.update(e.errors)
    if errors:
        raise ValidationError(errors)
    at = as_of or now_iso()
    try:
        _instant(at)
    except ValueError:
        raise ValidationError(
            {"as_of": "县级数据时间格式应为 ISO 8601（如 2025-06-30T18:00:00+08:00）"}
        ) from None
    with store.write() as db:
        if not persons.exists(db.conn, person_id):
            raise ValidationError({"person": "找不到该参保人"})
        estimates.set_county_ytd(
            db,
            person_id,
            int(year),
            {k: f"{v:.2f}" for k, v in clean.items()},
            as_of=at,
            source=source,
            operator_id=actor.operator_id,
        )
        # 因病返贫 预警: the county's figures may show a burden this desk never saw
        alerts.check(store, db, person_id, int(year), actor.operator_id)


# ---------------------------------------------------------------- saving


def _year(year: Any) -> int:
    if year is None or year == "":
        return dt.date.today().year
    try:
        y = int(year)
    except (TypeError, ValueError):
        raise ValidationError({"year": "年度应为4位数字"}) from None
    if not 2000 <= y <= 2100:
        raise ValidationError({"year": "年度应在2000–2100之间"})
    return y


def caveats(
    store: Store | None,
    *,
    policy_id: str,
    person_id: str | None,
    year: int,
    data_dir: str | Path | None = None,
) -> list[str]:
    """What the clerk and the resident must read before the figures, on screen and paper:
    the result is hypothetical when the person was not insured (or still waiting) in the
    year of care, and a stand-in policy is named with the reason when the year of care has
    none at the desk. Empty when the estimate stands as it is."""
    out: list[str] = []
    pol = _policy(policy_id, data_dir)
    if pol.year not in (0, int(year)):
        out.append(
            f"{int(year)}年度的报销政策尚未到达本机，本测算按《{pol.title}》（{pol.year}年度）"
            "计算，仅供参考。"
        )
    if store is not None and person_id:
        who = persons.get(store, person_id)
        left = who is not None and who["status"] == 3 and who["exit_date"]
        if left and int(who["exit_date"][:4]) <= int(year):
            out.append(
                f"该参保人已于{who['exit_date']}终止参保（{who['exit_reason']}），此后发生的"
                "费用医保不予支付；以下测算仅适用于终止之前的费用。"
            )
        cov = coverage(store, person_id, int(year))
        paid = ("local", "confirmed", "subsidized")
        if cov is None or cov.get("status") not in paid:
            out.append(
                f"该参保人{int(year)}年度未参保缴费，未参保期间的费用医保不予支付。"
                "以下为假设已参保时的测算，实际基金支付为0。"
            )
        elif cov.get("in_waiting"):
            out.append(
                f"该参保人处于待遇等待期（至 {cov.get('waiting_until') or ''}），期间的费用医保"
                "不予支付。以下为假设等待期已满时的测算。"
            )
    return out


def save(
    store: Store,
    actor: Actor,
    *,
    policy_id: str,
    given: Mapping[str, Any],
    person_id: str | None = None,
    anon_label: str = "",
    year: int | None = None,
    data_dir: str | Path | None = None,
) -> dict[str, Any]:
    """Recompute (the saved result is always what the engine says) and save. Audited."""
    y = _year(year)
    label = clean_free_text(anon_label, field="anon_label", label="备注", limit=50)
    inp, result = compute(policy_id, given, data_dir=data_dir)
    res = result.to_dict()
    setting = getattr(inp, "setting", None) or res["layer"]
    row = {
        "id": new_id(),
        "person_id": person_id or None,
        "anon_label": "" if person_id else label,
        "policy_id": policy_id,
        "year": y,
        "setting": setting,
        "input_json": canonical_json(engine.input_to_json(inp)),
        "result_json": canonical_json(res),
        "medfee_sumamt": res.get("medfee_sumamt"),
        "fund_pay_sumamt": res.get("fund_pay_sumamt"),
        "psn_part_amt": res.get("psn_part_amt"),
        "settled": 0,
        "settled_at": None,
        "settled_by": None,
        "operator_id": actor.operator_id,
        "created_at": now_iso(),
    }
    with store.write() as db:
        if person_id and not persons.exists(db.conn, person_id):
            raise ValidationError({"person": "找不到该参保人，请重新选择"})
        estimates.insert(db, row, operator_id=actor.operator_id)
    return _public(row)


def mark_settled(
    store: Store, actor: Actor, estimate_id: str, settled: bool = True
) -> dict[str, Any]:
    """The clerk marks an estimate as settled (it then counts in the person's YTD figures).
    Undoing a mark needs a supervisor. Audited."""
    if not settled:
        actor.require_supervisor("撤销已结算标记")
    with store.write() as db:
        before = estimates.row(store, estimate_id)
        if before is None:
            raise ValidationError({"estimate": "找不到该测算记录"})
        if bool(before["settled"]) == settled:
            raise ValidationError(
                {"estimate": "该测算已标记为已结算" if settled else "该测算尚未标记为已结算"}
            )
        if settled and before["person_id"] is None:
            raise ValidationError(
                {"estimate": "匿名测算不能标记为已结算（不计入任何人的年度累计）"}
            )
        at = now_iso() if settled else None
        by = actor.operator_id if settled else None
        estimates.set_settled(
            db, before, settled=settled, at=at, by=by, operator_id=actor.operator_id
        )
        if settled:  # 因病返贫 预警: the same transaction as the mark
            alerts.check(store, db, before["person_id"], before["year"], actor.operator_id)
    return get(store, estimate_id) or {}


def _public(row: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(row)
    out["input"] = json.loads(out.pop("input_json"))
    out["result"] = json.loads(out.pop("result_json"))
    return out


def get(store: Store, estimate_id: str) -> dict[str, Any] | None:
    row = estimates.with_names(store, estimate_id)
    return _public(row) if row else None


def list_estimates(
    store: Store, *, person_id: str | None = None, year: int | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    return estimates.listing(
        store, person_id=person_id, year=year, limit=max(1, min(int(limit), 1000))
    )


def find_persons(store: Store, query: str, limit: int = 20) -> list[dict[str, Any]]:
    """Person search for the estimate page (the registration service's search)."""
    from desktop.services.registration import (
        search_persons,
    )  # deferred: avoids an import cycle (contribution and registration import estimate)

    return search_persons(store, query, limit)
