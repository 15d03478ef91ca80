"""Checks shared by the sync tests, and the random work at the windows of the fault tests."""

from __future__ import annotations

import datetime as dt
import random
import threading

from core import syncproto as sp
from desktop.services import contribution, registration
from desktop.services.demo import make_id
from desktop.store import syncstate as st
from desktop.sync.errors import SyncError
from desktop.sync.transport import RetryPolicy

TODAY = dt.date(2025, 3, 20)


def import_roster_of(county, n: int, *, surname: str, born: str, sex: str) -> None:
    """The county imports ``n`` residents of SP01 (born on days 1..n of month ``born``,
    e.g. "1960-01"), as a first sync then brings them down."""
    from county import admin

    rows = [
        {
            "身份证号": make_id("140121", f"{born}-{d:02d}", d, sex),
            "姓名": f"{surname}{'一二三四五六七八九十'[d % 10]}",
            "服务点编码": "SP01",
        }
        for d in range(1, n + 1)
    ]
    with county.conn() as c, c.transaction():
        assert not admin.import_roster(c, rows).errors


def county_checksum(county, sp_id: str) -> tuple[int, str]:
    """The same checksum as st.mirror_checksum, over the latest change of every row on the
    streams this service point receives."""
    import hashlib

    from desktop.store.journal import canonical_json

    rows = county.sql(
        "SELECT DISTINCT ON (entity, entity_id) entity, entity_id, version, op, data"
        " FROM change_log WHERE stream IN ('county', %s, %s)"
        " ORDER BY entity, entity_id, version DESC, seq DESC",
        (f"sp:{sp_id}", f"notices:{sp_id}"),
    )
    rows = [r for r in rows if r["op"] == "upsert"]
    rows.sort(key=lambda r: (r["entity"], r["entity_id"]))
    h = hashlib.sha256()
    for r in rows:
        h.update(
            f"{r['entity']}|{r['entity_id']}|{r['version']}|{canonical_json(r['data'] or {})}\n".encode()
        )
    return len(rows), h.hexdigest()


def county_rows(county, sp_id: str) -> dict[tuple[str, str], tuple[int, str]]:
    from desktop.store.journal import canonical_json

    rows = county.sql(
        "SELECT DISTINCT ON (entity, entity_id) entity, entity_id, version, op, data"
        " FROM change_log WHERE stream IN ('county', %s, %s)"
        " ORDER BY entity, entity_id, version DESC, seq DESC",
        (f"sp:{sp_id}", f"notices:{sp_id}"),
    )
    return {
        (r["entity"], r["entity_id"]): (r["version"], canonical_json(r["data"] or {}))
        for r in rows
        if r["op"] == "upsert"
    }


def mirror_rows(store) -> dict[tuple[str, str], tuple[int, str]]:
    return {
        (r["entity"], r["id"]): (r["version"], r["data"])
        for r in store.query("SELECT entity, id, version, data FROM server_row WHERE removed = 0")
    }


def diff_rows(county, store, sp_id: str) -> list:
    """Rows that differ between the county and a desktop's mirror (for messages)."""
    c, m = county_rows(county, sp_id), mirror_rows(store)
    return [(k, c.get(k), m.get(k)) for k in sorted(set(c) | set(m)) if c.get(k) != m.get(k)]


SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


class World:
    """Random local work at the windows."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.k = 0
        self.certs: dict[str, list[str]] = {}  # sp code → ID numbers registered there

    def new_cert(self) -> tuple[str, str, str]:
        self.k += 1
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=self.k * 11 % 25000)
        sex = self.rng.choice(["male", "female"])
        return make_id("140121", birth.isoformat(), self.k % 100, sex), birth.isoformat(), sex

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choices(GIVEN, k=self.rng.choice([1, 2]))
        )

    def register(self, desk, cert=None) -> None:
        if cert is None:
            cert, birth, sex = self.new_cert()
        else:
            from core.ids import check_id

            chk = check_id(cert)
            birth, sex = chk.birth_date.isoformat(), chk.sex
        registration.create_household(
            desk.store,
            desk.actor,
            {"village_id": desk.village(self.rng.choice(["东村", "西村"])), "address": "一组"},
            [{"name": self.name(), "sex": sex, "birth_date": birth, "cert_no": cert}],
            allow_duplicate=True,
        )
        self.certs.setdefault(desk.sp_code, []).append(cert)

    def pay(self, desk) -> bool:
        row = desk.store.query_one(
            "SELECT p.id FROM person p WHERE NOT EXISTS (SELECT 1 FROM payment y"
            " WHERE y.person_id = p.id AND y.year = 2025) AND p.subsidy_category = 'none'"
            " ORDER BY random() LIMIT 1"
        )
        if row is None:
            return False
        contribution.record_payment(
            desk.store,
            desk.actor,
            {
                "person_id": row["id"],
                "year": 2025,
                "amount": "400",
                "channel": "cash",
                "paid_on": "2024-10-10",
            },
            today=TODAY,
        )
        return True

    def edit(self, desk) -> bool:
        """A later edit of a person (a new op; the sent ones stay as they were)."""
        row = desk.store.query_one("SELECT id FROM person ORDER BY random() LIMIT 1")
        if row is None:
            return False
        phone = "139" + "".join(self.rng.choices("0123456789", k=8))
        registration.update_person(desk.store, desk.actor, row["id"], {"phone": phone})
        return True

    def void(self, desk) -> bool:
        row = desk.store.query_one(
            "SELECT id FROM payment WHERE status = 'local' ORDER BY random() LIMIT 1"
        )
        if row is None:
            return False
        contribution.void_payment(
            desk.store, desk.actor, row["id"], reason="收错金额", supervisor=desk.actor
        )
        return True

    def work(self, desk, other) -> None:
        """1-3 changes: a registration, a payment, an edit, a void, now and then the same
        person at both service points (merge, then a double enrollment when both pay)."""
        for _ in range(self.rng.randint(1, 3)):
            r = self.rng.random()
            theirs = self.certs.get(other.sp_code, [])
            mine = set(self.certs.get(desk.sp_code, []))
            dup = [c for c in theirs if c not in mine]
            if r < 0.06 and dup:
                self.register(desk, self.rng.choice(dup))
            elif r < 0.14 and self.edit(desk) or r < 0.17 and self.void(desk):
                pass
            elif r < 0.55 or not self.pay(desk):
                self.register(desk)


def quick(attempts: int) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, base_delay=0.005, max_delay=0.02)


def settle(*desks) -> None:
    """Clean syncs until nothing moves (notices for one point may come from another's push)."""
    for _ in range(3):
        for d in desks:
            d.sync(retry=quick(5))


def check_converged(county, desks) -> None:
    for d in desks:
        ops = d.store.query("SELECT op_id, status, result FROM outbox ORDER BY device_seq")
        assert all(o["status"] != "pending" for o in ops)
        assert not [o for o in ops if o["status"] == sp.ST_REJECTED], [
            o["result"] for o in ops if o["status"] == sp.ST_REJECTED
        ][:3]
        server = {
            r["op_id"]: r["result"]
            for r in county.sql(
                "SELECT op_id, result FROM applied_op WHERE device_id = %s", (d.device_id,)
            )
        }
        # exactly once: every op is on the county once (op_id is its key), no op extra,
        # and the desktop stored the county's answer for it
        assert set(server) == {o["op_id"] for o in ops}
        for o in ops:
            assert server[o["op_id"]]["status"] == o["status"]
        # the same payments and enrollments on both sides, each once
        local_pay = {r["id"] for r in d.store.query("SELECT id FROM payment")}
        county_pay = {
            r["id"] for r in county.sql("SELECT id FROM payment WHERE sp_id = %s", (d.sp_id,))
        }
        assert local_pay == county_pay
        local_enr = {r["id"] for r in d.store.query("SELECT id FROM enrollment")}
        county_enr = {
            r["id"] for r in county.sql("SELECT id FROM enrollment WHERE sp_id = %s", (d.sp_id,))
        }
        assert local_enr == county_enr
        # persons: every local person is a county person linked to this point, and back
        local_person = {r["id"] for r in d.store.query("SELECT id FROM person")}
        county_person = {
            r["person_id"]
            for r in county.sql("SELECT person_id FROM person_link WHERE sp_id = %s", (d.sp_id,))
        }
        assert local_person == county_person
        # both sides hold the same rows
        assert st.mirror_checksum(d.store) == county_checksum(county, d.sp_id), diff_rows(
            county, d.store, d.sp_id
        )[:3]
        # and the local tables show the county's version of every row
        stale = d.store.query(
            "SELECT s.entity, s.id FROM server_row s JOIN person p ON p.id = s.id"
            " WHERE s.entity = 'person' AND p.server_version IS NOT s.version"
        )
        assert stale == []


def sync_in_background(desk, rng: random.Random, retry: RetryPolicy):
    """Start one sync of ``desk`` on a thread (a random batch size); returns the thread and
    a list that receives the outcome (the sync's result or its SyncError)."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(desk.sync(retry=retry, batch_size=rng.choice([20, 50, 200])))
        except SyncError as e:
            outcome.append(e)

    t = threading.Thread(target=run)
    t.start()
    return t, outcome
