"""Demo service point and residents for ``township-desk --demo`` and screenshots.

:func:`seed_demo` sets up 示范乡卫生院 (region 140121 清徐县, code SP01, villages 东村/西村/
南村; supervisor ``admin``/``admin123``, clerk ``clerk1``/``clerk123``) when the store is
empty, then registers ten demo households through the ordinary registration service (so
they are audited and queued like real ones). Other areas extend the demo by appending a
callable ``(store, actor)`` to :data:`DEMO_SEEDERS`; each runs once, after the residents
exist, in list order. The ID numbers carry real check characters computed here; the people
are invented and marked as demo data by the service point's name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from stdnum.cn import ric

from desktop.services import auth, policies, registration, setup
from desktop.services.context import Actor
from desktop.store import Store, operators
from desktop.store import demo as demo_store

DEMO_REGION = "140121"
DEMO_SERVICE_POINT = setup.ServicePointInput(
    name="示范乡卫生院", region_code=DEMO_REGION, code="SP01", villages=["东村", "西村", "南村"]
)
DEMO_ADMIN = ("admin", "王主管", "admin123")
DEMO_CLERK = ("clerk1", "李经办", "clerk123")

# Other areas append seeders here: fn(store, actor) -> None, called after the residents.
DEMO_SEEDERS: list[Callable[[Store, Actor], None]] = []


_CN_DIGITS = str.maketrans("0123456789", "〇一二三四五六七八九")


def numbered_name(stem: str, n: int) -> str:
    """A made-up name with a number in Chinese numerals (张一二): names have no digits."""
    return stem + str(n).translate(_CN_DIGITS)


def make_id(region: str, birth: str, seq: int, sex: str) -> str:
    """An 18-character number with a valid check character. ``seq`` 0-99 picks the
    sequence; its last digit is made odd for male, even for female (GB 11643)."""
    d = seq % 100 * 10 + (1 if sex == "male" else 0)
    body = f"{region}{birth.replace('-', '')}{d:03d}"
    return body + ric.calc_check_digit(body + "0")


# (village, address, [(name, relation, sex, birth, extras)])
_HOUSEHOLDS: list[tuple[str, str, list[tuple[str, str, str, str, dict]]]] = [
    (
        "东村",
        "东村一组12号",
        [
            ("张三", "head", "male", "1968-03-15", {"phone": "13903510012"}),
            ("王秀兰", "spouse", "female", "1970-07-02", {}),
            ("张小明", "son", "male", "2008-09-01", {"insured_category": "child_student"}),
        ],
    ),
    (
        "东村",
        "东村二组5号",
        [
            ("李建国", "head", "male", "1955-10-01", {"insured_category": "elderly"}),
            ("刘桂英", "spouse", "female", "1957-04-18", {"insured_category": "elderly"}),
        ],
    ),
    (
        "东村",
        "东村三组21号",
        [
            ("𠮷祥", "head", "male", "1979-01-23", {"phone": "0351-5712345"}),
            ("赵丽", "spouse", "female", "1981-12-08", {}),
            ("𠮷安", "daughter", "female", "2012-06-30", {"insured_category": "child_student"}),
        ],
    ),
    (
        "西村",
        "西村大街8号",
        [
            ("王强", "head", "male", "1975-05-20", {"phone": "13835112345"}),
            ("陈静", "spouse", "female", "1977-08-11", {}),
            (
                "王芳",
                "daughter",
                "female",
                "2001-02-14",
                {"insured_category": "university_student"},
            ),
            ("王磊", "son", "male", "2006-11-03", {"insured_category": "child_student"}),
        ],
    ),
    (
        "西村",
        "西村后街3号",
        [
            (
                "孙玉梅",
                "head",
                "female",
                "1948-09-09",
                {"insured_category": "tekun", "subsidy_category": "full"},
            ),
        ],
    ),
    (
        "西村",
        "西村南巷17号",
        [
            (
                "单志刚",
                "head",
                "male",
                "1983-04-04",
                {"insured_category": "dibao", "subsidy_category": "fixed"},
            ),
            ("曾红", "spouse", "female", "1985-03-12", {"insured_category": "dibao"}),
            ("单宇", "son", "male", "2015-07-19", {"insured_category": "child_student"}),
        ],
    ),
    (
        "南村",
        "南村新区2栋101",
        [
            ("周涛", "head", "male", "1990-12-25", {"phone": "15034567890"}),
            ("吴敏", "spouse", "female", "1992-10-10", {}),
            ("周梓涵", "daughter", "female", "2019-05-05", {"insured_category": "child_student"}),
        ],
    ),
    (
        "南村",
        "南村老街44号",
        [
            ("郑福", "head", "male", "1940-02-29", {"insured_category": "elderly"}),
            ("郑文", "son", "male", "1966-06-06", {"insured_category": "severe_disability"}),
            ("马兰", "child_in_law", "female", "1968-01-17", {}),
            ("郑浩", "grandchild", "male", "1995-09-27", {}),
        ],
    ),
    (
        "南村",
        "南村东巷9号",
        [
            ("黄海", "head", "male", "1987-08-08", {"ethnicity": "03"}),
            ("马燕", "spouse", "female", "1989-11-21", {"ethnicity": "03"}),
            ("黄一诺", "son", "male", "2014-03-03", {"ethnicity": "03"}),
        ],
    ),
    (
        "东村",
        "东村四组30号",
        [
            ("杨光", "head", "male", "1972-11-11", {"insured_category": "monitored"}),
            ("林小红", "spouse", "female", "1974-02-02", {}),
            ("杨帆", "son", "male", "1999-12-31", {}),
        ],
    ),
]


def _actor(store: Store, username: str) -> Actor | None:
    row = operators.by_username(store, username)
    if row is None:
        return None
    sp = setup.service_point(store)
    return Actor(row["id"], row["username"], row["display_name"], row["role"], sp["id"])


DEMO_POLICY_PREFIX = "demo-contribution-"

# A clearly marked 演示 contribution standard for the current and the next 参保年度, written
# into the demo data folder only (never shipped, never loaded by a real desk): the real
# standard for those years reaches a desk from the county by sync. Figures: the 2025
# national standard carried forward, which the title and every source say.
_DEMO_POLICY = """# 【演示】仅供试用本软件：township-desk --demo 写入演示数据目录，不是正式政策文件。
[policy]
id = "{pid}"
region = "{region}"
year = {year}
title = "【演示】{year}参保年度居民医保缴费标准（仅供演示，非正式文件）"
source = "演示数据：沿用2025参保年度全国标准（国办发〔2024〕38号、冀医保发〔2025〕6号转载），仅供试用本软件"

[contribution]
source = "演示数据：个人缴费400元、财政补助700元，沿用2025参保年度标准（冀医保发〔2025〕6号转载）"
individual = "400.00"
subsidy = "700.00"

[contribution.period]
source = "演示数据：集中参保期为上一年9月1日至12月31日（同2025参保年度做法）"
start = "{prev}-09-01"
end = "{prev}-12-31"

[contribution.late]
source = "演示数据：集中参保期外参保的设置待遇等待期，只缴个人部分（国办发〔2024〕38号转载）"
owes = "individual"

[contribution.waiting]
source = "演示数据：固定待遇等待期3个月，每断保1年增加1个月，补缴1年减少1个月，连续断保4年及以上不少于6个月（国办发〔2024〕38号转载）"
rule = "months"
fixed_months = 3
variable_months_per_year = 1
break_years_free = 1
repair_months_per_back_year = 1
floor_after_break_years = 4
floor_months = 6
count_from = "later_of_payment_and_year_start"
in_period_requires_continuity = true
first_enrollment_waits = false
exempt = ["newborn"]
exempt_source = "演示数据：新生儿等特殊群体除外（国办发〔2024〕38号转载）"

[contribution.newborn]
source = "演示数据：新生儿出生后90天内参保缴费的，自出生之日起享受待遇"
category = "newborn"
window_days = 90
covered_from = "birth"

[[contribution.subsidized]]
source = "演示数据：特困人员个人缴费全额资助"
categories = ["tekun"]
kind = "full"
department = "医疗救助基金（医疗保障部门）"

[campaign]
source = "演示数据：参保率目标95%，沿用《“十四五”全民医疗保障规划》（国办发〔2021〕36号）基本医疗保险参保率稳定在95%以上的指标"
target_rate = "0.95"
"""


def demo_policy_years(today: dt.date) -> list[int]:
    """The current and the next 参保年度 (the next one's campaign runs this autumn)."""
    return [today.year, today.year + 1]


def write_demo_policies(data_dir: Path, today: dt.date | None = None) -> list[Path]:
    """Write the 演示 contribution policies into ``data_dir/policies`` (demo desks only)."""
    today = today or dt.date.today()
    folder = Path(data_dir) / "policies"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for year in demo_policy_years(today):
        path = folder / f"{DEMO_POLICY_PREFIX}{year}.toml"
        if not path.exists():
            pid = f"{DEMO_POLICY_PREFIX}{year}"
            text = _DEMO_POLICY.format(pid=pid, region=DEMO_REGION, year=year, prev=year - 1)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    if written:
        policies.clear_cache()
    return written


def _is_demo_service_point(store: Store) -> bool:
    sp = setup.service_point(store) or {}
    return (sp.get("name"), sp.get("region_code")) == (
        DEMO_SERVICE_POINT.name,
        DEMO_SERVICE_POINT.region_code,
    )


def seed_demo(store: Store) -> Actor:
    """Make the store a demo service point (only what is missing) and return the clerk."""
    if setup.needs_setup(store):
        setup.run_setup(
            store,
            DEMO_SERVICE_POINT,
            admin_username=DEMO_ADMIN[0],
            admin_name=DEMO_ADMIN[1],
            admin_password=DEMO_ADMIN[2],
        )
    admin = _actor(store, DEMO_ADMIN[0])
    clerk = _actor(store, DEMO_CLERK[0])
    if clerk is None:
        if admin is None:  # a real store set up with other names: use its first supervisor
            admin = _actor(store, demo_store.first_supervisor(store)["username"])
        clerk = auth.create_operator(
            store,
            username=DEMO_CLERK[0],
            display_name=DEMO_CLERK[1],
            password=DEMO_CLERK[2],
            role="clerk",
            by=admin,
        )
    if store.path is not None and _is_demo_service_point(store):
        write_demo_policies(store.path.parent)
    if demo_store.has_persons(store):
        return clerk
    villages = {v["name"]: v["id"] for v in setup.villages(store)}
    for name in DEMO_SERVICE_POINT.villages:
        if name not in villages and admin is not None:
            villages[name] = setup.add_village(store, name, by=admin)
    seq = 0
    for village, address, members in _HOUSEHOLDS:
        rows = []
        for name, relation, sex, birth, extras in members:
            seq += 1
            rows.append(
                {
                    "name": name,
                    "relation": relation,
                    "cert_no": make_id(DEMO_REGION, birth, seq, sex),
                    "sex": sex,
                    "birth_date": birth,
                    **extras,
                }
            )
        registration.create_household(
            store,
            clerk,
            {
                "village_id": villages.get(village) or next(iter(villages.values())),
                "address": address,
            },
            rows,
        )
    # a newborn without an ID card yet (出生医学证明), added to the 周 household
    zhou = demo_store.person_named(store, "周涛")
    newborn_birth = (dt.date.today() - dt.timedelta(days=20)).isoformat()
    registration.add_person(
        store,
        clerk,
        zhou["household_id"],
        {
            "name": "周小宝",
            "relation": "son",
            "cert_type": "birth_cert",
            "cert_no": "O140123456",
            "sex": "male",
            "birth_date": newborn_birth,
            "insured_category": "newborn",
        },
    )
    for seeder in DEMO_SEEDERS:
        seeder(store, clerk)
    return clerk


# Area seeders (one import and append per area).
from desktop.services.contribution import seed_demo_payments  # noqa: E402

DEMO_SEEDERS.append(seed_demo_payments)
