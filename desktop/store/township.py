"""A generated township for the home page's tests and benchmark (issue 16): villages,
households, residents in several categories (some terminated), enrollments and payments for
two 参保年度 (some voided, some confirmed by the county without a payment), written straight
into the store. Returns what it wrote, so figures can be checked against the truth."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter

from desktop.store.db import Store

NOW = "2026-11-20T10:00:00+08:00"
CATEGORIES = (("ordinary", 80), ("tekun", 6), ("dibao", 6), ("monitored", 5), ("elderly", 3))
CHANNELS = ("cash", "qr", "bank")


def generate(
    store: Store,
    *,
    residents: int,
    year: int,
    full_subsidy: frozenset[str] = frozenset({"tekun"}),
    seed: int = 11,
) -> dict:
    """Fill the store's villages with ``residents`` persons. Truth per village name:
    registered, paid, subsidized (for ``year``) and last_covered (for ``year - 1``), plus
    payments per (day, channel) of ``year``."""
    rnd = random.Random(seed)
    villages = store.query("SELECT id, name FROM village ORDER BY name")
    op = store.query_one("SELECT id FROM operator LIMIT 1")["id"]
    truth = {k: Counter() for k in ("registered", "paid", "subsidized", "last_covered")}
    truth["days"] = Counter()
    rows: dict[str, list] = {"household": [], "person": [], "enrollment": [], "payment": []}
    n = seq = 0
    start = dt.date(year - 1, 9, 1)
    while n < residents:
        v = villages[rnd.randrange(len(villages))]
        hid = str(uuid.UUID(int=rnd.getrandbits(128)))
        members = []
        for k in range(min(rnd.randint(1, 4), residents - n)):
            pid = str(uuid.UUID(int=rnd.getrandbits(128)))
            members.append(pid)
            cat = rnd.choices([c for c, _ in CATEGORIES], [w for _, w in CATEGORIES])[0]
            status = 3 if rnd.random() < 0.02 else 1
            birth = f"{rnd.randint(1940, 2020)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            rows["person"].append(
                (pid, hid, "head" if k == 0 else "son", f"居民{n}", f"jumin{n}", "jm",
                 f"140121{birth.replace('-', '')}{n % 1000:03d}X", rnd.choice(["male", "female"]),
                 birth, cat, "140121", status, NOW, NOW)
            )  # fmt: skip
            n += 1
            if status != 3:
                truth["registered"][v["name"]] += 1
            for y in (year - 1, year):
                draw = rnd.random()
                eid = str(uuid.UUID(int=rnd.getrandbits(128)))
                confirmed = NOW if draw < 0.05 else None  # county-confirmed, no payment here
                pays = 0.05 <= draw < (0.7 if y == year else 0.8)
                if confirmed or pays:
                    rows["enrollment"].append(
                        (eid, pid, y, cat, NOW, NOW, f"gen-{y}", "400.00", f"{y}-01-01",
                         f"{y}-12-31", "months", 0, 1, "0.00", confirmed)
                    )  # fmt: skip
                voided = pays and rnd.random() < 0.03
                if pays:
                    seq += 1
                    day = start + dt.timedelta(days=rnd.randrange(94)) if y == year else None
                    paid_on = day.isoformat() if day else f"{y - 1}-10-10"
                    channel = CHANNELS[rnd.randrange(3)]
                    rows["payment"].append(
                        (str(uuid.UUID(int=rnd.getrandbits(128))), pid, eid, y, f"gen-{y}",
                         "400.00", "400.00", channel, paid_on, op, f"SP01-01-{seq:08d}",
                         "voided" if voided else "local", NOW, NOW)
                    )  # fmt: skip
                    if y == year and not voided:
                        truth["days"][(paid_on, channel)] += 1
                if status == 3:
                    continue
                covered = bool(confirmed) or (pays and not voided) or cat in full_subsidy
                if y == year - 1:
                    truth["last_covered"][v["name"]] += covered
                elif confirmed or (pays and not voided):
                    truth["paid"][v["name"]] += 1
                elif cat in full_subsidy:
                    truth["subsidized"][v["name"]] += 1
        rows["household"].append((hid, v["id"], f"{v['name']}{n}号", members[0], NOW, NOW))
    _write(store, rows)
    return truth


def _write(store: Store, rows: dict[str, list]) -> None:
    with store.write() as db:
        c = db.conn
        c.executemany(
            "INSERT INTO household(id, village_id, address, head_person_id, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?)",
            rows["household"],
        )
        c.executemany(
            "INSERT INTO person(id, household_id, relation, name, name_pinyin, name_initials,"
            " cert_no, sex, birth_date, insured_category, region_code, status, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows["person"],
        )
        c.executemany(
            "INSERT INTO enrollment(id, person_id, year, insured_category, created_at, updated_at,"
            " policy_id, amount_due, benefits_from, benefits_to, waiting_unit, waiting,"
            " continuous_years, incentive_raise, county_confirmed_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows["enrollment"],
        )
        c.executemany(
            "INSERT INTO payment(id, person_id, enrollment_id, year, policy_id, amount,"
            " amount_due, channel, paid_on, operator_id, receipt_no, status, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows["payment"],
        )
        c.execute("ANALYZE")
