"""``python -m release``: the project's release commands (see README, "Releasing an update")."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from release import repo


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m release", description=repo.__doc__)
    p.add_argument("--work", type=Path, required=True, help="the release work folder")
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("init", help="make the keys and the first signed root")
    a = sub.add_parser("add", help="add a built bundle as a new version and sign")
    a.add_argument("--bundle", type=Path, required=True)
    a.add_argument("--version", required=True)
    for cmd in (i, a):
        cmd.add_argument("--offline-keys", type=Path, required=True)
    r = sub.add_parser("refresh", help="re-sign snapshot and timestamp (online keys)")
    for cmd in (i, a, r):
        cmd.add_argument("--online-keys", type=Path, required=True)
    args = p.parse_args(argv)
    try:
        if args.cmd == "init":
            root = repo.init(args.work, args.offline_keys, args.online_keys)
            print(f"root metadata: {root} (the desk build ships it: resources/updates/root.json)")
        elif args.cmd == "add":
            files = repo.add_bundle(
                args.work, args.bundle, args.version, args.offline_keys, args.online_keys
            )
            print("signed targets: " + ", ".join(files))
        else:
            repo.refresh(args.work, args.online_keys)
            print("snapshot and timestamp re-signed")
    except repo.ReleaseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
