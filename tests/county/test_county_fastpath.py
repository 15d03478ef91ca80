"""The set-based fast path writes exactly what the op-by-op path writes: same rows, same
changes in the same order, same results (ids and service points normalised)."""

from __future__ import annotations

import json
import uuid

from county import fastpath


def _batch(dev, make_id, person_payload, base: int):
    ids = {k: str(uuid.uuid4()) for k in ("h", "p1", "p2", "e1", "e2", "pay1", "pay2")}
    ops = [
        dev.op(
            "household.create", ids["h"], {"address": "东村", "hukou_type": "rural", "version": 1}
        ),
        dev.op(
            "person.create", ids["p1"], person_payload(make_id(seq=base), household_id=ids["h"])
        ),
        dev.op(
            "person.create",
            ids["p2"],
            person_payload(
                make_id(seq=base + 2), name="李四", household_id=ids["h"], relation="son"
            ),
        ),
        dev.op(
            "enrollment.create",
            ids["e1"],
            {"person_id": ids["p1"], "year": 2025, "status": "registered", "waiting": 0},
        ),
        dev.op("enrollment.create", ids["e2"], {"person_id": ids["p2"], "year": 2025}),
        dev.op(
            "payment.record",
            ids["pay1"],
            {
                "enrollment_id": ids["e1"],
                "amount": "400",
                "receipt_no": "R1",
                "paid_on": "2024-10-01",
                "status": "local",
            },
        ),
    ]
    later = [
        dev.op(
            "payment.record",
            ids["pay2"],
            {"enrollment_id": ids["e2"], "amount": "400.00", "receipt_no": "R2"},
        )
    ]
    return ids, ops, later


def _normalise(obj, names: dict[str, str]):
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, default=str)
    for real, label in names.items():
        text = text.replace(real, label)
    return json.loads(text)


def _dump(county, sp_id: str, ids: dict, certs: list[str], results) -> dict:
    names = (
        {v: k for k, v in ids.items()} | {sp_id: "SP"} | {c: f"C{i}" for i, c in enumerate(certs)}
    )
    rows = {}
    for t in ("household", "person", "enrollment", "payment"):
        rows[t] = county.sql(
            f"SELECT * FROM {t} WHERE id = ANY(%s) ORDER BY created_at, id",
            (list(ids.values()),),
        )
        for r in rows[t]:
            r.pop("created_at"), r.pop("updated_at"), r.pop("arrival", None)
    rows["person_link"] = county.sql(
        "SELECT * FROM person_link WHERE sp_id = %s ORDER BY person_id", (sp_id,)
    )
    rows["changes"] = county.sql(
        "SELECT seq, entity, entity_id, op, version, data FROM change_log WHERE stream = %s"
        " ORDER BY seq",
        (f"sp:{sp_id}",),
    )
    rows["results"] = results
    out = _normalise(rows, names)
    for t in ("household", "person", "enrollment", "payment"):
        out[t] = sorted(out[t], key=lambda r: r["id"])
    out["person_link"] = sorted(out["person_link"], key=lambda r: r["person_id"])
    return out


def test_fast_path_equals_slow_path(two_points, county, make_id, person_payload, monkeypatch):
    a, b = two_points
    used = []
    real = fastpath.try_bulk

    def spy(*args, **kw):
        out = real(*args, **kw)
        used.append(out is not None)
        return out

    monkeypatch.setattr(fastpath, "try_bulk", spy)
    dumps = []
    for dev, base, fast in ((a, 301, True), (b, 401, False)):
        monkeypatch.setattr(fastpath, "ENABLED", fast)
        ids, ops, later = _batch(dev, make_id, person_payload, base)
        res = dev.push_ok(ops) + dev.push_ok(later)
        assert [r["status"] for r in res] == ["applied"] * 7
        certs = [make_id(seq=base), make_id(seq=base + 2)]
        dumps.append(_dump(county, dev.sp_id, ids, certs, res))
    assert used == [True, True, False, False]
    fast_dump, slow_dump = dumps
    for k in fast_dump:
        if k != "results":
            assert fast_dump[k] == slow_dump[k], k
    strip = [{k: v for k, v in r.items() if k != "op_id"} for r in fast_dump["results"]]
    assert strip == [{k: v for k, v in r.items() if k != "op_id"} for r in slow_dump["results"]]


def test_fast_path_falls_back_on_conflicts(two_points, county, make_id, person_payload):
    """A batch with a merge or a double enrollment runs op by op (correct statuses)."""
    a, b = two_points
    cert = make_id(seq=501)
    pa, pb = str(uuid.uuid4()), str(uuid.uuid4())
    assert a.push_ok([a.op("person.create", pa, person_payload(cert))])[0]["status"] == "applied"
    res = b.push_ok(
        [
            b.op("person.create", pb, person_payload(cert)),
            b.op("enrollment.create", str(uuid.uuid4()), {"person_id": pb, "year": 2025}),
        ]
    )
    assert [r["status"] for r in res] == ["merged", "applied"]
    res = a.push_ok([a.op("enrollment.create", str(uuid.uuid4()), {"person_id": pa, "year": 2025})])
    assert res[0]["status"] == "applied"  # home point wins, B's enrollment now lost
    assert sorted(
        r["conflict_status"] for r in county.sql("SELECT conflict_status FROM enrollment")
    ) == ["lost", "won"]
