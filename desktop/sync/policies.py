"""Installing the policy files the county publishes (received in the mirror) into the data
folder, where the policy service loads them."""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path

from core import syncproto as sp
from core.policy import PolicyError, parse_policy
from desktop.store import Store, syncruns
from desktop.store import syncstate as st

_POLICY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")


def install_policies(store: Store, folder: Path) -> int:
    """Write the county's published policy files into ``folder``. Each file is checked
    with the desktop's own parser and moved into place atomically (temp file, fsync,
    rename); a file that does not parse is not installed (the shipped/previous one stays)
    and goes to the inbox. Returns the files installed."""
    installed = 0
    for row in syncruns.mirror_rows(store, sp.E_POLICY):
        data = json.loads(row["data"])
        text = data.get("toml") or ""
        pid = row["id"]
        if not _POLICY_ID.fullmatch(pid) or not text:
            continue
        target = folder / f"{pid}.toml"
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        try:
            policy = parse_policy(tomllib.loads(text), f"{pid}.toml")
            if policy.id != pid:
                raise PolicyError(f"{pid}.toml", "policy.id", f"{policy.id!r} ≠ {pid!r}")
        except (PolicyError, tomllib.TOMLDecodeError) as e:
            _refused(store, pid, row["version"], data.get("title"), e)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{pid}.incoming"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)  # the policy service never sees half a file
        installed += 1
    return installed


def _refused(store: Store, pid: str, version: int, title: str | None, e: Exception) -> None:
    with store.write() as db:
        st.add_inbox(
            db,
            id=f"policy:{pid}:{version}",
            kind="policy_error",
            severity="error",
            entity=sp.E_POLICY,
            entity_id=pid,
            title=f"县医保局下发的政策文件“{title or pid}”无法使用：{e}",
            action="本机继续使用原有政策。请联系县医保局核对并重新发布该政策文件。",
            detail={"version": version},
        )
