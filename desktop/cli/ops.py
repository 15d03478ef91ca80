"""Operations commands for the county technician and scheduled tasks:

* ``township-desk backup auto`` — today's automatic backup if not yet made (for a
  Windows scheduled task on PCs left off during the day);
* ``backup now --user NAME`` — a supervisor's backup (password asked, or one line on stdin
  with ``--password-stdin``);
* ``backup export FILE FOLDER`` — copy a backup to a USB stick;
* ``backup list`` / ``backup check`` — backups, newest first / the start-up integrity check
  and every backup verified;
* ``backup restore FILE --user NAME`` — restore (also works when the store is damaged:
  the password is then checked against the backup);
* ``settings show``;
* ``self-test`` — same as ``--self-test``.
"""

from __future__ import annotations

# Service imports are inside the commands: ``township-desk`` imports every command module
# at start, and the areas' services load heavy libraries (reportlab, httpx, pypinyin,
# argon2); only the command that runs pays for its own.
import argparse
import getpass
import sys


def register(sub) -> None:
    p = sub.add_parser("backup", help="备份与恢复", description="本机数据的备份与恢复")
    bsub = p.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    a = bsub.add_parser("auto", help="今天还没有备份时做一次自动备份（供计划任务调用）")
    a.set_defaults(func=cmd_auto)
    n = bsub.add_parser("now", help="立即备份（主管）")
    _user_args(n)
    n.set_defaults(func=cmd_now)
    ls = bsub.add_parser("list", help="列出备份（最新的在前）")
    ls.set_defaults(func=cmd_list)
    c = bsub.add_parser("check", help="检查本机数据库和每个备份是否完好；损坏时退出码2")
    c.set_defaults(func=cmd_check)
    e = bsub.add_parser("export", help="把备份复制到U盘或其他文件夹（检查后写入，不覆盖）")
    e.add_argument("file", help="备份文件")
    e.add_argument("folder", help="目标文件夹，例如 E:\\")
    e.set_defaults(func=cmd_export)
    r = bsub.add_parser("restore", help="从备份恢复（主管）；当前数据先另存，不会删除")
    r.add_argument("file", help="备份文件（backup list 列出的路径）")
    _user_args(r)
    r.set_defaults(func=cmd_restore)

    s = sub.add_parser(
        "settings", help="系统设置", description="系统设置（修改请在软件中由主管操作）"
    )
    ssub = s.add_subparsers(dest="settings_command", metavar="ACTION", required=True)
    ssub.add_parser("show", help="显示当前设置").set_defaults(func=cmd_settings_show)

    t = sub.add_parser("self-test", help="自检：建库、渲染每个页面、生成收据PDF（同 --self-test）")
    t.set_defaults(func=lambda args: _self_test())


def _self_test() -> int:
    from desktop.selftest import (
        run_self_test,
    )  # deferred: only the command that runs loads its area

    return run_self_test()


def _user_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", required=True, help="主管用户名")
    p.add_argument("--password-stdin", action="store_true", help="从标准输入读取一行作为密码")


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return getpass.getpass("主管密码：")


def _data_dir(args):
    from desktop.cli import data_dir_of  # deferred: only the command that runs loads its area

    return data_dir_of(args)


def _fail(exc: BaseException) -> int:
    from desktop.logging_setup import (
        report_error,
    )  # deferred: only the command that runs loads its area

    _code, message = report_error(exc, "backup command")
    return _say_error(message, 1)


def _say_error(message, code: int) -> int:
    """An error goes to standard error, as every other command's does (a scheduled task's
    log keeps the two apart), and the command ends with ``code``."""
    print(message, file=sys.stderr)
    return code


def _open_sound_store(args):
    from desktop.services.backup import (
        startup_check,
    )  # deferred: only the command that runs loads its area
    from desktop.store import open_store  # deferred: only the command that runs loads its area

    folder = _data_dir(args)
    check = startup_check(folder)
    if not check.ok:
        _say_error(f"{check.message}\n（代码 {check.code}）", 2)
        return None
    return open_store(folder)


def cmd_auto(args) -> int:
    from desktop.services import backup  # deferred: only the command that runs loads its area

    store = _open_sound_store(args)
    if store is None:
        return 2
    try:
        info = backup.auto_backup(store, _data_dir(args))
    except Exception as exc:
        return _fail(exc)
    finally:
        store.close()
    print(f"已备份：{info.path}" if info else "今天已经备份过，无需再备份。")
    return 0


def cmd_now(args) -> int:
    from desktop.services import auth, backup  # deferred: only the command that runs loads its area

    store = _open_sound_store(args)
    if store is None:
        return 2
    try:
        actor = auth.login(store, args.user, _password(args))
        info = backup.backup_now(store, actor, _data_dir(args))
    except auth.LoginFailed as exc:
        return _say_error(exc, 1)
    except Exception as exc:
        return _fail(exc)
    finally:
        store.close()
    print(f"已备份：{info.path}")
    return 0


def cmd_list(args) -> int:
    from desktop.services import backup  # deferred: only the command that runs loads its area

    items = backup.list_backups(_data_dir(args))
    if not items:
        print(f"没有备份（{backup.backups_dir(_data_dir(args))}）")
    for info in items:
        print(f"{info.label}\t{info.size}\t{info.path}")
    return 0


def cmd_check(args) -> int:
    from desktop.services import backup  # deferred: only the command that runs loads its area

    folder = _data_dir(args)
    check = backup.startup_check(folder)
    bad = 0
    if check.ok:
        print(f"本机数据库完好：{check.db_path}" + ("（尚未创建）" if check.new_store else ""))
    else:
        bad += 1
        print(f"{check.message}\n（代码 {check.code}）详情：{check.detail}")
    for info in backup.list_backups(folder):
        problems = backup.check_database(info.path)
        print(f"{'完好' if not problems else '损坏'}\t{info.label}\t{info.path}")
        for p in problems[:5]:
            print(f"\t{p}")
        bad += bool(problems)
    return 2 if bad else 0


def cmd_export(args) -> int:
    from desktop.services import backup  # deferred: only the command that runs loads its area

    try:
        copy = backup.export_backup(args.file, args.folder)
    except Exception as exc:
        return _fail(exc)
    print(f"已导出：{copy}")
    return 0


def cmd_restore(args) -> int:
    from pathlib import Path  # deferred: only the command that runs loads its area

    from desktop.services import (  # deferred: only the command that runs loads its area
        auth,
        backup,
        window,
    )
    from desktop.store import open_store  # deferred: only the command that runs loads its area

    folder = _data_dir(args)
    file = Path(args.file)
    if window.window_open(folder):  # its pages would go on with what they read before
        print(
            "医保服务窗口正在使用本机数据：请先退出窗口（系统 → 退出），再恢复备份。",
            file=sys.stderr,
        )
        return 1
    password = _password(args)
    try:
        if not backup.startup_check(folder).ok:
            result = backup.restore_at_startup(folder, file, username=args.user, password=password)
        else:
            store = open_store(folder)
            try:
                actor = auth.login(store, args.user, password)
                result = backup.restore_backup(store, actor, file, folder)
            finally:
                store.close()
    except auth.LoginFailed as exc:
        return _say_error(exc, 1)
    except PermissionError as exc:
        return _say_error(exc, 1)
    except Exception as exc:
        return _fail(exc)
    print(
        f"已从 {result.backup.name} 恢复；恢复前的数据另存在：{', '.join(map(str, result.set_aside))}"
    )
    return 0


def cmd_settings_show(args) -> int:
    from desktop.services.settings import (
        PAPERS,
        get_settings,
    )  # deferred: only the command that runs loads its area

    store = _open_sound_store(args)
    if store is None:
        return 2
    try:
        s = get_settings(store)
    finally:
        store.close()
    rows = [
        ("县医保服务器地址", s.county_url or "（未设置）"),
        ("默认打印机", s.printer or "（系统默认打印机）"),
        ("默认纸张", PAPERS.get(s.paper, s.paper)),
        ("服务点名称", s.sp_name),
        ("联系电话", s.sp_phone),
        ("服务点地址", s.sp_address),
        ("服务点编码/区划/设备号", f"{s.sp_code} / {s.sp_region_code} / {s.sp_device_no:02d}"),
    ]
    for k, v in rows:
        print(f"{k}：{v}")
    return 0
