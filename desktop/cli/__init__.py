"""``township-desk``: with no command it starts the GUI; commands serve technicians,
scheduled tasks and scripts. Each area registers its commands in its own module."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from core.errors import CodedError
from desktop import __version__, paths

# Modules that add commands: each defines register(subparsers); a command's handler is
# set with parser.set_defaults(func=handler) and returns the exit code.
COMMAND_MODULES = [
    "desktop.cli.ids",
    "desktop.cli.audit",
    "desktop.cli.estimate",
    "desktop.cli.contribution",
    "desktop.cli.receipt",
    "desktop.cli.sync",
    "desktop.cli.ops",
    "desktop.cli.operators",
    "desktop.cli.household",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="township-desk",
        description="乡镇医保服务窗口 — 城乡居民基本医疗保险 参保登记、缴费查询、报销测算、打印、同步",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help=f"数据目录（默认 {paths.default_data_dir()}）"
    )
    parser.add_argument(
        "--demo", action="store_true", help="使用演示服务点和演示居民（空库时自动创建）"
    )
    parser.add_argument(
        "--screenshots", type=Path, metavar="DIR", help="把每个页面截图保存为 PNG 后退出"
    )
    parser.add_argument(
        "--documents", type=Path, metavar="DIR", help="用演示数据生成每种单据的 PDF 后退出"
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="自检：在临时目录建库、渲染每个页面、生成收据PDF后退出",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def data_dir_of(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else paths.default_data_dir()


def open_store_for(args: argparse.Namespace):
    from desktop.store import open_store  # deferred: only the command that runs loads its area

    return open_store(data_dir_of(args))


def demo_actor(store):
    from desktop.services.demo import (
        seed_demo,
    )  # deferred: only the command that runs loads its area

    return seed_demo(store)


def _store_sound(data_dir: Path, *, gui: bool) -> bool:
    """Start-up integrity check (desktop.services.backup); when the store is damaged the GUI
    offers to restore the last good backup, headless modes say so and stop."""
    from desktop.services.backup import (
        startup_check,
    )  # deferred: only the command that runs loads its area

    check = startup_check(data_dir)
    if check.ok:
        return True
    if not gui:
        print(f"{check.message}\n（代码 {check.code}）", file=sys.stderr)
        return False
    from desktop.gui.app import (
        create_qapplication,
    )  # deferred: only the command that runs loads its area
    from desktop.gui.operations import (
        startup_gate,
    )  # deferred: only the command that runs loads its area

    create_qapplication()
    return startup_gate(data_dir)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from desktop.logging_setup import (
        setup_logging,
    )  # deferred: only the command that runs loads its area

    setup_logging(args.data_dir)
    if args.self_test:
        from desktop.selftest import (
            run_self_test,
        )  # deferred: only the command that runs loads its area

        return run_self_test()
    if getattr(args, "func", None) is not None:
        try:
            return int(args.func(args) or 0)
        except CodedError as exc:  # its own Chinese message and code; the details in the log
            from desktop.errors import report_error  # deferred: only when a command fails

            print(report_error(exc, f"command {args.command}")[1], file=sys.stderr)
            return 1

    data_dir = data_dir_of(args)
    gui = not (args.screenshots or args.documents)
    one = None
    if gui:
        # The window system first: if Qt cannot start here (a missing library), it stops
        # before the data folder is touched, so no half-made store is left behind.
        from desktop.gui.app import create_qapplication
        from desktop.gui.one_window import (
            OneWindow,
            bring_to_front,
            tell_already_open,
        )  # deferred: only the window needs it

        create_qapplication()
        one = OneWindow(data_dir)
        if not one.claim():  # a window is open on this folder already: it comes forward
            if not one.wake_other():
                tell_already_open()
            return 0
        one.asked.connect(bring_to_front)
    if not _store_sound(data_dir, gui=gui):
        return 3
    store = open_store_for(args)
    if args.screenshots or args.documents:
        actor = demo_actor(store)
        if args.documents:
            from desktop.services.receipts import (
                write_demo_documents,
            )  # deferred: only the command that runs loads its area

            for p in write_demo_documents(store, actor, args.documents):
                print(p)
        if args.screenshots:
            from desktop.gui.app import (
                save_screenshots,
            )  # deferred: only the command that runs loads its area

            for p in save_screenshots(store, actor, data_dir, args.screenshots):
                print(p)
        return 0
    if args.demo:
        demo_actor(store)
    from desktop.gui.app import run_gui  # deferred: only the command that runs loads its area

    try:
        return run_gui(store, data_dir, demo=args.demo, one_window=one)
    finally:
        if one is not None:  # (run_gui lets it go; so does a failed start)
            one.release()


if __name__ == "__main__":
    sys.exit(main())
