"""A scan of everything a desk leaves on disk after a working day — the data folder (store,
backups, logs, policies, markers), a backup exported to a USB stick, the campaign lists
exported to CSV and Excel — and of the store's settings table: no resident's ID number in
clear, and no secret (store key, receipt keys, device credential, token)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import zipfile
from pathlib import Path

import keyring
import pytest

from desktop.errors import report_error
from desktop.logging_setup import setup_logging
from desktop.services import backup, contribution, receipts, registration
from desktop.services.demo import make_id, numbered_name

pytestmark = pytest.mark.postgres

ID_RE = re.compile(rb"[0-9]{17}[0-9Xx]")


def _texts(path: Path) -> list[bytes]:
    """The bytes of a file as a reader would see them (an .xlsx is a zip of XML)."""
    raw = path.read_bytes()
    out = [raw, raw.decode("latin-1").encode("utf-16-le")]
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            out += [z.read(n) for n in z.namelist()]
    return out


def test_nothing_in_clear_outside_the_encrypted_store(desks, mem_keyring, tmp_path):
    desk = desks("SP01", "东乡卫生院")
    log_file = setup_logging(desk.data_dir)
    try:
        ids = [make_id("140121", f"1968-03-0{i + 1}", i + 1, "male") for i in range(5)]
        for i, cert in enumerate(ids):
            registration.create_household(
                desk.store,
                desk.actor,
                {"village_id": desk.village(), "address": f"{i}组"},
                [
                    {
                        "name": numbered_name("居民", i),
                        "cert_no": cert,
                        "relation": "head",
                        "phone": "13912345678",
                    }
                ],
            )
        pid = desk.store.query_one("SELECT id FROM person WHERE cert_no = ?", (ids[0],))["id"]
        contribution.record_payment(
            desk.store,
            desk.actor,
            {
                "person_id": pid,
                "year": 2025,
                "amount": "400",
                "channel": "cash",
                "paid_on": "2024-10-10",
            },
            today=dt.date(2025, 3, 20),
        )
        receipts.mac_key(desk.store)
        desk.sync()
        # an error whose text carries an ID number and a token goes to the log scrubbed
        report_error(
            ValueError(f"重复的身份证号 {ids[1]}；Bearer abcdefghijklmnop.qrstuvwxyz0123456")
        )
        logging.getLogger("desktop.test").warning("looked up %s", ids[2])
        info = backup.create_backup(desk.store, desk.data_dir, kind="manual")
        usb = tmp_path / "usb"
        usb.mkdir()
        exported = [backup.export_backup(info.path, usb)]
        result = contribution.campaign(
            desk.store, year=2026, village_id=desk.village(), today=dt.date(2025, 10, 1)
        )
        assert result["rows"]
        exported += [
            contribution.export_csv(result, usb / "名单.csv"),
            contribution.export_xlsx(result, usb / "名单.xlsx"),
        ]
        desk.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        logging.getLogger().handlers[:] = [
            h
            for h in logging.getLogger().handlers
            if getattr(h, "baseFilename", "") != str(log_file)
        ]

    secrets = [v for (service, _name), v in mem_keyring.items.items() if service == "township-desk"]
    folder_key = keyring.get_password(
        "township-desk", "store-key:" + (desk.data_dir / "desk.id").read_text().strip()
    )
    secrets.append(folder_key)
    assert len(secrets) >= 4  # store key, receipt key, device credential, token
    needles = [s.encode() for s in secrets if s] + [c.encode() for c in ids]
    needles += [p.split("|", 2)[-1].encode() for p in secrets if p and p.count("|") == 2]

    files = [p for p in desk.data_dir.rglob("*") if p.is_file()] + exported
    assert log_file in files and any(p.name.endswith("-manual.sqlite3") for p in files)
    for f in files:
        for blob in _texts(f):
            for needle in needles:
                assert needle not in blob, f"{needle[:6]!r}… in clear in {f}"
        if f.suffix in (".log", ".csv", ".toml", ".txt", ".id"):
            assert not ID_RE.search(f.read_bytes()), f
    log_text = log_file.read_text(encoding="utf-8")
    assert "1401**********" in log_text and "[隐去]" in log_text

    settings = json.dumps(desk.store.query("SELECT key, value FROM settings"), ensure_ascii=False)
    for s in secrets:
        assert s not in settings
