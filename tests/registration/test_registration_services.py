"""Registration services: one transaction per change with audit and outbox, duplicates,
derived sex/birth date, other certificates, edits with history, search."""

from __future__ import annotations

import json

import pytest

from core.errors import ValidationError
from desktop.services import registration as reg
from desktop.store.journal import verify_audit


def _household(store, clerk, village_id, idno, **kw):
    return reg.create_household(
        store,
        clerk,
        {"village_id": village_id, "address": "东村一组12号"},
        [
            {"name": "张三", "cert_no": idno("1968-03-15", 1, "male"), "phone": "13903510012"},
            {"name": "王秀兰", "cert_no": idno("1970-07-02", 2, "female"), "relation": "spouse"},
        ],
        **kw,
    )


def test_create_household_writes_rows_audit_and_outbox_in_one_go(
    counts, store, clerk, village_id, idno
):
    before = counts(store)
    done = _household(store, clerk, village_id, idno)
    after = counts(store)
    assert after["household"] - before["household"] == 1
    assert after["person"] - before["person"] == 2
    assert after["audit_log"] - before["audit_log"] == 3
    assert after["outbox"] - before["outbox"] == 3
    hh = reg.get_household(store, done.household_id)
    assert hh["head_person_id"] == done.person_ids[0]
    assert [m["name"] for m in hh["members"]] == ["张三", "王秀兰"]
    ops = store.query("SELECT op_type, entity_id, payload FROM outbox ORDER BY device_seq")
    assert [o["op_type"] for o in ops] == ["household.create", "person.create", "person.create"]
    person = store.query_one("SELECT * FROM person WHERE id = ?", (done.person_ids[0],))
    assert json.loads(ops[1]["payload"]) == person  # full row payload
    assert person["sex"] == "male" and person["birth_date"] == "1968-03-15"
    assert person["name_initials"] == "zs" and person["name_pinyin"] == "zhangsan"
    assert person["region_code"] == "140121" and person["created_by"] == clerk.operator_id
    audit = store.query("SELECT * FROM audit_log WHERE entity = 'person' ORDER BY seq")
    assert audit[0]["operator_id"] == clerk.operator_id
    assert json.loads(audit[0]["detail"])["after"] == person
    assert verify_audit(store.db) == []


def test_second_record_with_same_id_number_needs_confirmation(
    counts, store, clerk, village_id, idno
):
    first = _household(store, clerk, village_id, idno)
    n = counts(store)
    with pytest.raises(reg.DuplicatePerson) as e:
        reg.create_household(
            store,
            clerk,
            {"village_id": village_id},
            [{"name": "张三", "cert_no": idno("1968-03-15", 1)}],
        )
    assert e.value.field == "members.0.cert_no"
    assert [x["id"] for x in e.value.existing] == [first.person_ids[0]]
    assert e.value.existing[0]["village"] == "东村" and "已登记" in str(e.value)
    assert counts(store) == n  # nothing written
    again = reg.create_household(
        store,
        clerk,
        {"village_id": village_id},
        [{"name": "张三", "cert_no": idno("1968-03-15", 1)}],
        allow_duplicate=True,
    )
    assert len(reg.find_duplicates(store, "resident_id", idno("1968-03-15", 1))) == 2
    assert again.household_id != first.household_id


def test_duplicate_inside_one_household_and_add_person_duplicate(store, clerk, village_id, idno):
    with pytest.raises(ValidationError) as e:
        reg.create_household(
            store,
            clerk,
            {"village_id": village_id},
            [
                {"name": "甲", "cert_no": idno("1980-01-01", 5)},
                {"name": "乙", "cert_no": idno("1980-01-01", 5), "relation": "sibling"},
            ],
        )
    assert "members.1.cert_no" in e.value.errors
    done = _household(store, clerk, village_id, idno)
    with pytest.raises(reg.DuplicatePerson):
        reg.add_person(
            store,
            clerk,
            done.household_id,
            {"name": "王秀兰", "cert_no": idno("1970-07-02", 2, "female"), "relation": "spouse"},
        )


def test_sex_and_birth_date_entered_must_match_the_id_number(
    counts, store, clerk, village_id, idno
):
    n = counts(store)
    with pytest.raises(ValidationError) as e:
        reg.create_household(
            store,
            clerk,
            {"village_id": village_id},
            [
                {
                    "name": "张三",
                    "cert_no": idno("1968-03-15", 1, "male"),
                    "sex": "女",
                    "birth_date": "1968-03-16",
                }
            ],
        )
    assert "身份证号第17位表示男" in e.value.errors["members.0.sex"]
    assert "1968-03-15" in e.value.errors["members.0.birth_date"]
    assert counts(store) == n
    # matching values (Chinese sex label, full-width digits) are accepted
    done = reg.create_household(
        store,
        clerk,
        {"village_id": village_id},
        [
            {
                "name": "张三",
                "cert_no": idno("1968-03-15", 1, "male"),
                "sex": "男",
                "birth_date": "１９６８-０３-１５",
            }
        ],
    )
    assert reg.get_person(store, done.person_ids[0])["sex"] == "male"


def test_household_needs_exactly_one_head_and_a_village(counts, store, clerk, village_id, idno):
    with pytest.raises(ValidationError) as e:
        reg.create_household(
            store,
            clerk,
            {"village_id": "nope"},
            [{"name": "甲", "cert_no": idno(), "relation": "son"}],
        )
    assert set(e.value.errors) == {"village_id", "members.0.relation"}
    with pytest.raises(ValidationError) as e:
        reg.create_household(
            store,
            clerk,
            {"village_id": village_id},
            [{"name": "甲", "cert_no": idno(seq=1)}, {"name": "乙", "cert_no": idno(seq=2)}],
        )
    assert e.value.errors["members.1.relation"] == "一户只能有一名户主"
    with pytest.raises(ValidationError) as e:
        reg.create_household(store, clerk, {"village_id": village_id}, [])
    assert "members" in e.value.errors
    assert counts(store)["person"] == 0


@pytest.mark.parametrize(
    ("cert_type", "number", "ok"),
    [
        ("birth_cert", "o140123456", True),
        ("birth_cert", "14012345", False),
        ("passport", "E12345678", True),
        ("passport", "E1", False),
        ("hk_macao_permit", "H12345678", True),
        ("hk_macao_permit", "X12345678", False),
        ("taiwan_permit", "12345678", True),
        ("foreign_permanent", "USA123456789012", True),
        ("hmt_residence", "810000199001010014", None),  # check character decides
        ("other", "A-1", True),
    ],
)
def test_other_certificate_types(store, clerk, village_id, cert_type, number, ok):
    member = {
        "name": "陈晨",
        "cert_type": cert_type,
        "cert_no": number,
        "sex": "female",
        "birth_date": "2024-05-01",
    }
    if ok is None:
        from stdnum.cn import ric

        good = number[:17] + ric.calc_check_digit(number)
        bad = number[:17] + ("1" if good[17] != "1" else "2")
        done = reg.create_household(
            store, clerk, {"village_id": village_id}, [{**member, "cert_no": good}]
        )
        assert reg.get_person(store, done.person_ids[0])["cert_no"] == good
        with pytest.raises(ValidationError) as e:
            reg.create_household(
                store, clerk, {"village_id": village_id}, [{**member, "cert_no": bad}]
            )
        assert "校验码" in e.value.errors["members.0.cert_no"]
        return
    if ok:
        done = reg.create_household(store, clerk, {"village_id": village_id}, [member])
        row = reg.get_person(store, done.person_ids[0])
        assert row["cert_type"] == cert_type and row["cert_no"] == number.upper()
        assert row["birth_date"] == "2024-05-01" and row["sex"] == "female"
    else:
        with pytest.raises(ValidationError) as e:
            reg.create_household(store, clerk, {"village_id": village_id}, [member])
        assert "members.0.cert_no" in e.value.errors


def test_other_certificates_need_sex_and_birth_date(store, clerk, village_id):
    with pytest.raises(ValidationError) as e:
        reg.create_household(
            store,
            clerk,
            {"village_id": village_id},
            [{"name": "小宝", "cert_type": "birth_cert", "cert_no": "O140123456"}],
        )
    assert set(e.value.errors) == {"members.0.sex", "members.0.birth_date"}


def test_names_are_normalised_and_rare_characters_kept(store, clerk, village_id, idno):
    done = reg.create_household(
        store,
        clerk,
        {"village_id": village_id},
        [
            {"name": "  𠮷祥 ", "cert_no": idno(seq=1)},
            {"name": "ＭＡＲＹ　李", "cert_no": idno(seq=2, sex="female"), "relation": "spouse"},
        ],
    )
    names = [reg.get_person(store, p)["name"] for p in done.person_ids]
    assert names == ["𠮷祥", "MARY 李"]
    assert [r["name"] for r in reg.search_persons(store, "𠮷")] == ["𠮷祥"]


def test_edit_keeps_history_and_queues_update(counts, store, clerk, admin, village_id, idno):
    done = _household(store, clerk, village_id, idno)
    pid = done.person_ids[0]
    old = reg.get_person(store, pid)
    new = reg.update_person(
        store,
        clerk,
        pid,
        {"phone": "0351-1234567", "insured_category": "dibao"},
        expected_version=1,
    )
    assert new["version"] == 2 and new["phone"] == "0351-1234567"
    reg.update_person(store, admin, pid, {"name": "张叁"})
    hist = reg.person_history(store, pid)
    assert [h["action"] for h in hist] == ["person.create", "person.update", "person.update"]
    assert {c["field"]: (c["before"], c["after"]) for c in hist[1]["changes"]} == {
        "phone": (old["phone"], "0351-1234567"),
        "insured_category": ("ordinary", "dibao"),
    }
    assert hist[1]["operator"] == "李经办" and hist[2]["operator"] == "王主管"
    assert hist[2]["changes"][0]["label"] == "姓名"
    ops = store.query(
        "SELECT op_type, payload FROM outbox WHERE entity_id = ? ORDER BY device_seq", (pid,)
    )
    assert [o["op_type"] for o in ops] == ["person.create", "person.update", "person.update"]
    assert json.loads(ops[-1]["payload"])["name_initials"] == "zs"
    # stale edit and no-op edit
    with pytest.raises(reg.StaleRecord):
        reg.update_person(store, clerk, pid, {"phone": "13800000000"}, expected_version=1)
    n = counts(store)
    reg.update_person(store, clerk, pid, {"phone": "0351-1234567"})
    assert counts(store) == n


def test_edit_validates_and_detects_duplicates(counts, store, clerk, village_id, idno):
    done = _household(store, clerk, village_id, idno)
    n = counts(store)
    with pytest.raises(ValidationError) as e:
        reg.update_person(store, clerk, done.person_ids[1], {"cert_no": "110105194912310021"})
    assert "校验码" in e.value.errors["cert_no"]
    with pytest.raises(reg.DuplicatePerson):
        reg.update_person(store, clerk, done.person_ids[1], {"cert_no": idno("1968-03-15", 1)})
    with pytest.raises(ValidationError) as e:
        reg.update_person(store, clerk, done.person_ids[1], {"relation": "head"})
    assert "已有户主" in e.value.errors["relation"]
    assert counts(store) == n


def test_add_member_and_edit_household(store, clerk, village_id, idno):
    done = _household(store, clerk, village_id, idno)
    pid = reg.add_person(
        store,
        clerk,
        done.household_id,
        {"name": "张小明", "cert_no": idno("2008-09-01", 3), "relation": "son"},
    )
    assert reg.get_person(store, pid)["household_id"] == done.household_id
    west = store.query_one("SELECT id FROM village WHERE name = '西村'")["id"]
    hh = reg.update_household(
        store, clerk, done.household_id, {"village_id": west, "address": "西村8号"}
    )
    assert hh["version"] == 2 and hh["village_id"] == west
    assert (
        store.query_one("SELECT op_type FROM outbox ORDER BY device_seq DESC LIMIT 1")["op_type"]
        == "household.update"
    )
    with pytest.raises(ValidationError):
        reg.add_person(
            store, clerk, done.household_id, {"name": "另一户主", "cert_no": idno(seq=9)}
        )


def test_search_by_id_name_initials_and_pinyin(store, clerk, village_id, idno):
    from desktop.services.demo import seed_demo

    seed_demo(store)
    zs = store.query_one("SELECT * FROM person WHERE name = '张三'")
    assert [r["id"] for r in reg.search_persons(store, zs["cert_no"])] == [zs["id"]]
    assert zs["id"] in [r["id"] for r in reg.search_persons(store, zs["cert_no"][:10])]
    assert [r["name"] for r in reg.search_persons(store, zs["cert_no"].lower())] == ["张三"]
    assert [r["name"] for r in reg.search_persons(store, "王强")] == ["王强"]
    assert [r["name"] for r in reg.search_persons(store, "王")][:1] == ["王强"] or "王强" in [
        r["name"] for r in reg.search_persons(store, "王")
    ]
    assert {r["name"] for r in reg.search_persons(store, "王")} == {
        "王秀兰",
        "王强",
        "王芳",
        "王磊",
    }
    assert reg.search_persons(store, "zs")[0]["name"] == "张三"
    assert reg.search_persons(store, "ZS")[0]["name"] == "张三"
    assert [r["name"] for r in reg.search_persons(store, "zhangsan")] == ["张三"]
    assert "张小明" in [r["name"] for r in reg.search_persons(store, "zhang")]
    assert [r["name"] for r in reg.search_persons(store, "shanzg")] == []
    assert [r["name"] for r in reg.search_persons(store, "szg")] == ["单志刚"]  # 单 read shàn
    assert reg.search_persons(store, "") == [] and reg.search_persons(store, "   ") == []
    assert reg.search_persons(store, "张三", limit=1)[0]["village"] == "东村"
    assert len(reg.search_persons(store, "1401", limit=5)) == 5


def test_duplicates_are_listed_and_cleared_by_terminating_one(
    counts, store, clerk, village_id, idno
):
    number = idno("1966-06-06", 31)
    a = reg.create_household(
        store, clerk, {"village_id": village_id}, [{"name": "钱一", "cert_no": number}]
    )
    b = reg.create_household(
        store,
        clerk,
        {"village_id": village_id},
        [{"name": "钱一", "cert_no": number}],
        allow_duplicate=True,
    )
    reg.create_household(
        store, clerk, {"village_id": village_id}, [{"name": "钱二", "cert_no": idno(seq=32)}]
    )
    dups = reg.list_duplicates(store)
    assert {d["id"] for d in dups} == {a.person_ids[0], b.person_ids[0]}
    n = counts(store)
    with pytest.raises(ValidationError) as e:
        reg.update_person(store, clerk, b.person_ids[0], {"status": 7})
    assert e.value.errors == {"status": "请选择参保状态"}
    assert counts(store) == n
    reg.update_person(store, clerk, b.person_ids[0], {"status": 3})
    assert reg.list_duplicates(store) == []
    hist = reg.person_history(store, b.person_ids[0])
    assert hist[-1]["changes"] == [
        {"field": "status", "label": "参保状态", "before": 1, "after": 3}
    ]
