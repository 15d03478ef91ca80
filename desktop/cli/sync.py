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

    r = sub.add_parser(
        "recover",
        help="换新电脑：用县医保局的恢复码和旧电脑的备份恢复数据（主管）",
        description="在新电脑上恢复旧电脑的数据：县医保局签发的一次性恢复码交出旧电脑的数据钥匙，"
        "用它打开旧电脑的加密备份；需旧电脑上主管的用户名和密码。恢复后本机接替旧电脑同步。",
    )
    r.add_argument("--server", required=True, help="县医保服务器地址")
    r.add_argument("--code", required=True, help="县医保局签发的一次性恢复码")
    r.add_argument("--backup", required=True, help="旧电脑的备份文件（如 U 盘上的 desk-….sqlite3）")
    r.add_argument("--user", required=True, help="主管用户名（按备份中的账号核对）")
    r.add_argument("--ca", default=None, help="县医保局的证书文件（.pem/.crt）")
    r.add_argument("--password-stdin", action="store_true", help="从标准输入第一行读取密码")
    r.set_defaults(func=cmd_recover)

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
    from core.errors import ValidationError  # deferred: only the command that runs loads its area
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
    except ValidationError as e:  # the address or the code cannot be right: nothing sent
        for message in e.errors.values():
            print(f"注册失败：{message}", file=sys.stderr)
        return 2
    finally:
        store.close()
    sp = result["service_point"]
    print(
        f"注册成功：本机已注册到 {result['server_url']}，服务点 {sp['name']}（{sp['code']}），"
        f"设备号 {result['device_id']}。设备凭证已保存在系统凭据库。"
    )
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    import getpass  # deferred: only the command that runs loads its area

    from core.errors import ValidationError  # deferred: only the command that runs loads it
    from desktop.cli import data_dir_of  # deferred: only the command that runs loads its area
    from desktop.services import recovery  # deferred: only the command that runs loads its area
    from desktop.services import sync as sync_service  # deferred: only this command needs it
    from desktop.store import StoreError  # deferred: only the command that runs loads its area
    from desktop.sync.errors import SyncError  # deferred: only the command that runs loads it

    password = (
        sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("主管密码：")
    )
    try:
        ca_pem = sync_service.read_ca(args.ca) if args.ca else None
        r = recovery.recover(
            data_dir_of(args),
            server_url=args.server,
            code=args.code,
            backup=args.backup,
            username=args.user,
            password=password,
            ca_pem=ca_pem,
        )
    except SyncError as e:
        print(f"恢复失败：{e.message}（代码 {e.code}）", file=sys.stderr)
        return 1
    except (StoreError, PermissionError) as e:
        print(f"恢复失败：{e}", file=sys.stderr)
        return 1
    except ValidationError as e:  # the address or the code cannot be right: nothing sent
        for message in e.errors.values():
            print(f"恢复失败：{message}", file=sys.stderr)
        return 2
    print(
        f"恢复完成：服务点 {r.service_point}，参保人 {r.persons} 人；旧电脑未上传的 {r.pending} 条记录"
        "将在下次同步时上传。旧电脑的设备凭证已失效。"
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
    from desktop.services import wipe  # deferred: only the command that runs loads its area
    from desktop.sync.errors import (
        DeviceDisabled,
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
    except DeviceDisabled as e:
        store.close()
        wipe.finish(data_dir_of(args))
        print(f"{e.message}（代码 {e.code}）", file=sys.stderr)
        return 4
    except SyncError as e:
        pending = sync_service.status(store)["pending"]
        print(f"同步失败：{e.message}（代码 {e.code}；待上传 {pending} 条）", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(summary.line())
    return 0
