"""Crash safety: a process registering households in a loop is SIGKILLed at random
moments, 24 times. Afterwards the database is intact, every registration the process
reported committed is present and whole, and audit log and outbox agree with the data
(creations and edits, entry for entry; the newest update op carries the row as it is)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from desktop.store import open_store
from desktop.store.journal import verify_audit

WORKER = Path(__file__).with_name("crash_worker.py")
KILLS = 24


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_registrations_survive_sigkill(store, admin, clerk, data_dir):
    store.close()  # the children own the file now
    rnd = random.Random(20261123)
    reported: dict[str, list[str]] = {}
    edited: dict[str, int] = {}  # person id → version reported committed
    split: dict[str, str] = {}  # person id → the household it split off into
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    for k in range(KILLS):
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(data_dir), str(k)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        first = proc.stdout.readline()
        assert first == b"READY\n", (first, proc.stderr.read()[-2000:])
        # let it commit a random number of registrations, then kill it a random moment
        # later: mid-validation, mid-transaction, mid-commit or between registrations
        lines = [proc.stdout.readline() for _ in range(rnd.randint(0, 6))]
        time.sleep(rnd.uniform(0, 0.01))
        proc.send_signal(signal.SIGKILL)
        out, _err = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        text = b"".join(lines).decode() + out.decode("utf-8", "replace")
        for line in text.split("\n")[:-1]:  # complete lines only
            parts = line.split()
            if parts[0] == "UP":
                edited[parts[1]] = int(parts[2])
                continue
            if parts[0] == "SPLIT":
                split[parts[1]] = parts[2]
                continue
            assert parts[0] == "OK"
            reported[parts[1]] = parts[2:]
    elapsed = time.monotonic() - started
    assert len(reported) >= KILLS  # the loop did real work between kills

    s = open_store(data_dir)
    try:
        assert s.integrity_ok()
        households = {r["id"]: r for r in s.query("SELECT * FROM household")}
        persons = {r["id"]: r for r in s.query("SELECT * FROM person")}
        # split events committed (reported or not: a kill may fall between the commit and
        # the report): new household → the one person it took
        events = s.query("SELECT household_id, person_ids FROM person_event WHERE kind = 'split'")
        by_new = {e["household_id"]: json.loads(e["person_ids"]) for e in events}
        # every reported registration is present and whole
        for hid, pids in reported.items():
            assert hid in households, f"reported household {hid} lost"
            assert households[hid]["head_person_id"] == pids[0]
            for pid in pids:
                now = persons[pid]["household_id"]
                assert now == hid or by_new.get(now) == [pid]
        # nothing half-written: every household has its head and members, every member
        # its household
        by_household: dict[str, list[str]] = {}
        for p in persons.values():
            assert p["household_id"] in households
            by_household.setdefault(p["household_id"], []).append(p["id"])
        for hid, h in households.items():
            assert h["head_person_id"] in by_household.get(hid, [])
            if hid in reported:
                stayed = [p for p in reported[hid] if persons[p]["household_id"] == hid]
                assert sorted(by_household[hid]) == sorted(stayed)
        # audit log and outbox agree with the data, entry for entry
        for action, table in (("household.create", households), ("person.create", persons)):
            ops = [
                r["entity_id"]
                for r in s.query("SELECT entity_id FROM outbox WHERE op_type = ?", (action,))
            ]
            audit = [
                r["entity_id"]
                for r in s.query("SELECT entity_id FROM audit_log WHERE action = ?", (action,))
            ]
            assert sorted(ops) == sorted(table) == sorted(audit)
        # edits: every reported edit is there; version = 1 + its update ops = 1 + its audit
        # entries; the newest op's payload is the row as it is now
        assert edited, "no edit was reported"
        for pid, version in edited.items():
            assert persons[pid]["version"] >= version
        updates: dict[str, list[dict]] = {}
        for r in s.query(
            "SELECT entity_id, payload FROM outbox WHERE op_type = 'person.update'"
            " ORDER BY device_seq"
        ):
            updates.setdefault(r["entity_id"], []).append(json.loads(r["payload"]))
        audited: dict[str, int] = {}
        for r in s.query("SELECT entity_id FROM audit_log WHERE action = 'person.update'"):
            audited[r["entity_id"]] = audited.get(r["entity_id"], 0) + 1
        for pid, p in persons.items():
            n_up = len(updates.get(pid, []))
            assert p["version"] == 1 + n_up == 1 + audited.get(pid, 0)
            if n_up:
                assert updates[pid][-1] == p
        # household events: each one whole — the event row, the person in the new
        # household and the new household exist together or not at all
        assert split, "no household event was reported"
        for pid, new_hid in split.items():
            assert persons[pid]["household_id"] == new_hid and by_new[new_hid] == [pid]
        for new_hid, pids in by_new.items():
            assert households[new_hid]["head_person_id"] == pids[0]
            assert persons[pids[0]]["household_id"] == new_hid
        moved = {p["id"] for p in persons.values() if p["household_id"] in by_new}
        assert moved == {pids[0] for pids in by_new.values()}
        seqs = [
            r["device_seq"] for r in s.query("SELECT device_seq FROM outbox ORDER BY device_seq")
        ]
        assert seqs == list(range(1, len(seqs) + 1))
        assert verify_audit(s.db) == []
    finally:
        s.close()
    print(
        f"{KILLS} kills, {len(reported)} registrations, {len(edited)} edits,"
        f" {len(split)} household events, {elapsed:.1f} s"
    )
