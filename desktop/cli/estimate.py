"""``township-desk estimate`` and ``township-desk policies list|show|check``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.errors import ValidationError


def register(sub) -> None:
    p = sub.add_parser(
        "estimate",
        help="报销测算：读取一个JSON输入，输出JSON结果",
        description="按政策文件测算一次报销（基本医保→大病保险→医疗救助→倾斜救助）。"
        "输入为一个JSON对象，字段同验收用例的 given（setting、price_class/facility、total、"
        "in_policy、admission_no、basic_paid_ytd …；或 layer=dabing / assistance）。",
    )
    p.add_argument(
        "--policy",
        help="政策ID，如 shanxi-2025（见 policies list）；输入为整个验收用例时可省略（取其 policy）",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--input", help="一张票据：JSON文件路径，- 表示标准输入")
    src.add_argument(
        "--year",
        metavar="FILE",
        help="全年结算：一个人一年的票据（JSON：policy、start 年初累计、bills 票据列表，"
        "每张可带 date 和 label），按日期依次结算，累计数逐张结转，输出每张结果和全年合计",
    )
    p.set_defaults(func=run_estimate)

    pp = sub.add_parser(
        "policies",
        help="政策文件：列出、查看、校验",
        description="列出随软件提供的和数据目录 policies/ 下的政策文件，查看一个政策，"
        "或校验政策文件（出错时指出文件、键和问题，退出码1）。",
    )
    psub = pp.add_subparsers(dest="policies_command", metavar="list|show|check", required=True)
    pl = psub.add_parser("list", help="列出全部政策及其是否可用")
    pl.add_argument("--json", action="store_true", help="以JSON输出")
    pl.set_defaults(func=run_list)
    ps = psub.add_parser("show", help="以JSON显示一个政策的全部参数和出处")
    ps.add_argument("policy_id")
    ps.set_defaults(func=run_show)
    pc = psub.add_parser("check", help="校验政策文件；不给文件时校验全部已安装的政策")
    pc.add_argument("files", nargs="*", type=Path)
    pc.set_defaults(func=run_check)


def _data_dir(args: argparse.Namespace) -> Path:
    from desktop.cli import data_dir_of  # deferred: only the command that runs loads its area

    return data_dir_of(args)


def _print(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=_default))


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return f"{o}"
    if isinstance(o, frozenset | set):
        return sorted(o)
    if dataclasses.is_dataclass(o):
        return dataclasses.asdict(o)
    return str(o)


def run_estimate(args: argparse.Namespace) -> int:
    from desktop.services import (
        estimate as svc,
    )  # deferred: only the command that runs loads its area

    path = args.year or args.input
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
    except OSError as e:
        print(f"无法读取输入文件：{e}", file=sys.stderr)
        return 2
    try:
        given = json.loads(text)
    except json.JSONDecodeError as e:
        print(f"输入不是有效的JSON：{e}", file=sys.stderr)
        return 2
    policy_id = args.policy
    if args.year:
        return _run_year(args, policy_id, given)
    if isinstance(given, dict) and isinstance(given.get("given"), dict):
        policy_id = policy_id or given.get("policy")  # a whole acceptance case
        given = given["given"]
    if not policy_id:
        print("请用 --policy 指定政策ID（township-desk policies list 可查看）", file=sys.stderr)
        return 2
    try:
        result = svc.run(policy_id, given, data_dir=_data_dir(args))
    except ValidationError as e:
        _print({"errors": e.errors})
        return 1
    _print(result)
    return 0


def _run_year(args: argparse.Namespace, policy_id: str | None, data: Any) -> int:
    from desktop.services import (
        estimate_year,
    )  # deferred: only the command that runs loads its area

    try:
        out = estimate_year.run_year(policy_id, data, data_dir=_data_dir(args))
    except ValidationError as e:
        _print({"errors": e.errors})
        return 1
    _print(out)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from desktop.services import policies  # deferred: only the command that runs loads its area

    rows = policies.load(_data_dir(args)).listing()
    if args.json:
        _print(rows)
    else:
        for r in rows:
            if r["usable"]:
                src = "本地" if r["origin"] == "local" else "随软件"
                print(
                    f"{r['id']:<34} {r['region']} {r['year']}  {src}  "
                    f"{','.join(r['sections'])}  {r['title']}"
                )
            else:
                print(f"{r['id']:<34} 不可用：{r['file']}: {r['error']}")
    return 0 if all(r["usable"] for r in rows) else 1


def run_show(args: argparse.Namespace) -> int:
    from desktop.services import policies  # deferred: only the command that runs loads its area

    try:
        pol = policies.get(args.policy_id, _data_dir(args))
    except policies.PolicyUnavailable as e:
        print(str(e) + (f"（{e.detail}）" if e.detail else ""), file=sys.stderr)
        return 1
    _print(dataclasses.asdict(pol))
    return 0


def run_check(args: argparse.Namespace) -> int:
    from desktop.services import policies  # deferred: only the command that runs loads its area

    if args.files:
        errors = policies.check_files(args.files)
        for f in args.files:
            if not any(e.policy_id == Path(f).stem for e in errors):
                print(f"正确：{f}")
    else:
        ps = policies.load(_data_dir(args))
        errors = ps.errors
        for pid in sorted(ps.policies):
            print(f"正确：{pid} ({ps.policies[pid].origin})")
    for e in errors:
        print(f"错误：{e.file}: {e.key}: {e.problem}")
    return 1 if errors else 0
