"""``township-desk operators list|add|reset-password|unlock|disable|enable``: the technician's way
to manage the desk's operators (a supervisor does the same in the app, 系统 → 操作员管理).
Passwords are read from the terminal (never from the command line, which shells log);
``--password-stdin`` reads one line from standard input for scripts. Every change is audited
as made at the command line."""

from __future__ import annotations

import argparse
import getpass
import sys

from core.errors import ValidationError
from desktop.services import auth


def register(sub) -> None:
    p = sub.add_parser("operators", help="操作员管理", description="操作员管理（技术人员用）")
    osub = p.add_subparsers(dest="operators_command", metavar="ACTION", required=True)
    osub.add_parser("list", help="列出操作员").set_defaults(func=list_cmd)
    a = osub.add_parser("add", help="添加操作员")
    a.add_argument("username", help="用户名（字母、数字）")
    a.add_argument("display_name", help="姓名")
    a.add_argument("--role", choices=sorted(auth.ROLES), default="clerk", help="角色（默认经办员）")
    a.add_argument("--password-stdin", action="store_true", help="从标准输入读一行作为密码")
    a.set_defaults(func=add_cmd)
    r = osub.add_parser("reset-password", help="重设密码")
    r.add_argument("username")
    r.add_argument("--password-stdin", action="store_true", help="从标准输入读一行作为密码")
    r.set_defaults(func=reset_cmd)
    u = osub.add_parser("unlock", help="解锁因密码错误次数过多而锁定的操作员")
    u.add_argument("username")
    u.set_defaults(func=unlock_cmd)
    for name, active, text in (("disable", False, "停用操作员"), ("enable", True, "启用操作员")):
        d = osub.add_parser(name, help=text)
        d.add_argument("username")
        d.set_defaults(func=active_cmd, active=active)


def _store(args):
    from desktop.cli import open_store_for  # deferred: only the command that runs loads its area

    return open_store_for(args)


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("新密码：")
    if getpass.getpass("再输入一次：") != first:
        raise ValidationError({"password": "两次输入的密码不一致"})
    return first


def _fail(exc: ValidationError) -> int:
    for msg in exc.errors.values():
        print(msg, file=sys.stderr)
    return 2


def list_cmd(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        rows = auth.list_operators(store)
    finally:
        store.close()
    print(f"{'用户名':<16}{'姓名':<10}{'角色':<6}状态")
    for r in rows:
        state = ("已锁定" if r.get("locked") else "可用") if r["active"] else "已停用"
        print(f"{r['username']:<16}{r['display_name']:<10}{auth.ROLES[r['role']]:<6}{state}")
    return 0


def add_cmd(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        actor = auth.add_operator(
            store,
            username=args.username,
            display_name=args.display_name,
            password=_password(args),
            role=args.role,
            by=None,
        )
    except ValidationError as exc:
        return _fail(exc)
    finally:
        store.close()
    print(f"已添加{auth.ROLES[actor.role]}：{actor.display_name}（{actor.username}）")
    return 0


def reset_cmd(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        row = auth.find_operator(store, args.username)
        auth.reset_password(store, operator_id=row["id"], new_password=_password(args), by=None)
    except ValidationError as exc:
        return _fail(exc)
    finally:
        store.close()
    print(f"已重设 {row['display_name']}（{row['username']}）的密码")
    return 0


def unlock_cmd(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        row = auth.find_operator(store, args.username)
        auth.unlock_operator(store, operator_id=row["id"], by=None)
    except ValidationError as exc:
        return _fail(exc)
    finally:
        store.close()
    print(f"已解锁 {row['display_name']}（{row['username']}）")
    return 0


def active_cmd(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        row = auth.find_operator(store, args.username)
        auth.set_operator_active(store, operator_id=row["id"], active=args.active, by=None)
    except ValidationError as exc:
        return _fail(exc)
    finally:
        store.close()
    print(f"已{'启用' if args.active else '停用'} {row['display_name']}（{row['username']}）")
    return 0
