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
        description="重新计算审计日志的哈希链。完好时退出码0；发现篡改或缺失时列出序号，退出码2。",
    )
    v.set_defaults(func=verify)


def verify(args: argparse.Namespace) -> int:
    from desktop.cli import data_dir_of  # deferred: only the command that runs loads its area
    from desktop.store import open_store  # deferred: only the command that runs loads its area
    from desktop.store.db import DB_FILENAME  # deferred: only the command that runs loads its area
    from desktop.store.journal import (
        audit_count,
        verify_audit,
    )  # deferred: only the command that runs loads its area

    folder = data_dir_of(args)
    if not (folder / DB_FILENAME).exists():
        print(f"找不到数据库：{folder / DB_FILENAME}")
        return 1
    store = open_store(folder)
    try:
        n = audit_count(store)
        problems = verify_audit(store.db)
    finally:
        store.close()
    if not problems:
        print(f"审计日志完好：共 {n} 条，哈希链校验通过。")
        return 0
    print(f"审计日志校验失败：发现 {len(problems)} 处问题（共 {n} 条）")
    for p in problems:
        print(f"  seq {p.seq}: {p.problem}")
    return 2
