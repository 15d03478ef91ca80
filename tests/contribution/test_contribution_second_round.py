"""Contribution rules, second round (issue 19): cover start anchors by phase and group, waits
by phase, a last payment day, the full premium from a date, a second payer, the 大病 cap cut
after a break, employee-insurance back-dating, newborns across the year end. Each worked by
hand from the quoted rule (tests/contribution/policies/qingxu-2025.toml) and run through
``enroll-terms`` and through the payment service the window uses, which must agree."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import shutil
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.contribution import PersonYear, compute
from core.errors import ValidationError
from core.policy import PolicyError, parse_policy
from desktop.cli import main as cli_main
from desktop.services import contribution as svc
from desktop.services import registration
from desktop.services.demo import make_id, numbered_name

POLICY = Path(__file__).resolve().parent / "policies" / "qingxu-2025.toml"
TERMS = parse_policy(tomllib.loads(POLICY.read_text("utf-8")), "qingxu-2025.toml").section(
    "contribution"
)
_serial = itertools.count(1)


@pytest.fixture
def county(data_dir):
    (data_dir / "policies").mkdir(exist_ok=True)
    shutil.copy(POLICY, data_dir / "policies" / POLICY.name)
    return data_dir


def person(store, clerk, category="ordinary", born="1980-05-05", *, today=dt.date(2025, 3, 1)):
    """A new household in 东村 (region 140121) with one adult head, and the person asked for
    (the head itself, or a child when ``born`` is recent)."""
    village = store.query_one("SELECT id FROM village WHERE name = '东村'")["id"]
    n = next(_serial)
    head = {
        "name": numbered_name("户主", n),
        "relation": "head",
        "sex": "male",
        "birth_date": "1975-01-01",
        "cert_no": make_id("140121", "1975-01-01", 100 + n, "male"),
    }
    members = [head]
    if category != "ordinary" or born != "1980-05-05":
        members.append(
            {
                "name": numbered_name("成员", n),
                "relation": "son",
                "sex": "male",
                "birth_date": born,
                "cert_no": make_id("140121", born, 300 + n, "male"),
                "insured_category": category,
                **({"subsidy_category": "fixed"} if category == "dibao" else {}),
            }
        )
    made = registration.create_household(
        store, clerk, {"village_id": village, "address": f"东村{n}号"}, members, today=today
    )
    return made.person_ids[-1]


def cli(county, capsys, **case):
    f = county / "case.json"
    f.write_text(json.dumps(case), encoding="utf-8")
    code = cli_main(
        ["--data-dir", str(county), "enroll-terms", "--policy", "qingxu-2025", "--input", str(f)]
    )
    out = capsys.readouterr()
    return code, json.loads(out.out) if code == 0 else json.loads(out.err)


def window(store, clerk, pid, paid_on, amount, year=2025):
    return svc.record_payment(
        store,
        clerk,
        {"person_id": pid, "year": year, "paid_on": paid_on, "amount": amount, "channel": "cash"},
        today=dt.date.fromisoformat(paid_on),
    )["terms"]


KEYS = ("amount_due", "benefits_from", "waiting", "waiting_unit", "words", "incentive_raise")


def same(a: dict, b: dict) -> None:
    assert {k: a[k] for k in KEYS} == {k: b[k] for k in KEYS}


def test_first_enrollment_from_the_next_month_plus_one(store, clerk, county, capsys):
    """“首次参保的，自缴费次月1日起算等待1个月。” Paid 2025-03-20, never insured:
    2025-04-01 + 1 month = 2025-05-01."""
    code, out = cli(county, capsys, category="ordinary", year=2025, paid_on="2025-03-20")
    assert code == 0 and out["benefits_from"] == "2025-05-01" and out["waiting"] == 1
    assert out["words"] == [
        "首次参保且未在集中参保期内缴费，自缴费次月1日起算等待期1个月后享受待遇"
    ]
    same(out, window(store, clerk, person(store, clerk), "2025-03-20", "400.00"))


def test_a_late_payer_from_the_next_month_plus_three(store, clerk, county, capsys):
    """“集中参保期外缴费的，自缴费次月1日起算，等待期3个月。” Insured in 2024, paid 2025-03-20:
    2025-04-01 + 3 months = 2025-07-01."""
    code, out = cli(
        county, capsys, category="ordinary", year=2025, paid_on="2025-03-20", last_insured_year=2024
    )
    assert out["benefits_from"] == "2025-07-01" and out["waiting_unit"] == "months"


def test_a_group_that_waits_for_nothing_from_the_next_month(store, clerk, county, capsys):
    """“重度残疾人员集中参保期外缴费的，自缴费次月1日起享受待遇。” Paid 2025-03-20 → 2025-04-01."""
    code, out = cli(
        county,
        capsys,
        category="severe_disability",
        year=2025,
        paid_on="2025-03-20",
        last_insured_year=2024,
    )
    assert out["benefits_from"] == "2025-04-01" and out["waiting"] == 0
    assert "自缴费次月1日起享受待遇" in out["words"][0]


def test_a_late_newborn_waits_thirty_days(store, clerk, county, capsys):
    """“超过90日参保的新生儿，自缴费之日起30日后享受待遇。” Born 2024-11-01 (the window ended
    2025-01-30), paid 2025-03-20 → 2025-04-19; within the window it is from birth."""
    code, out = cli(
        county, capsys, category="newborn", born_on="2024-11-01", year=2025, paid_on="2025-03-20"
    )
    assert out["benefits_from"] == "2025-04-19"
    assert (out["waiting"], out["waiting_unit"]) == (30, "days")
    code, out = cli(
        county, capsys, category="newborn", born_on="2025-02-01", year=2025, paid_on="2025-03-20"
    )
    assert out["benefits_from"] == "2025-02-01" and out["words"] == []


def test_a_december_baby_paid_in_january_at_the_window(store, clerk, county, capsys):
    """“新生儿出生后90日内参保的，自出生之日起享受待遇。” Born 2025-12-10, paid 2026-01-15 for
    the birth year: accepted by enroll-terms and at the window (a clerk, no back-dating
    reason), 400 yuan, covered from 2025-12-10."""
    code, out = cli(
        county, capsys, category="newborn", born_on="2025-12-10", year=2025, paid_on="2026-01-15"
    )
    assert code == 0 and out["benefits_from"] == "2025-12-10" and out["amount_due"] == "400.00"
    baby = person(store, clerk, "newborn", "2025-12-10", today=dt.date(2026, 1, 15))
    st = svc.status_years(store, baby, today=dt.date(2026, 1, 15))
    row = next(r for r in st["years"] if r["year"] == 2025)
    assert row.get("newborn_window") and "新生儿出生年度" in row["note"]
    same(out, window(store, clerk, baby, "2026-01-15", "400.00"))
    # an adult paying for 2025 in January 2026 is still refused
    code, out = cli(county, capsys, category="ordinary", year=2025, paid_on="2026-01-15")
    assert code == 2 and "2025-10-31截止" in out["errors"]["paid_on"]
    adult = person(store, clerk)
    with pytest.raises(ValidationError) as e:
        window(store, clerk, adult, "2026-01-15", "400.00")
    assert "截止" in json.dumps(e.value.errors, ensure_ascii=False), e.value.errors


def test_no_payment_after_the_last_payment_day(store, clerk, county, capsys, counts):
    """“2025年10月31日后不再受理当年度参保缴费。” Paid 2025-11-05: refused by both, with the
    reason; nothing written."""
    code, out = cli(county, capsys, category="ordinary", year=2025, paid_on="2025-11-05")
    assert code == 2 and "2025-10-31截止" in out["errors"]["paid_on"]
    pid = person(store, clerk)
    before = counts(store)
    with pytest.raises(ValidationError) as e:
        window(store, clerk, pid, "2025-11-05", "1100.00")
    assert "不再受理" in e.value.errors["paid_on"] and "第五条" in e.value.errors["paid_on"]
    assert counts(store) == before


def test_the_full_premium_from_a_date(store, clerk, county, capsys):
    """“2025年7月1日起参保缴费的，按个人缴费与财政补助之和全额缴纳。” Paid 2025-06-30: 400;
    2025-07-02: 400 + 700 = 1100."""
    _, early = cli(county, capsys, category="ordinary", year=2025, paid_on="2025-06-30")
    _, late = cli(county, capsys, category="ordinary", year=2025, paid_on="2025-07-02")
    assert early["amount_due"] == "400.00" and late["amount_due"] == "1100.00"
    assert "2025-07-01起" in late["reasons"]["amount_due"]["rule"]
    same(late, window(store, clerk, person(store, clerk), "2025-07-02", "1100.00"))


def test_a_second_payer_covers_the_rest(store, clerk, county, capsys):
    """“低保对象定额资助240元，其余部分由县财政兜底代缴。” In the period the person pays 0; the
    window refuses to collect and says who pays; after 2025-07-01 the person pays the fiscal
    part: 1100 − 400 = 700."""
    _, out = cli(county, capsys, category="dibao", year=2025, paid_on="2024-10-10")
    assert out["amount_due"] == "0.00" and out["subsidized_amount"] == "400.00"
    assert out["subsidized_by"] == "县医疗保障局（240.00元）、县财政（160.00元）"
    pid = person(store, clerk, "dibao", "1990-01-01")
    q = svc.quote(store, pid, 2025, "2024-10-10", today=dt.date(2024, 10, 10))
    assert q["amount_due"] == "0.00"
    with pytest.raises(ValidationError) as e:
        window(store, clerk, pid, "2024-10-10", "0.01")
    assert "县财政" in e.value.errors["amount"] and "无需收费" in e.value.errors["amount"]
    _, later = cli(county, capsys, category="dibao", year=2025, paid_on="2025-07-02")
    assert later["amount_due"] == "700.00"


def test_the_dabing_cap_falls_after_a_break(store, clerk, county, capsys):
    """“断保后再参保的，每断保1年大病保险最高支付限额降低1000元，最多降低5000元。” Last insured
    2022, paying for 2025: 2 years of break → −2000; last insured 2015 → 9 years → −5000."""
    _, out = cli(
        county, capsys, category="ordinary", year=2025, paid_on="2024-10-10", last_insured_year=2022
    )
    assert out["incentive_cut"] == "2000.00" and out["incentive_raise"] == "-2000.00"
    assert "断保2年，大病保险最高支付限额降低2000.00元" in out["words"]
    _, out = cli(
        county, capsys, category="ordinary", year=2025, paid_on="2024-10-10", last_insured_year=2015
    )
    assert out["incentive_cut"] == "5000.00"


def test_leaving_employee_insurance_back_dates_cover():
    """“职工医保中断3个月内参加居民医保的，待遇自职工医保停保次日起衔接。” Left 2025-02-10,
    paid 2025-03-20 → covered from 2025-02-11."""
    py = PersonYear(
        category="ordinary",
        year=2025,
        paid_on=dt.date(2025, 3, 20),
        last_insured_year=None,
        left_employee_insurance_on=dt.date(2025, 2, 10),
    )
    r = compute(TERMS, py, "qingxu-2025")
    assert r.benefits_from == dt.date(2025, 2, 11) and r.waiting == 0
    assert "停保次日（2025-02-11）起衔接" in r.reasons["waiting"].rule


def broken(change):
    data = tomllib.loads(POLICY.read_text("utf-8"))
    change(data["contribution"])
    return parse_policy(data, "qingxu-2025.toml")


@pytest.mark.parametrize(
    "change, key, words",
    [
        (
            lambda c: c["period"].update(last_payment_day="2024-08-01"),
            "contribution.period.last_payment_day",
            "before the collection period ends",
        ),
        (
            lambda c: c["late"].update(full_premium_from="2024-10-01"),
            "contribution.late.full_premium_from",
            "inside the collection period",
        ),
        (
            lambda c: (
                c["incentive"].update(cut_per_break_year="400000.00", max_cut=None)
                or c["incentive"].pop("max_cut")
            ),
            "contribution.incentive.cut_per_break_year",
            "larger than the cap",
        ),
        (
            lambda c: c["starts"][0].update(anchor="next_week"),
            "contribution.starts[0].anchor",
            "unknown value",
        ),
        (
            lambda c: c["starts"][1].update(wait_days=10),
            "contribution.starts[1].wait_months",
            "not both",
        ),
        (
            lambda c: c["subsidized"][0].update(rest_by="县财政"),
            "contribution.subsidized[0].rest_by",
            "fixed subsidy",
        ),
        (
            lambda c: c["subsidized"][2].update(groups=["orphan_class"]),
            "contribution.subsidized[2].groups",
            "is not declared",
        ),
        (
            lambda c: c["subsidized"][2].update(categories=["tekun"]),
            "contribution.subsidized[2].groups",
            "is a tier of 'dibao'",
        ),
        (
            lambda c: c["newborn"].update(free_if=["rich_parent"]),
            "contribution.newborn.free_if",
            "list conditions",
        ),
        (
            lambda c: c["students"].update(academic_year=False, freshmen_from_payment=False),
            "contribution.students.academic_year",
            "needs academic_year or freshmen_from_payment",
        ),
    ],
)
def test_a_broken_use_stops_the_file(change, key, words):
    with pytest.raises(PolicyError) as e:
        broken(change)
    assert e.value.key == key and words in e.value.problem, (e.value.key, e.value.problem)


CATEGORIES = st.sampled_from(
    ["ordinary", "severe_disability", "dibao", "tekun", "newborn", "university_student"]
)
DAYS = st.dates(dt.date(2024, 9, 1), dt.date(2026, 2, 20))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(category=CATEGORIES, paid_on=DAYS, age_days=st.integers(1, 400))
def test_quote_equals_the_recorded_payment_equals_the_rules(
    store, clerk, county, category, paid_on, age_days
):
    """Random people and dates: the window's quote, the recorded payment and the rules
    (``enroll-terms``' computation) agree, or all three refuse."""
    born = (paid_on - dt.timedelta(days=age_days)) if category == "newborn" else None
    birth = born.isoformat() if born else "1985-06-06"
    pid = person(store, clerk, category, birth, today=paid_on)
    py = PersonYear(category=category, year=2025, paid_on=paid_on, born_on=born)
    try:
        rules = compute(TERMS, py, "qingxu-2025").as_dict()
    except ValidationError as e:
        rules = {"refused": sorted(e.errors)}
    try:
        q = svc.quote(store, pid, 2025, paid_on.isoformat(), today=paid_on)
    except ValidationError as e:
        q = {"refused": sorted(e.errors)}
    if "refused" in rules or "refused" in q:
        assert rules == q or paid_on < dt.date(2024, 9, 1)
        return
    same(rules, q)
    if q["amount_due"] == "0.00":
        return  # nothing to collect: the window refuses (a department pays)
    rec = window(store, clerk, pid, paid_on.isoformat(), q["amount_due"])
    same(rules, rec)


def test_the_cut_lowers_the_cap_in_the_estimate(store, clerk, county):
    """The cut reaches the 报销测算: a person whose 2025 terms carry −2000 gets
    dabing_cap_cut 2000 pre-filled, and the 大病 cap (test policy: 200,000) falls to 198,000
    (a 400,000 burden: 40,000 × 60% + 350,000 × 70% = 269,000 → 198,000)."""
    from core.estimate import DabingInput, run_dabing
    from desktop.services import estimate as est
    from desktop.services import policies

    full = policies.load_file(
        Path(__file__).resolve().parents[1] / "estimate" / "policies" / "test-full.toml"
    )
    r = run_dabing(full, DabingInput(burden=400_000, dabing_cap_cut=2000))
    assert r.hifmi_pay == 198_000
    assert any("断保降低 2000.00 元" in s.text for s in r.steps)
    pid = person(store, clerk)
    window(store, clerk, pid, "2024-10-10", "400.00")
    # as recorded for someone back after two years of break (the terms of the year)
    store.db.conn.execute(
        "UPDATE enrollment SET incentive_raise = '-2000.00' WHERE person_id = ?", (pid,)
    )
    fields = est.person_year(store, pid, 2025)["ytd"]["fields"]
    assert (fields["dabing_cap_raise"], fields["dabing_cap_cut"]) == ("0.00", "2000.00")


def test_the_page_and_the_receipt_say_it_in_words(qtbot, store, clerk, county, household):
    """At the window (2025-03-20, a late payer insured in 2024 … here: never insured, so
    first enrollment): the quote and the year line say “自缴费次月1日起…”, and so does the
    printed 参保缴费凭证."""
    import io

    from pypdf import PdfReader

    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.pages.contribution import Page
    from desktop.services import receipts
    from tests.contribution.test_contribution_gui import cell, cert, enter_amount, find, settle

    create_qapplication()
    ctx = make_context(store, clerk, county)
    ctx.extras["today"] = dt.date(2025, 3, 20)
    try:
        page = Page(ctx)
        page.confirm = lambda text: True
        qtbot.addWidget(page)
        page.resize(1300, 800)
        page.show()
        settle(qtbot, ctx)
        find(qtbot, page, ctx, cert(store, "李四"))
        assert "自缴费次月1日起算等待期1个月后享受待遇" in page.due_label.text()
        assert "待遇自 2025-05-01 起" in page.due_label.text()
        enter_amount(qtbot, page, ctx, "400")
        assert "次月1日起" in cell(page, 2025, "说明").text()
        receipt = store.query_one("SELECT receipt_no FROM payment")["receipt_no"]
        pdf = receipts.prepare(store, clerk, "receipt", receipt).pdf
        text = "".join(
            "".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages
        )
        assert "待遇说明" in text and "自缴费次月1日起算等待期1个月后享受待遇" in text
    finally:
        ctx.tasks.shutdown()


def test_the_cap_change_in_words_on_the_page():
    from desktop.gui.pages.contribution.status import _cap_change

    assert _cap_change("-2000.00") == "降低2000.00元"
    assert _cap_change("1000.00") == "提高1000.00元"
    assert _cap_change("0.00") == "" and _cap_change(None) == ""


def test_a_newborn_of_an_insured_parent_is_free_in_the_birth_year_only(
    store, clerk, county, capsys
):
    """“父母一方已参保的新生儿，出生当年免缴个人缴费。” Born 2025-02-01 with an insured parent:
    0 to pay for 2025, covered from birth; without the parent 400; born in 2024, the 2025
    year is paid as anyone's (the free year does not carry over)."""
    case = dict(category="newborn", born_on="2025-02-01", year=2025, paid_on="2025-03-20")
    _, free = cli(county, capsys, **case, facts=["insured_parent"])
    assert free["amount_due"] == "0.00" and free["subsidy_kind"] == "free"
    assert free["benefits_from"] == "2025-02-01"
    assert "父母一方已参保，免缴个人缴费" in free["reasons"]["amount_due"]["rule"]
    _, paid = cli(county, capsys, **case)
    assert paid["amount_due"] == "400.00"
    _, later = cli(
        county,
        capsys,
        category="newborn",
        born_on="2024-06-01",
        year=2025,
        paid_on="2024-10-10",
        facts=["insured_parent"],
    )
    assert later["amount_due"] == "400.00"
    # at the window: the father pays for 2025, then the baby's year is free
    baby = person(store, clerk, "newborn", "2025-02-01", today=dt.date(2025, 3, 20))
    father = store.query_one(
        "SELECT id FROM person WHERE household_id = (SELECT household_id FROM person"
        " WHERE id = ?) AND relation = 'head'",
        (baby,),
    )["id"]
    before = svc.quote(store, baby, 2025, "2025-03-20", today=dt.date(2025, 3, 20))
    assert before["amount_due"] == "400.00"
    window(store, clerk, father, "2025-03-20", "400.00")
    q = svc.quote(store, baby, 2025, "2025-03-20", today=dt.date(2025, 3, 20))
    assert q["amount_due"] == "0.00" and q["subsidy_kind"] == "free"
    row = next(
        r
        for r in svc.status_years(store, baby, today=dt.date(2025, 3, 20))["years"]
        if r["year"] == 2025
    )
    assert row["status"] == "subsidized" and "免缴个人缴费" in row["note"]
    with pytest.raises(ValidationError) as e:
        window(store, clerk, baby, "2025-03-20", "400.00")
    assert "无需收费" in e.value.errors["amount"]


def test_students_by_academic_year_and_freshmen_from_payment(store, clerk, county, capsys):
    """“大学生按学年参保，待遇期为上年9月1日至当年8月31日；新入学大学生首次参保的，自缴费之日
    起享受待遇。” A returning student (insured for 2024) paying 2024-10-10 for 2025: covered
    2024-09-01 to 2025-08-31; a freshman paying 2024-09-15: from 2024-09-15; paying for 2025
    on 2025-09-05 is after the academic year: refused."""
    _, back = cli(
        county,
        capsys,
        category="university_student",
        year=2025,
        paid_on="2024-10-10",
        last_insured_year=2024,
    )
    assert (back["benefits_from"], back["benefits_to"]) == ("2024-09-01", "2025-08-31")
    assert "学年" in back["reasons"]["benefits_to"]["rule"]
    _, fresh = cli(county, capsys, category="university_student", year=2025, paid_on="2024-09-15")
    assert fresh["benefits_from"] == "2024-09-15" and fresh["waiting"] == 0
    assert "新入学学生首次参保，自缴费之日起享受待遇" in fresh["reasons"]["waiting"]["rule"]
    code, out = cli(county, capsys, category="university_student", year=2025, paid_on="2025-09-05")
    assert code == 2 and "已结束" in out["errors"]["year"]
    pid = person(store, clerk, "university_student", "2006-03-03", today=dt.date(2024, 9, 15))
    same(fresh, window(store, clerk, pid, "2024-09-15", "400.00"))


def test_groups_the_county_names(store, clerk, county, capsys):
    """“退役军人及军属参保不设待遇等待期。” “一类低保对象个人缴费全额资助（县民政局）。” A veteran
    paying late on 2025-03-20 is covered from that day; a 一类低保 person pays nothing (县民政局
    pays it all); a plain 低保 person keeps the fixed subsidy with the county paying the rest."""
    _, vet = cli(
        county,
        capsys,
        category="ordinary",
        group="veteran",
        year=2025,
        paid_on="2025-03-20",
        last_insured_year=2024,
    )
    assert vet["benefits_from"] == "2025-03-20" and vet["waiting"] == 0
    _, tier = cli(
        county, capsys, category="dibao", group="dibao_class1", year=2025, paid_on="2024-10-10"
    )
    assert tier["subsidy_kind"] == "full" and tier["subsidized_by"] == "县民政局"
    _, plain = cli(county, capsys, category="dibao", year=2025, paid_on="2024-10-10")
    assert plain["subsidized_by"].startswith("县医疗保障局（240.00元）")
    # registered with the group at the desk, the window agrees
    village = store.query_one("SELECT id FROM village WHERE name = '东村'")["id"]
    made = registration.create_household(
        store,
        clerk,
        {"village_id": village, "address": "东村99号"},
        [
            {
                "name": "王老兵",
                "relation": "head",
                "sex": "male",
                "birth_date": "1960-08-01",
                "cert_no": make_id("140121", "1960-08-01", 991, "male"),
                "local_group": "veteran",
            }
        ],
        today=dt.date(2025, 3, 20),
    )
    pid = made.person_ids[0]
    assert registration.get_person(store, pid)["local_group"] == "veteran"
    q = svc.quote(store, pid, 2025, "2025-03-20", today=dt.date(2025, 3, 20))
    assert q["benefits_from"] == "2025-03-20" and q["waiting"] == 0


@pytest.mark.parametrize(
    "member, words",
    [
        ({"local_group": "nobody"}, "本地政策没有这个人员类别"),
        (
            {"local_group": "dibao_class1"},
            "“一类低保”属于最低生活保障对象（低保），与参保人员类别不符",
        ),
    ],
)
def test_a_group_that_does_not_fit_is_refused_at_the_field(
    store, clerk, county, counts, member, words
):
    village = store.query_one("SELECT id FROM village WHERE name = '东村'")["id"]
    before = counts(store)
    with pytest.raises(ValidationError) as e:
        registration.create_household(
            store,
            clerk,
            {"village_id": village, "address": "东村98号"},
            [
                {
                    "name": "赵某",
                    "relation": "head",
                    "sex": "male",
                    "birth_date": "1970-08-01",
                    "cert_no": make_id("140121", "1970-08-01", 981, "male"),
                    **member,
                }
            ],
            today=dt.date(2025, 3, 20),
        )
    assert words in e.value.errors["members.0.local_group"]
    assert counts(store) == before


def test_the_registration_page_offers_the_policys_groups(qtbot, store, clerk, county):
    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.pages.registration import Page

    create_qapplication()
    ctx = make_context(store, clerk, county)
    try:
        page = Page(ctx)
        qtbot.addWidget(page)
        page.resize(1366, 740)
        page.show()
        box = page.inputs["local_group"]
        qtbot.waitUntil(lambda: box.count() == 3, timeout=5000)
        assert [box.itemText(i) for i in range(3)] == [
            "（无地方认定类别）",
            "退役军人及军属",
            "一类低保",
        ]
        assert box.isVisible()
        box.setCurrentIndex(1)
        assert page.read_member()["local_group"] == "veteran"
    finally:
        ctx.tasks.shutdown()
