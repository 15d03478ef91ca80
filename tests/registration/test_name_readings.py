"""Issue 11 item 2: names are found by every common reading of a polyphonic character
(韩长根 by hzg, hcg and hanchanggen), existing persons are re-indexed by a migration, and a
search says whether it was by ID number (a page offers a new registration only then)."""

from __future__ import annotations

from core.names import MAX_READINGS, name_readings, other_pinyin_keys, pinyin_full
from desktop.services import registration as reg
from desktop.store import cipher, open_store
from desktop.store.db import DB_FILENAME


def _register(store, clerk, village_id, idno, name="韩长根", seq=5):
    return reg.create_household(
        store,
        clerk,
        {"village_id": village_id, "address": "东村三组"},
        [{"name": name, "cert_no": idno("1955-04-01", seq, "male")}],
    )


def test_every_common_reading_finds_the_name(store, clerk, village_id, idno):
    done = _register(store, clerk, village_id, idno)
    pid = done.person_ids[0]
    for q in ("hzg", "hcg", "hanchanggen", "hanzhanggen", "HCG", "han chang", "hanc"):
        assert pid in [r["id"] for r in reg.search_persons(store, q)], q
    assert reg.search_persons(store, "hxg") == []
    assert reg.search_persons(store, "hanxi") == []


def test_readings_are_bounded_and_the_usual_one_first():
    assert pinyin_full("韩长根") == "hanzhanggen"
    assert set(other_pinyin_keys("韩长根")) == {"hanchanggen", "hcg"}
    assert other_pinyin_keys("张三") == []  # nothing polyphonic: no extra rows
    assert name_readings("韩长根")[0] == ("han", "zhang", "gen")
    many = "重朝长乐单"
    assert len(name_readings(many)) == MAX_READINGS
    assert len(other_pinyin_keys(many)) <= 2 * MAX_READINGS


def test_renaming_and_pulled_rows_keep_the_keys(store, clerk, village_id, idno):
    pid = _register(store, clerk, village_id, idno).person_ids[0]
    reg.update_person(store, clerk, pid, {"name": "韩乐根"})
    assert reg.search_persons(store, "hcg") == []
    assert [r["id"] for r in reg.search_persons(store, "hyg")] == [pid]  # 乐 yuè
    assert [r["id"] for r in reg.search_persons(store, "hlg")] == [pid]  # 乐 lè


def test_a_pulled_person_and_its_pulled_rename_keep_the_keys(store, idno):
    """A person the county sends is indexed by every reading as it is inserted; the same
    person sent again renamed (the row already here: updated, not inserted) is indexed
    anew, and keeps when and where it was first made."""
    from core import syncproto as sp
    from desktop.store import syncstate as st

    data = {
        "id": "county-person-1",
        "name": "韩长根",
        "cert_type": "resident_id",
        "cert_no": idno("1955-04-01", 7, "male"),
        "sex": "male",
        "birth_date": "1955-04-01",
        "region_code": "140121",
        "status": 1,
    }

    def pull(version: int, name: str, now: str) -> bool:
        change = sp.Change(
            version, sp.STREAM_SERVICE_POINT, sp.E_PERSON, data["id"], "upsert", version,
            {**data, "name": name},
        )  # fmt: skip
        with store.write() as db:
            return st.apply_change(db, change, pending=False, now=now)

    def found(q: str) -> list[str]:
        return [r["id"] for r in reg.search_persons(store, q)]

    assert pull(1, "韩长根", "2026-12-01T09:00:00+08:00")
    assert found("hcg") == found("hzg") == [data["id"]]
    assert pull(2, "韩乐根", "2026-12-02T09:00:00+08:00")
    assert found("hcg") == [] and found("hyg") == found("hlg") == [data["id"]]
    row = store.query("SELECT * FROM person WHERE id = ?", (data["id"],))[0]
    assert (row["name"], row["origin"], row["server_version"]) == ("韩乐根", "county", 2)
    assert row["created_at"] == "2026-12-01T09:00:00+08:00"
    assert row["updated_at"] == "2026-12-02T09:00:00+08:00"
    assert not pull(2, "韩长根", "2026-12-03T09:00:00+08:00")  # not newer: nothing changes
    assert found("hlg") == [data["id"]]


def test_migration_reindexes_existing_persons(store, clerk, village_id, idno, data_dir):
    pid = _register(store, clerk, village_id, idno).person_ids[0]
    store.close()
    # a store from before the name keys: no key rows, migration 0071 not applied yet
    conn = cipher.open_file(data_dir / DB_FILENAME, read_only=False)
    conn.execute("DELETE FROM person_name_key")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0071_person_name_keys'")
    conn.close()
    again = open_store(data_dir)
    try:
        assert [r["id"] for r in reg.search_persons(again, "hcg")] == [pid]
    finally:
        again.close()


def test_search_says_how_it_read_the_query(store, clerk, village_id, idno):
    _register(store, clerk, village_id, idno)
    by_id = reg.search(store, idno("1955-04-01", 5, "male")[:10])
    assert by_id.kind == "cert" and by_id.by_cert_no and len(by_id.rows) == 1
    by_pinyin = reg.search(store, "wxm")
    assert by_pinyin.kind == "pinyin" and not by_pinyin.by_cert_no and by_pinyin.rows == []
    by_name = reg.search(store, "韩长")
    assert by_name.kind == "name" and not by_name.by_cert_no and len(by_name.rows) == 1
    assert reg.search(store, "  ").kind == ""


def test_a_merged_person_keeps_one_set_of_keys(store, clerk, village_id, idno):
    """The county merges two records of one person (same name): the local rows are
    re-keyed without a clash on the name keys, and the kept person is still found."""
    from desktop.store import syncstate as st

    a = _register(store, clerk, village_id, idno, seq=5).person_ids[0]
    b = _register(store, clerk, village_id, idno, seq=7).person_ids[0]
    with store.write() as db:
        assert st.rekey_person(db, b, a)
    assert [r["id"] for r in reg.search_persons(store, "hcg")] == [a]
    with store.write() as db:
        assert st.rekey_person(db, a, "county-id-1")  # kept id not here yet: row copied
    assert [r["id"] for r in reg.search_persons(store, "hanchanggen")] == ["county-id-1"]
