"""``township-desk household preview|apply|history|refunds``: household life events from the
command line (the same service the 参保登记 page calls).

* ``household preview EVENT.json --user NAME`` — what the event would do, nothing written;
* ``household apply EVENT.json --user NAME`` — record it (exit 2 and a message per field when
  the event is refused);
* ``household history HOUSEHOLD_ID`` — the household's events, oldest first;
* ``household refunds`` — payments of a year after the person left, still to refund.

EVENT.json is ``{"kind": "move", "person_id": …, "to_household_id": …, "relation": "spouse"}``;
the kinds and their fields are in ``desktop/services/household_events.py`` (``FIELDS``) and
the README. ``-`` reads the event from standard input.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

from core.errors import ValidationError
from desktop.services import auth
from desktop.services import household_events as ev
from desktop.services.context import PermissionDenied


def register(sub) -> None:
    p = sub.add_parser(
        "household",
        help="家庭变更",
        description="家庭变更（户主变更、迁入、分户、合户、终止/恢复参保、身份证号）",
    )
    hsub = p.add_subparsers(dest="household_command", metavar="ACTION", required=True)
    for name, text, func in (
        ("preview", "预览变更的结果（不保存）", preview_cmd),
        ("apply", "办理变更", apply_cmd),
    ):
        a = hsub.add_parser(name, help=text)
        a.add_argument("event", help="事项的 JSON 文件（- 表示标准输入）")
        a.add_argument("--user", required=True, help="经办人用户名")
        a.add_argument(
            "--password-stdin", action="store_true", help="从标准输入第一行读取密码（脚本用）"
        )
        a.set_defaults(func=func)
    h = hsub.add_parser("history", help="一户的变更记录")
    h.add_argument("household_id")
    h.set_defaults(func=history_cmd)
    hsub.add_parser("refunds", help="待退费任务").set_defaults(func=refunds_cmd)


def _store(args):
    from desktop.cli import open_store_for  # deferred: only the command that runs loads its area

    return open_store_for(args)


def _read(args) -> tuple[str, dict]:
    """The password line (when --password-stdin) and the event."""
    password = sys.stdin.readline().rstrip("\r\n") if args.password_stdin else None
    if args.event == "-":
        text = sys.stdin.read()
    else:
        with open(args.event, encoding="utf-8") as f:
            text = f.read()
    try:
        event = json.loads(text)
    except ValueError:
        raise ValidationError({"event": "事项文件不是有效的 JSON"}) from None
    if not isinstance(event, dict):
        raise ValidationError({"event": "事项文件应是一个 JSON 对象"})
    return password if password is not None else getpass.getpass("密码："), event


def _run(args, write: bool) -> int:
    store = _store(args)
    try:
        password, event = _read(args)
        actor = auth.login(store, args.user, password)
        if write:
            out = ev.apply(store, actor, event)
            lines, head = out["effect"], "已办理：" + ev.KINDS[event["kind"]]
        else:
            effect = ev.preview(store, actor, event)
            lines, head = effect.lines, "预览（未保存）：" + effect.title
    except ValidationError as e:
        for field, msg in e.errors.items():
            print(f"{field}：{msg}")
        return 2
    except (PermissionDenied, auth.LoginFailed) as e:
        print(str(e))
        return 2
    finally:
        store.close()
    print(head)
    for line in lines:
        print("  " + line)
    return 0


def preview_cmd(args: argparse.Namespace) -> int:
    return _run(args, write=False)


def apply_cmd(args: argparse.Namespace) -> int:
    return _run(args, write=True)


def history_cmd(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        rows = ev.history(store, args.household_id)
    finally:
        store.close()
    if not rows:
        print("该户没有家庭变更记录")
    for r in rows:
        when = r["created_at"][:16].replace("T", " ")
        print(f"{when} {r['kind_label']}（{r['operator'] or ''}）")
        for line in r["effect"]:
            print("  " + line)
    return 0


def refunds_cmd(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        rows = ev.refund_tasks(store)
    finally:
        store.close()
    if not rows:
        print("没有待退费任务")
    for r in rows:
        print(
            f"{r['name']}（{r['cert_masked']}）{r['year']}年度 收据 {r['receipt_no']} "
            f"{r['amount']} 元 — {r['reason']}"
        )
    return 0
