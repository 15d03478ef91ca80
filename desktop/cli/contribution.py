"""``township-desk enroll-terms --policy ID --input FILE|-``: contribution terms for one
case (a JSON object shaped like the ``given`` of the acceptance ``enrollment`` cases),
printed as JSON: amount due, benefit period, waiting period, continuous years, incentive
raise, and the rule and source behind each figure."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.contribution import compute, person_year_from_case
from core.errors import ValidationError


def register(sub) -> None:
    p = sub.add_parser(
        "enroll-terms",
        help="按政策计算某人某参保年度的应缴金额、待遇期、等待期（JSON）",
        description='读取一个JSON对象（如 {"category": "ordinary", "year": 2025, '
        '"paid_on": "2025-03-15", "last_insured_year": null, "back_years_paid": 0}），'
        "按 --policy 指定的政策文件计算，输出JSON。字段：category, year, paid_on, born_on, "
        "last_insured_year, continuous_before, back_years_paid, left_employee_insurance_on, "
        "continuous_years_before, claim_free_years。",
    )
    p.add_argument("--policy", required=True, help="政策编号，如 national-2025、zaozhuang-2022")
    p.add_argument("--input", required=True, help="JSON 文件路径；- 表示从标准输入读取")
    p.set_defaults(func=run)


def _fail(message: str, **extra) -> int:
    print(json.dumps({"error": message, **extra}, ensure_ascii=False), file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from desktop.cli import data_dir_of  # deferred: only the command that runs loads its area
    from desktop.services import policies  # deferred: only the command that runs loads its area

    try:
        text = sys.stdin.read() if args.input == "-" else Path(args.input).read_text("utf-8")
    except OSError as e:
        return _fail(f"无法读取输入文件：{e}")
    try:
        given = json.loads(text)
    except json.JSONDecodeError as e:
        return _fail(f"输入不是有效的JSON：{e}")
    if isinstance(given, dict) and isinstance(given.get("given"), dict):
        given = given["given"]  # a whole acceptance case is accepted too
    try:
        policy = policies.get(args.policy, data_dir_of(args))
    except policies.PolicyUnavailable as e:
        return _fail(str(e))
    if not policy.has("contribution"):
        return _fail(f"《{policy.title}》（{policy.year}年）没有缴费标准，不能计算应缴金额")
    try:
        result = compute(policy.section("contribution"), person_year_from_case(given), policy.id)
    except ValidationError as e:
        return _fail("输入有误", errors=e.errors)
    print(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    return 0
