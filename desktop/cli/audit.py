"""``township-desk audit verify``: recompute the audit log's hash chain."""

from __future__ import annotations

# Service imports are inside the commands: ``township-desk`` imports every command module
# at start, and the areas' services load heavy libraries (reportlab, httpx, pypinyin,
# argon2); only the command that runs pays for its own.
import argparse


def register(sub) -> None:
    p = sub.add_parser("audit", help="审计日志", description="审计日志（哈希链）")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    v = asub.add_parser(
        "verify",
        help="校验审计日志是否被篡改",
        description="重新计算审计日志的哈希链（带密钥），并与县里保存的锚点核对（已注册且能联网时）。"
        "完好时退出码0；发现篡改、删除或缺失时列出序号，退出码2。",
    )
    v.add_argument("--offline", action="store_true", help="不联网：只校验本机的哈希链")
    v.set_defaults(func=verify)
    w = asub.add_parser(
        "views",
        help="查询留痕：谁查看、打印、导出了谁（主管）",
        description="列出查看参保人信息、打印单据、导出名单的记录（最新在前），可按参保人"
        "（身份证号）或操作员筛选。需主管登录。",
    )
    w.add_argument("--person", help="参保人身份证号")
    w.add_argument("--operator", help="操作员用户名")
    w.add_argument("--user", required=True, help="主管用户名")
    w.add_argument("--password-stdin", action="store_true", help="从标准输入第一行读取密码")
    w.set_defaults(func=views)


def verify(args: argparse.Namespace) -> int:
    from desktop.cli import data_dir_of  # deferred: only the command that runs loads its area
    from desktop.services import audit  # deferred: only the command that runs loads its area
    from desktop.store import open_store  # deferred: only the command that runs loads its area
    from desktop.store.db import DB_FILENAME  # deferred: only the command that runs loads its area

    folder = data_dir_of(args)
    if not (folder / DB_FILENAME).exists():
        print(f"找不到数据库：{folder / DB_FILENAME}")
        return 1
    store = open_store(folder)
    try:
        report = audit.verify(store, folder, ask_county=not args.offline)
    finally:
        store.close()
    county = (
        f"与县里保存的 {report.anchors} 个锚点核对"
        if not report.county_note
        else report.county_note
    )
    if report.ok:
        print(f"审计日志完好：共 {report.entries} 条，哈希链校验通过；{county}。")
        return 0
    print(
        f"审计日志校验失败：发现 {len(report.problems)} 处问题（共 {report.entries} 条；{county}）"
    )
    for p in report.problems:
        print(f"  seq {p.seq}: {p.problem}")
    return 2


def views(args: argparse.Namespace) -> int:
    import getpass  # deferred: only the command that runs loads its area
    import sys  # deferred: only the command that runs loads its area

    from core.errors import ValidationError  # deferred: only the command that runs loads its area
    from desktop.cli import data_dir_of  # deferred: only the command that runs loads its area
    from desktop.services import auth  # deferred: only the command that runs loads its area
    from desktop.services import views as svc  # deferred: only the command that runs loads its area
    from desktop.services.context import (
        PermissionDenied,
    )  # deferred: only the command that runs loads its area
    from desktop.store import open_store  # deferred: only the command that runs loads its area

    store = open_store(data_dir_of(args))
    try:
        pw = (
            sys.stdin.readline().rstrip("\r\n")
            if args.password_stdin
            else getpass.getpass("密码：")
        )
        try:
            actor = auth.login(store, args.user, pw)
            rows = svc.listing(store, actor, person=args.person, operator=args.operator)
        except (ValidationError, PermissionDenied, auth.LoginFailed) as e:
            print(str(e), file=sys.stderr)
            return 1
    finally:
        store.close()
    for r in rows:
        print(f"{r['at'][:19]}  {r['operator'] or '—'}  {r['label']}  {r['entity_id'] or ''}")
    print(f"共 {len(rows)} 条")
    return 0
