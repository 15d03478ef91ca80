"""``township-desk receipt …``: verify a receipt's code, save a document as PDF, check the
receipt number sequence, install the county's receipt key, show a document's print log.

* ``receipt verify CODE`` — exit 0 when genuine, 1 when rejected (changed amount, number or
  date, unknown key, voided payment), 2 on bad usage;
* ``receipt pdf KIND KEY --out PATH --user NAME`` — KIND receipt|certificate|estimate|day_sheet
  (KEY: receipt no | enrollment id | estimate id | operator_id:YYYY-MM-DD); recorded as a
  saved copy;
* ``receipt certificates --year Y [--village 东村] --out PATH --user NAME`` — a village's
  certificates in one PDF (recorded as saved copies);
* ``receipt numbers`` — every number issued or skipped, explained by the audit log;
* ``receipt set-key --key-id ID --user NAME`` — the county's key (hex) on stdin;
* ``receipt history KIND KEY`` — prints, reprints, failures and saves of one document.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys

KIND_HELP = "receipt（缴费凭证）| certificate（参保凭证）| estimate（测算单）| day_sheet（日结单）"


def register(sub) -> None:
    p = sub.add_parser("receipt", help="收据与单据：校验码核验、生成PDF、收据号检查")
    rs = p.add_subparsers(dest="receipt_command", metavar="ACTION", required=True)

    v = rs.add_parser("verify", help="核验收据校验码（二维码内容）")
    v.add_argument("code", help="校验码，如 TDR1|SP01-01-00000001|400.00|2024-11-15|K1|…")
    v.add_argument("--json", action="store_true", help="以JSON输出")
    v.set_defaults(func=cmd_verify)

    d = rs.add_parser("pdf", help="生成单据PDF（记为已保存的一份）")
    d.add_argument(
        "kind", choices=["receipt", "certificate", "estimate", "day_sheet"], help=KIND_HELP
    )
    d.add_argument("key", help="收据号 | 参保记录ID | 测算ID | 经办人ID:日期")
    d.add_argument("--out", required=True, help="PDF文件或目录")
    d.add_argument("--page", choices=["A4", "A5"], default=None, help="纸张（默认按设置）")
    _user_args(d)
    d.set_defaults(func=cmd_pdf)

    b = rs.add_parser("certificates", help="一个村（或全部）某年度的参保凭证，合成一个PDF")
    b.add_argument("--year", type=int, required=True, help="参保年度")
    b.add_argument("--village", default=None, help="村（居委会）名称；不填为全部")
    b.add_argument("--out", required=True, help="PDF文件或目录")
    b.add_argument("--page", choices=["A4", "A5"], default=None, help="纸张（默认按设置）")
    _user_args(b)
    b.set_defaults(func=cmd_certificates)

    n = rs.add_parser("numbers", help="检查收据号：无重复，空号均有审计记录说明")
    n.set_defaults(func=cmd_numbers)

    k = rs.add_parser("set-key", help="设置县医保部门下发的收据校验密钥（从标准输入读取）")
    k.add_argument("--key-id", required=True, help="密钥编号")
    _user_args(k)
    k.set_defaults(func=cmd_set_key)

    h = rs.add_parser("history", help="单据的打印、补打、失败与保存记录")
    h.add_argument("kind", choices=["receipt", "certificate", "estimate", "day_sheet"])
    h.add_argument("key")
    h.set_defaults(func=cmd_history)


def _user_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", required=True, help="操作员用户名")
    p.add_argument(
        "--password-stdin", action="store_true", help="从标准输入第一行读取密码（脚本用）"
    )


def _login(store, args):
    from desktop.services import auth  # deferred: only the command that runs loads its area

    password = (
        sys.stdin.readline().rstrip("\r\n") if args.password_stdin else getpass.getpass("密码：")
    )
    return auth.login(store, args.user, password)


def _store(args):
    from desktop.cli import open_store_for  # deferred: only the command that runs loads its area

    return open_store_for(args)


def cmd_verify(args) -> int:
    from desktop.services import receipts  # deferred: only the command that runs loads its area

    store = _store(args)
    try:
        result = receipts.verify(store, args.code)
    finally:
        store.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(("✔ " if result["ok"] else "✘ ") + result["message"])
    return 0 if result["ok"] else 1


def cmd_pdf(args) -> int:
    from core.errors import ValidationError  # deferred: only the command that runs loads its area
    from desktop.services import (
        auth,
        receipts,
    )  # deferred: only the command that runs loads its area

    store = _store(args)
    try:
        actor = _login(store, args)
        prepared = receipts.prepare(store, actor, args.kind, args.key, page=args.page)
        path = receipts.save_pdf(store, actor, prepared, args.out)
    except (ValidationError, auth.LoginFailed) as e:
        print(f"未生成：{e}")
        return 1
    finally:
        store.close()
    mark = f"（补打第{prepared.copy_no - 1}次）" if prepared.copy_no > 1 else ""
    print(f"已保存：{path}{mark}")
    return 0


def cmd_certificates(args) -> int:
    from core.errors import ValidationError  # deferred: only the command that runs loads its area
    from desktop.services import (
        auth,
        receipts,
    )  # deferred: only the command that runs loads its area
    from desktop.store import places  # deferred: only the command that runs loads its area

    store = _store(args)
    try:
        actor = _login(store, args)
        village_id = None
        if args.village:
            village_id = places.village_id_named(store, args.village.strip())
            if village_id is None:
                print(f"未生成：没有名为“{args.village}”的村（居委会）")
                return 1
        rows = receipts.certificate_list(store, year=args.year, village_id=village_id)
        keys = [r["enrollment_id"] for r in rows if r["printable"]]
        if not keys:
            print(f"未生成：{args.year}年度没有可打印参保凭证的人员（未缴费的不能打印）")
            return 1
        prepared = receipts.prepare_batch(store, actor, "certificate", keys, page=args.page)
        path = receipts.save_pdf(store, actor, prepared, args.out)
    except (ValidationError, auth.LoginFailed) as e:
        print(f"未生成：{e}")
        return 1
    finally:
        store.close()
    print(f"已保存：{path}（{len(prepared.items)}份）")
    for key, why in prepared.skipped:
        print(f"跳过 {key}：{why}")
    return 0


def cmd_numbers(args) -> int:
    from desktop.store.numbering import (
        current_scope,
        explain_sequence,
    )  # deferred: only the command that runs loads its area

    store = _store(args)
    try:
        scope = current_scope(store)
        e = explain_sequence(store, scope)
    except Exception as exc:  # noqa: BLE001 - e.g. no service point yet
        print(f"无法检查：{exc}")
        return 2
    finally:
        store.close()
    print(
        f"收据号范围 {scope}：已开具 {len(e['issued'])} 个，跳号 {len(e['skipped'])} 个"
        f"（均有审计记录说明），重复 {len(e['duplicates'])} 个，无说明的空号 {len(e['unexplained'])} 个"
    )
    if e["duplicates"]:
        print("重复：", ", ".join(map(str, e["duplicates"][:50])))
    if e["unexplained"]:
        print("无说明的空号：", ", ".join(map(str, e["unexplained"][:50])))
    return 0 if not e["duplicates"] and not e["unexplained"] else 1


def cmd_set_key(args) -> int:
    from core.errors import ValidationError  # deferred: only the command that runs loads its area
    from desktop.services import (
        auth,
        receipts,
    )  # deferred: only the command that runs loads its area
    from desktop.services.context import (
        PermissionDenied,
    )  # deferred: only the command that runs loads its area

    store = _store(args)
    try:
        actor = _login(store, args)
        key = sys.stdin.readline().strip() if args.password_stdin else getpass.getpass("密钥：")
        receipts.set_mac_key(store, actor, args.key_id, key)
    except (ValidationError, auth.LoginFailed, PermissionDenied) as e:
        print(f"未设置：{e}")
        return 1
    finally:
        store.close()
    print(f"已设置收据校验密钥 {args.key_id}")
    return 0


def cmd_history(args) -> int:
    from desktop.services import receipts  # deferred: only the command that runs loads its area

    store = _store(args)
    try:
        key = args.key.upper() if args.kind == "receipt" else args.key
        rows = receipts.print_history(store, args.kind, key)
    finally:
        store.close()
    labels = {"printed": "已打印", "failed": "打印失败", "saved": "已保存PDF"}
    if not rows:
        print("没有打印记录")
    for r in rows:
        copy = "原件" if r["copy_no"] == 1 else f"补打第{r['copy_no'] - 1}次"
        extra = f" 打印机 {r['printer']}" if r["printer"] else ""
        err = f" 原因：{r['error']}" if r["error"] else ""
        print(f"{r['at']}  {labels[r['status']]}  {copy}  {r['operator'] or ''}{extra}{err}")
    return 0
