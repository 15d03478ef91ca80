"""A generated county for the console's tests and benchmark: service points, villages,
households, residents, enrollments and payments for two years, written straight into the
county's tables. Returns what it wrote, so reports can be checked against the truth."""

from __future__ import annotations

import json
import random
from collections import Counter

import psycopg


def generate(
    conn: psycopg.Connection,
    *,
    points: int,
    residents: int,
    year: int,
    seed: int = 5,
    region: str = "140121",
) -> dict:
    """``region``: the county (区划) of every row; a second county's ids, codes and ID
    numbers carry its code, so counties generated side by side never collide (their
    service points keep the same names, as 城关镇卫生院 is in every county)."""
    rnd = random.Random(seed)
    tag = "gen" if region == "140121" else f"gen{region}"
    code = "G" if region == "140121" else f"G{region}-"
    cert = "G" if region == "140121" else f"G{region}"
    truth: dict = {
        "registered": Counter(),
        "paid": Counter(),
        "subsidized": Counter(),
        "last_registered": Counter(),
        "last_covered": Counter(),
    }
    sps = []
    for i in range(points):
        sp_id = f"{tag}-sp-{i:04d}"
        conn.execute(
            "INSERT INTO service_point(id, code, name, region_code) VALUES (%s, %s, %s, %s)",
            (sp_id, f"{code}{i:04d}", f"第{i + 1}乡卫生院", region),
        )
        sps.append((sp_id, f"第{i + 1}乡卫生院", [f"{i + 1}乡{v}村" for v in "东西南北中"]))
    people, households, links, enrollments, payments = [], [], [], [], []
    for n in range(residents):
        sp_id, sp_name, villages = sps[n % points]
        village = villages[rnd.randrange(len(villages))]
        hid, pid = f"{tag}-h-{n}", f"{tag}-p-{n}"
        households.append((hid, sp_id, json.dumps({"village_name": village})))
        people.append(
            (pid, f"{cert}{n:0{18 - len(cert)}d}", sp_id, json.dumps({"name": "居民", "status": 1}))
        )
        links.append((pid, sp_id, hid))
        key = (sp_name, village)
        truth["registered"][key] += 1
        for y, share in ((year, 0.85), (year - 1, 0.7)):
            draw = rnd.random()
            if draw >= share:
                continue  # not enrolled that year
            subsidized = draw < 0.1
            eid = f"{tag}-e-{y}-{n}"
            data = {"subsidy_category": "full" if subsidized else "none"}
            enrollments.append((eid, pid, y, sp_id, json.dumps(data)))
            if not subsidized:
                payments.append(
                    (
                        f"{tag}-pay-{y}-{n}",
                        eid,
                        sp_id,
                        400,
                        json.dumps(
                            {
                                "paid_on": f"{y - 1}-10-{1 + n % 28:02d}",
                                "channel": "cash" if n % 3 else "qr",
                                "status": "local",
                            }
                        ),
                    )
                )
            if y == year:
                truth["subsidized" if subsidized else "paid"][key] += 1
            else:
                truth["last_covered"][key] += 1
    _insert(conn, households, people, links, enrollments, payments, region)
    conn.execute("ANALYZE")
    return truth


def _insert(conn, households, people, links, enrollments, payments, region: str) -> None:
    """The generated rows, one multi-row insert per table (every row in county ``region``)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO household(id, home_sp_id, data) VALUES (%s, %s, %s)", households
        )
        cur.executemany(
            "INSERT INTO person(id, cert_type, cert_no, home_sp_id, data, region)"
            " VALUES (%s, '01', %s, %s, %s, %s)",
            [(*p, region) for p in people],
        )
        cur.executemany(
            "INSERT INTO person_link(person_id, sp_id, household_id) VALUES (%s, %s, %s)", links
        )
        cur.executemany(
            "INSERT INTO enrollment(id, person_id, year, sp_id, data, region)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [(*e, region) for e in enrollments],
        )
        cur.executemany(
            "INSERT INTO payment(id, enrollment_id, sp_id, amount, data, region)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            [(*p, region) for p in payments],
        )
