"""``township-county``: the county server and its admin commands.

  township-county migrate
  township-county serve [--bind HOST:PORT] [--workers N | --reuse-port]
  township-county service-point create --code SP01 --name 示范乡卫生院 --region 140121
  township-county device-code issue --service-point SP01 [--hours 72]
  township-county device list [--service-point SP01] [--json]
  township-county device disable --device ID --reason lost|retired
  township-county device recovery-code --device ID [--hours 24]
  township-county staff create --username U --name 姓名 --role admin|clerk|viewer [--county 区划]
  township-county staff county --username U --county 区划|all
  township-county staff list
  township-county import-roster FILE.csv|FILE.xlsx
  township-county import-payments FILE.csv|FILE.xlsx
  township-county import-ytd FILE.csv|FILE.xlsx
  township-county receipt verify CODE [--json]
  township-county receipt show-key --service-point SP01
  township-county publish-policy FILE.toml [--service-points SP01,SP02]
  township-county conflicts list [--all] [--json]
  township-county conflicts resolve ID --decision D [--winner ENROLLMENT_ID] [--note TEXT]

Settings come from the environment or --settings FILE (see county/settings.py)."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from county import admin, places, receipt_keys, sealing, updates, ytd
from county.conflicts import KIND_LABELS
from county.db import migrate
from county.model import china_minute
from county.settings import SettingsError, load_settings
from county.tables import run_import


def _connect(args) -> psycopg.Connection:
    s = load_settings(args.settings)
    sealing.configure(s.sealing_secret)
    conn = psycopg.connect(s.direct_url, row_factory=dict_row)
    migrate(conn)
    with conn.transaction():
        receipt_keys.seal_plain_keys(conn)
    return conn


def _print(obj, as_json: bool = False) -> None:
    if as_json or not isinstance(obj, str):
        print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))
    else:
        print(obj)


def cmd_migrate(args) -> int:
    s = load_settings(args.settings)
    with psycopg.connect(s.direct_url) as conn:
        done = migrate(conn)
    print("已是最新结构" if not done else "已应用迁移：" + ", ".join(done))
    return 0


def cmd_serve(args) -> int:
    import uvicorn  # deferred: only `serve` needs the web server

    from county.app import create_app, prepare_database  # deferred: only `serve` needs it

    s = load_settings(args.settings)
    if args.bind:
        host, _, port = args.bind.rpartition(":")
        s = s.with_(host=host or "0.0.0.0", port=int(port))
    if args.workers:
        s = s.with_(workers=args.workers)
    tls = {}
    if s.tls_cert_file:
        tls = {"ssl_certfile": s.tls_cert_file, "ssl_keyfile": s.tls_key_file}
    elif s.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            "注意：没有设置证书（tls_cert_file / tls_key_file），服务以明文 HTTP 运行。"
            "各乡镇电脑只接受 https 地址：请设置证书，或放在 nginx 之后（见 README）。",
            file=sys.stderr,
        )
    if args.reuse_port and not hasattr(socket, "SO_REUSEPORT"):
        print("这台机器的系统不支持 --reuse-port（需要 Linux）：请改用 --workers", file=sys.stderr)
        return 2
    if args.reuse_port and s.workers != 1:
        print(
            "--reuse-port 的每个实例只有一个工作进程：请从命令行和设置文件去掉 workers，"
            "改为多启动几个实例（township-county@1、@2 …，见 README）",
            file=sys.stderr,
        )
        return 2
    prepare_database(s)  # before this server (or any of its workers) serves
    run = {"host": s.host, "port": s.port, "log_level": args.log_level, "proxy_headers": True}
    if args.reuse_port:
        # one of several independent servers on the same port (systemd: township-county@N):
        # each listens on a socket of its own and the kernel spreads new connections evenly
        # over them (SO_REUSEPORT), where workers sharing one socket take them unevenly
        sock = socket.create_server(
            (s.host, s.port),
            family=socket.AF_INET6 if ":" in s.host else socket.AF_INET,
            backlog=2048,
            reuse_port=True,
        )
        config = uvicorn.Config(create_app(s, migrate=False), **run, **tls)
        uvicorn.Server(config).run(sockets=[sock])
        return 0
    if s.workers == 1:
        uvicorn.run(create_app(s, migrate=False), **run, **tls)
        return 0
    # each worker builds its app from the environment: hand it what the command line said
    os.environ["TOWNSHIP_COUNTY_BIND"] = f"{s.host}:{s.port}"
    if args.settings:
        os.environ["TOWNSHIP_COUNTY_SETTINGS"] = str(Path(args.settings).resolve())
    uvicorn.run("county.app:from_environment", factory=True, workers=s.workers, **run, **tls)
    return 0


def cmd_sp_create(args) -> int:
    with _connect(args) as conn, conn.transaction():
        r = admin.create_service_point(conn, args.code, args.name, args.region)
    print(f"已创建服务点 {r['code']} {r['name']}（编号 {r['id']}）")
    return 0


def cmd_code_issue(args) -> int:
    with _connect(args) as conn, conn.transaction():
        r = admin.issue_device_code(conn, args.service_point, args.hours, args.note)
    print(
        f"设备注册码：{r['code']}（服务点 {r['service_point']}，{china_minute(r['expires_at'])} 前有效，只能使用一次）"
    )
    return 0


def _import(args, fn) -> int:
    rows = admin.read_table(args.file)
    with _connect(args) as conn:
        rep = run_import(conn, rows, fn, dry_run=args.dry_run)
    if args.json:
        _print(rep.as_dict(), True)
    else:
        print(rep.summary())
        for row, msg in rep.errors:
            print(f"  第{row}行：{msg}")
        for row, msg in rep.notes:
            print(f"  第{row}行（已导入）：{msg}")
    return 1 if rep.errors else 0


def cmd_publish(args) -> int:
    with _connect(args) as conn, conn.transaction():
        points = args.service_points.split(",") if args.service_points else None
        r = admin.publish_policy(conn, args.file, points)
    where = f"到服务点 {args.service_points}" if args.service_points else "到所有设备"
    print(
        f"已发布政策 {r['id']} 第{r['version']}版{where}"
        if r["changed"]
        else f"政策 {r['id']} 未变化（第{r['version']}版），未重复发布"
    )
    return 0


def cmd_receipt_verify(args) -> int:
    with _connect(args) as conn:
        r = receipt_keys.verify(conn, args.code)
    if args.json:
        _print(r, True)
    else:
        print(("✓ " if r["ok"] else "✗ ") + r["message"])
    return 0 if r["ok"] else 1


def cmd_receipt_show_key(args) -> int:
    with _connect(args) as conn, conn.transaction():
        spr = admin.service_point_by_code(conn, args.service_point)
        key = receipt_keys.create_key(conn, spr["id"], spr["code"])
    print(f"密钥编号：{key['key_id']}")
    print(f"密钥：{key['key_hex']}")
    print(
        f"在该服务点电脑上：township-desk receipt set-key --key-id {key['key_id']} --user 主管用户名"
        "（按提示输入上面的密钥）"
    )
    return 0


def cmd_conflicts_list(args) -> int:
    with _connect(args) as conn:
        rows = admin.list_conflicts(conn, "all" if args.all else "open")
    if args.json:
        _print(rows, True)
        return 0
    if not rows:
        print("没有待处理的冲突")
    for r in rows:
        kind = KIND_LABELS.get(r["kind"], r["kind"]).split("（")[0]
        state = "待处理" if r["status"] == "open" else "已处理"
        when = china_minute(r["created_at"])
        print(f"{r['id']}  {when}  {kind}  {state}  {r['summary']}")
        if r["kind"] == "double_enrollment":
            d = r["detail"]
            print(f"    自动裁定保留：{d.get('winner')}（{d.get('reason')}）")
    return 0


def cmd_conflicts_resolve(args) -> int:
    with _connect(args) as conn, conn.transaction():
        r = admin.resolve_conflict(
            conn, args.id, args.decision, winner_id=args.winner, note=args.note
        )
    print(f"冲突 {r['id']} 已处理：{r['result']}")
    return 0


def cmd_device_list(args) -> int:
    with _connect(args) as conn:
        rows = places.list_devices(conn, args.service_point)
    if args.json:
        _print(rows, True)
        return 0
    if not rows:
        print("没有设备")
    for r in rows:
        seen = china_minute(r["last_seen_at"]) if r["last_seen_at"] else "从未联网"
        print(
            f"{r['id']}  {r['sp_code']} {r['sp_name']}  {r['name']}  最近联网 {seen}  {r['state']}"
        )
    return 0


def cmd_device_disable(args) -> int:
    with _connect(args) as conn, conn.transaction():
        places.disable_device(conn, args.device, args.reason)
    print(
        f"设备 {args.device} 已停用（{places.DISABLE_REASONS[args.reason]}）。"
        "它下次联网时会先上传未上传的数据，然后清除本机的参保人信息并停止使用；"
        "清除后用 township-county device list 可看到“已清除”。"
    )
    return 0


def cmd_staff_create(args) -> int:
    import getpass  # deferred: only this command asks for a password

    from county.console.auth import create_staff  # deferred: argon2 loads only here

    password = (
        sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("密码：")
    )
    with _connect(args) as conn, conn.transaction():
        r = create_staff(conn, args.username, args.name, args.role, password, args.county)
    scope = f"只管区划 {r['county']}" if r["county"] else "管全部县区"
    print(
        f"已开设控制台账号 {r['username']}（{args.role}，{scope}）。"
        "浏览器打开 https://服务器地址/console 登录。"
    )
    return 0


def cmd_staff_list(args) -> int:
    from county.console.auth import ROLES, list_staff  # deferred: argon2 loads only here

    with _connect(args) as conn:
        rows = list_staff(conn)
    if not rows:
        print("还没有控制台账号（township-county staff create 开设）")
    for r in rows:
        scope = f"区划 {r['county']}" if r["county"] else "全部县区"
        state = "已停用" if not r["active"] else "暂时锁定" if r["locked"] else "在用"
        print(f"{r['username']}  {r['display_name']}  {ROLES[r['role']]}  {scope}  {state}")
    return 0


def cmd_staff_county(args) -> int:
    from county.console.auth import set_staff_county  # deferred: argon2 loads only here

    county = None if args.county in ("", "all", "全部") else args.county
    with _connect(args) as conn, conn.transaction():
        r = set_staff_county(conn, args.username, county)
    scope = f"只管区划 {r['county']}" if r["county"] else "管全部县区"
    print(f"控制台账号 {r['username']} 现在{scope}；它已登录的会话已结束，请重新登录。")
    return 0


def cmd_device_recovery(args) -> int:
    with _connect(args) as conn, conn.transaction():
        r = places.issue_recovery_code(conn, args.device, args.hours)
    print(f"恢复码：{r['code']}（{r['hours']} 小时内有效，只能用一次）")
    print(
        "在新电脑上由主管执行：township-desk recover --server 服务器地址 --ca county-ca.pem "
        f"--code {r['code']} --backup 备份文件 --user 主管用户名"
    )
    return 0


def _codes(value: str | None) -> list[str] | None:
    return [c.strip() for c in value.split(",") if c.strip()] if value else None


def cmd_updates_import(args) -> int:
    folder = load_settings(args.settings).updates_dir
    if not folder:
        raise updates.UpdateError("未设置更新文件夹：请设置 TOWNSHIP_COUNTY_UPDATES_DIR")
    with _connect(args) as conn, conn.transaction():
        versions = updates.import_repository(conn, Path(folder), Path(args.folder))
    print(f"已导入程序版本：{'、'.join(versions)}。用 township-county updates offer 决定谁可安装。")
    return 0


def cmd_updates_offer(args) -> int:
    with _connect(args) as conn, conn.transaction():
        if args.follow:
            updates.clear_offer(conn, _codes(args.service_points) or [])
            print("这些服务点改为跟随全部服务点的安排。")
            return 0
        names = updates.set_offer(
            conn, None if args.hold else args.version, _codes(args.service_points), "cli"
        )
    what = "暂不升级（保持现有版本）" if args.hold else f"可升级到 {args.version} 版"
    print(f"{'、'.join(names)}：{what}。各电脑在下次同步时得知。")
    return 0


def cmd_updates_status(args) -> int:
    with _connect(args) as conn:
        o = updates.overview(conn)
    if args.json:
        _print(o, True)
        return 0
    print("县服务器上的版本：" + ("、".join(r["version"] for r in o["releases"]) or "无"))
    for r in o["offers"]:
        who = "全部服务点" if r["scope"] == updates.ALL else f"{r['name']}（{r['code']}）"
        print(f"  {who}：{('可升级到 ' + r['version']) if r['version'] else '暂不升级'}")
    for d in o["desks"]:
        states = sorted({updates.describe(u) for u in d["updates"] if u})
        extra = f"（{'；'.join(states)}）" if states else ""
        print(f"  {d['app_version'] or '未知版本'}：{d['n']} 台电脑{extra}")
    return 0


def _add_update_commands(sub) -> None:
    up = sub.add_parser("updates", help="程序更新").add_subparsers(dest="sub", required=True)
    ui = up.add_parser(
        "import", help="导入项目发布的签名更新包（发布文件夹：metadata/ 与 targets/）"
    )
    ui.add_argument("folder")
    ui.set_defaults(fn=cmd_updates_import)
    uo = up.add_parser("offer", help="决定服务点可安装的版本：全部、先试点、或暂不升级")
    how = uo.add_mutually_exclusive_group(required=True)
    how.add_argument("--version", help="可安装的版本，例如 0.2.0")
    how.add_argument("--hold", action="store_true", help="暂不升级")
    how.add_argument("--follow", action="store_true", help="取消这些服务点的单独安排")
    uo.add_argument(
        "--service-points", metavar="编码,编码", help="只对这些服务点（试点）；不填则全部"
    )
    uo.set_defaults(fn=cmd_updates_offer)
    us = up.add_parser("status", help="版本、安排和各版本的电脑台数")
    us.add_argument("--json", action="store_true")
    us.set_defaults(fn=cmd_updates_status)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="township-county", description="县级医保同步服务与管理命令")
    p.add_argument("--settings", help="设置文件（TOML）；默认读环境变量")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="创建或升级数据库结构").set_defaults(fn=cmd_migrate)
    s = sub.add_parser("serve", help="启动同步服务")
    s.add_argument("--bind", help="监听地址 主机:端口")
    s.add_argument("--log-level", default="info")
    s.add_argument(
        "--workers",
        type=int,
        help="工作进程数（默认1；省级部署请改用 --reuse-port，每个处理器核心一个实例，见 README）",
    )
    s.add_argument(
        "--reuse-port",
        action="store_true",
        help="与同一端口上的其他实例并列服务（每个实例一个进程，由 systemd 分别启动，见 README）",
    )
    s.set_defaults(fn=cmd_serve)
    spc = sub.add_parser("service-point", help="服务点").add_subparsers(dest="sub", required=True)
    c = spc.add_parser("create", help="创建服务点")
    c.add_argument("--code", required=True)
    c.add_argument("--name", required=True)
    c.add_argument("--region", required=True, help="6位医保区划代码")
    c.set_defaults(fn=cmd_sp_create)
    dc = sub.add_parser("device-code", help="设备注册码").add_subparsers(dest="sub", required=True)
    i = dc.add_parser("issue", help="签发一次性注册码")
    i.add_argument("--service-point", required=True, help="服务点编码")
    i.add_argument("--hours", type=int, default=72)
    i.add_argument("--note", default="")
    i.set_defaults(fn=cmd_code_issue)
    dv = sub.add_parser("device", help="设备（乡镇电脑）").add_subparsers(dest="sub", required=True)
    dl = dv.add_parser("list", help="列出设备及状态")
    dl.add_argument("--service-point", default=None, help="只列这个服务点的设备")
    dl.add_argument("--json", action="store_true")
    dl.set_defaults(fn=cmd_device_list)
    dd = dv.add_parser("disable", help="停用设备（报失或换下）：下次联网时上传后清除本机数据")
    dd.add_argument("--device", required=True, help="设备号（device list 可查）")
    dd.add_argument("--reason", required=True, choices=sorted(places.DISABLE_REASONS))
    dd.set_defaults(fn=cmd_device_disable)
    dr = dv.add_parser(
        "recovery-code", help="为换新电脑签发一次性恢复码（交出该设备托管的数据钥匙）"
    )
    dr.add_argument("--device", required=True, help="旧电脑的设备号")
    dr.add_argument("--hours", type=int, default=24)
    dr.set_defaults(fn=cmd_device_recovery)
    st = sub.add_parser("staff", help="控制台账号").add_subparsers(dest="sub", required=True)
    sc = st.add_parser("create", help="开设控制台账号（第一个管理员在这里开设）")
    sc.add_argument("--username", required=True)
    sc.add_argument("--name", required=True, help="姓名")
    sc.add_argument("--role", required=True, choices=["admin", "clerk", "viewer"])
    sc.add_argument("--password-stdin", action="store_true", help="从标准输入第一行读取密码")
    sc.add_argument(
        "--county", default="", help="只管这个县区（6位医保区划代码）；不填：管全部县区"
    )
    sc.set_defaults(fn=cmd_staff_create)
    st.add_parser("list", help="列出控制台账号（角色、管的县区）").set_defaults(fn=cmd_staff_list)
    so = st.add_parser("county", help="改控制台账号管的县区")
    so.add_argument("--username", required=True)
    so.add_argument("--county", required=True, help="6位医保区划代码；all：管全部县区")
    so.set_defaults(fn=cmd_staff_county)
    _records_parsers(sub)
    return p


def _records_parsers(sub) -> None:
    """Imports, receipts, policies and conflicts."""
    for name, fn, helptext in (
        ("import-roster", admin.import_roster, "导入县花名册（CSV/Excel）"),
        ("import-payments", admin.import_payments, "导入税务缴费确认（CSV/Excel）"),
        ("import-ytd", ytd.import_ytd, "导入参保人本年累计报销数（CSV/Excel）"),
    ):
        ip = sub.add_parser(name, help=helptext)
        ip.add_argument("file")
        ip.add_argument("--json", action="store_true")
        ip.add_argument("--dry-run", action="store_true", help="只试算：报告会怎样，不写入")
        ip.set_defaults(fn=lambda a, _fn=fn: _import(a, _fn))
    rc = sub.add_parser("receipt", help="收据").add_subparsers(dest="sub", required=True)
    rv = rc.add_parser("verify", help="核验收据校验码（用开具服务点的密钥）")
    rv.add_argument("code", help="收据上的校验码（TDR1|…）")
    rv.add_argument("--json", action="store_true")
    rv.set_defaults(fn=cmd_receipt_verify)
    rk = rc.add_parser("show-key", help="显示服务点的收据密钥（给注册早于本功能的设备手工设置）")
    rk.add_argument("--service-point", required=True, help="服务点编码")
    rk.set_defaults(fn=cmd_receipt_show_key)
    pp = sub.add_parser("publish-policy", help="发布政策文件到所有设备（或选定的服务点）")
    pp.add_argument("file")
    pp.add_argument(
        "--service-points", metavar="编码,编码", help="只发布到这些服务点（试点）；不填则全部"
    )
    pp.set_defaults(fn=cmd_publish)
    cf = sub.add_parser("conflicts", help="冲突").add_subparsers(dest="sub", required=True)
    cl = cf.add_parser("list", help="列出冲突")
    cl.add_argument("--all", action="store_true")
    cl.add_argument("--json", action="store_true")
    cl.set_defaults(fn=cmd_conflicts_list)
    cr = cf.add_parser("resolve", help="处理冲突")
    cr.add_argument("id")
    cr.add_argument(
        "--decision",
        required=True,
        help="keep|winner（重复参保）；keep_county|use_desktop；accept|reject（更正申请）；confirm（确认为同一人）",
    )
    cr.add_argument("--winner")
    cr.add_argument("--note", default="")
    cr.set_defaults(fn=cmd_conflicts_resolve)
    _add_update_commands(sub)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except (SettingsError, admin.AdminError, ValueError) as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as e:
        print(f"错误：无法连接数据库：{e}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
