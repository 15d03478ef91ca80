"""``township-desk check-id NUMBER``: check a 公民身份号码 and print what it says."""

from __future__ import annotations

# Service imports are inside the commands: ``township-desk`` imports every command module
# at start, and the areas' services load heavy libraries (reportlab, httpx, pypinyin,
# argon2); only the command that runs pays for its own.
import argparse
import json

from core.categories import SEXES
from core.ids import check_id


def register(sub) -> None:
    p = sub.add_parser(
        "check-id",
        help="校验身份证号并显示出生日期、性别、地区",
        description="校验18位公民身份号码（GB 11643-1999）：长度、出生日期、行政区划、校验码。"
        "有效时显示解析结果，无效时显示原因并以退出码1结束。",
    )
    p.add_argument("number", help="18位身份证号（小写x可接受）")
    p.add_argument("--json", action="store_true", help="以JSON输出")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    chk = check_id(args.number)
    if args.json:
        print(json.dumps(chk.as_dict(), ensure_ascii=False))
        return 0 if chk.valid else 1
    if not chk.valid:
        print(f"无效：{chk.message}")
        print(f"reason: {chk.reason}")
        return 1
    print(f"有效：{chk.normalized}")
    print(f"出生日期：{chk.birth_date.isoformat()}")
    print(f"性别：{SEXES[chk.sex]}（{chk.sex}）")
    print(f"地区：{chk.region} {chk.region_name or ''}".rstrip())
    return 0
