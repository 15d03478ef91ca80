"""``township-desk register-device`` and ``township-desk sync`` (technicians, scheduled
tasks). Exit code 0 on success, 1 when the sync failed, 2 when the PC is not registered."""

from __future__ import annotations

# Service imports are inside the commands: ``township-desk`` imports every command module
# at start, and the areas' services load heavy libraries (reportlab, httpx, pypinyin,
# argon2); only the command that runs pays for its own.
import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "register-device",
        help="把本机注册到县医保服务器（用县医保局发放的一次性注册码）",
        description="把本机注册到县医保服务器。设备凭证保存在系统凭据库（钥匙串）中。",
    )
    p.add_argument(
        "--server", required=True, help="县医保服务器地址，例如 https://ybj.example.gov.cn"
    )
    p.add_argument("--code", required=True, help="一次性注册码，例如 7KQM-X2PD-9TZR")
    p.add_argument(
        "--ca",
        default=None,
        help="县医保局的证书文件（.pem/.crt）；给出后本机只认这个证书签发的服务器",
    )
    p.set_defaults(func=cmd_register)

    s = sub.add_parser(
        "sync",
        help="同步一次：上传本机待上传的记录，下载县里的数据",
        description="同步一次并打印一行结果。失败时退出码非零（1 同步失败，2 本机未注册）。",
    )
    s.add_argument(
        "--operator", default=None, help="以此操作员用户名记录本次同步（默认：定时同步）"
    )
    s.set_defaults(func=cmd_sync)


def _actor(store, username: str | None):
    if not username:
        return None
    from desktop.services import (
        sync as sync_service,
    )  # deferred: only the command that runs loads its area

    actor = sync_service.actor_by_username(store, username)
    if actor is None:
        raise SystemExit(f"找不到操作员“{username}”")
    return actor


def cmd_register(args: argparse.Namespace) -> int:
    from desktop.cli import (
        data_dir_of,
        open_store_for,
    )  # deferred: only the command that runs loads its area
    from desktop.services import (
        sync as sync_service,
    )  # deferred: only the command that runs loads its area
    from desktop.sync.errors import SyncError  # deferred: only the command that runs loads its area

    ca_pem = None
    if args.ca:
        try:
            with open(args.ca, encoding="ascii") as f:
                ca_pem = f.read()
        except (OSError, UnicodeDecodeError):
            print(f"注册失败：读不了证书文件 {args.ca}", file=sys.stderr)
            return 1
    store = open_store_for(args)
    try:
        result = sync_service.register_device(
            store, data_dir_of(args), args.server, args.code, actor=None, ca_pem=ca_pem
        )
    except SyncError as e:
        print(f"注册失败：{e.message}（代码 {e.code}）", file=sys.stderr)
        return 1
    finally:
        store.close()
    sp = result["service_point"]
    print(
        f"注册成功：本机已注册到 {result['server_url']}，服务点 {sp['name']}（{sp['code']}），"
        f"设备号 {result['device_id']}。设备凭证已保存在系统凭据库。"
    )
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from desktop.cli import (
        data_dir_of,
        open_store_for,
    )  # deferred: only the command that runs loads its area
    from desktop.services import (
        sync as sync_service,
    )  # deferred: only the command that runs loads its area
    from desktop.sync.errors import (
        NotRegistered,
        SyncError,
    )  # deferred: only the command that runs loads its area

    store = open_store_for(args)
    try:
        summary = sync_service.run_sync(
            store, data_dir_of(args), _actor(store, args.operator), trigger="cli"
        )
    except NotRegistered as e:
        print(f"同步失败：{e.message}（代码 {e.code}）", file=sys.stderr)
        return 2
    except SyncError as e:
        pending = sync_service.status(store)["pending"]
        print(f"同步失败：{e.message}（代码 {e.code}；待上传 {pending} 条）", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(summary.line())
    return 0
