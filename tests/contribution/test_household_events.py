"""Household life events (issue 12): each one transaction with audit entries and outbox ops,
shown before it is saved, undone only by another event; bad input writes nothing."""

from __future__ import annotations

import pytest

from core.errors import ValidationError
from desktop.services import contribution, registration
from desktop.services import household_events as ev
from desktop.services.context import PermissionDenied
from desktop.services.demo import make_id
from desktop.store import journal
from tests.contribution.conftest import TODAY

HEAD, SPOUSE, PARENT, SON = range(4)


def person(store, pid):
    return store.query_one("SELECT * FROM person WHERE id = ?", (pid,))


def hh_row(store, hid):
    return store.query_one("SELECT * FROM household WHERE id = ?", (hid,))


def ops(store):
    return [r["op_type"] for r in store.query("SELECT op_type FROM outbox ORDER BY device_seq")]


def chain_ok(store):
    assert journal.verify_audit(store.db) == []


def second_household(store, clerk, village_id):
    made = registration.create_household(
        store,
        clerk,
        {"village_id": village_id, "address": "东村二组8号"},
        [
            {
                "name": "王芳",
                "relation": "head",
                "sex": "female",
                "birth_date": "1975-05-05",
                "cert_no": make_id("140121", "1975-05-05", 11, "female"),
            }
        ],
        today=TODAY,
    )
    return made.household_id, made.person_ids[0]


def test_change_head_preview_then_apply(store, clerk, household, counts):
    ids, hid = household["ids"], household["household_id"]
    event = {
        "kind": "change_head",
        "household_id": hid,
        "new_head_id": ids[SPOUSE],
        "old_head_relation": "spouse",
        "relations": {ids[SON]: "son"},
    }
    before = counts(store)
    effect = ev.preview(store, clerk, event, today=TODAY)
    assert counts(store) == before  # a preview writes nothing
    assert effect.title == "户主变更" and effect.lines[0].startswith("新户主：李四")
    assert any("原户主张三改为：配偶" in line for line in effect.lines)
    ev.apply(store, clerk, event, today=TODAY)
    assert hh_row(store, hid)["head_person_id"] == ids[SPOUSE]
    assert person(store, ids[SPOUSE])["relation"] == "head"
    assert person(store, ids[HEAD])["relation"] == "spouse"
    assert ops(store)[-3:] == ["person.update", "person.update", "household.update"]
    assert [e["kind_label"] for e in ev.history(store, hid)] == ["户主变更"]
    chain_ok(store)


def test_move_to_another_household_and_back_by_another_event(store, clerk, household):
    ids, hid = household["ids"], household["household_id"]
    other, _wang = second_household(store, clerk, household["village_id"])
    out = ev.apply(
        store,
        clerk,
        {
            "kind": "move",
            "person_id": ids[SON],
            "to_household_id": other,
            "relation": "child_in_law",
        },
        today=TODAY,
    )
    assert out["household_id"] == other
    assert person(store, ids[SON])["household_id"] == other
    assert person(store, ids[SON])["relation"] == "child_in_law"
    assert ids[SON] not in [m["id"] for m in registration.get_household(store, hid)["members"]]
    # undone only by another event: the move back is a second event, the first stays
    ev.apply(
        store,
        clerk,
        {"kind": "move", "person_id": ids[SON], "to_household_id": hid, "relation": "son"},
        today=TODAY,
    )
    kinds = [e["kind"] for e in ev.history(store, hid)]
    assert kinds == ["move", "move"]
    with pytest.raises(Exception):  # noqa: B017 — the trigger refuses deleting an event
        with store.write() as db:
            db.conn.execute("DELETE FROM person_event")
    chain_ok(store)


def test_moving_the_head_needs_a_new_head_for_those_who_stay(store, clerk, household):
    ids, hid = household["ids"], household["household_id"]
    other, _ = second_household(store, clerk, household["village_id"])
    event = {"kind": "move", "person_id": ids[HEAD], "to_household_id": other, "relation": "spouse"}
    with pytest.raises(ValidationError) as e:
        ev.preview(store, clerk, event, today=TODAY)
    assert "请指定原户的新户主" in e.value.errors["source_new_head_id"]
    ev.apply(store, clerk, {**event, "source_new_head_id": ids[SPOUSE]}, today=TODAY)
    assert hh_row(store, hid)["head_person_id"] == ids[SPOUSE]
    assert person(store, ids[SPOUSE])["relation"] == "head"


def test_split_off_a_new_household(store, clerk, household):
    ids, hid = household["ids"], household["household_id"]
    out = ev.apply(
        store,
        clerk,
        {
            "kind": "split",
            "person_ids": [ids[SON]],
            "head_id": ids[SON],
            "address": "东村三组2号",
            "village_id": household["village_id"],
        },
        today=TODAY,
    )
    new = hh_row(store, out["household_id"])
    assert new["head_person_id"] == ids[SON] and new["address"] == "东村三组2号"
    assert person(store, ids[SON])["household_id"] == new["id"]
    assert "household.create" in ops(store)
    # a history for both households
    assert [e["kind"] for e in ev.history(store, hid)] == ["split"]


def test_merge_two_households(store, clerk, household):
    hid = household["household_id"]
    other, wang = second_household(store, clerk, household["village_id"])
    ev.apply(
        store,
        clerk,
        {
            "kind": "merge",
            "from_household_id": other,
            "into_household_id": hid,
            "relations": {wang: "sibling"},
        },
        today=TODAY,
    )
    assert person(store, wang)["household_id"] == hid
    assert hh_row(store, other)["merged_into"] == hid
    with pytest.raises(ValidationError) as e:  # a merged household takes no more events
        ev.preview(
            store, clerk, {"kind": "merge", "from_household_id": other, "into_household_id": hid}
        )
    assert "已并入" in e.value.errors["from_household_id"]


def test_death_refunds_a_later_year_and_refuses_payments(store, clerk, household):
    ids = household["ids"]
    paid = contribution.record_payment(
        store,
        clerk,
        {
            "person_id": ids[HEAD],
            "year": 2025,
            "amount": "400",
            "channel": "cash",
            "paid_on": "2024-10-10",
        },
        today=TODAY,
    )
    event = {
        "kind": "terminate",
        "person_id": ids[HEAD],
        "exit_reason": "death",
        "exit_date": "2024-12-01",
    }
    lines = ev.preview(store, clerk, event, today=TODAY).lines
    assert any("2025年度已缴 400.00 元" in line and "退费任务" in line for line in lines)
    assert any("户主变更" in line for line in lines)
    ev.apply(store, clerk, event, today=TODAY)
    p = person(store, ids[HEAD])
    assert p["status"] == 3 and p["exit_reason"] == "死亡" and p["exit_date"] == "2024-12-01"
    tasks = ev.refund_tasks(store)
    assert [(t["name"], t["receipt_no"]) for t in tasks] == [("张三", paid["receipt_no"])]
    # no payment after the exit, with the reason
    with pytest.raises(ValidationError) as e:
        contribution.check_payment(
            store,
            clerk,
            {
                "person_id": ids[HEAD],
                "year": 2026,
                "amount": "400",
                "channel": "cash",
                "paid_on": "2025-03-20",
            },
            today=TODAY,
        )
    assert "2024-12-01" in e.value.errors["person_id"] and "死亡" in e.value.errors["person_id"]
    # not in the campaign list any more
    rows = contribution.campaign(
        store, year=2025, household_id=household["household_id"], today=TODAY
    )["rows"]
    assert ids[HEAD] not in [r["person_id"] for r in rows]
    # the usual refund closes the task
    contribution.void_payment(
        store,
        clerk,
        paid["payment"]["id"],
        reason="居民死亡，退还次年保费",
        supervisor=_supervisor(store),
        refund=True,
    )
    assert ev.refund_tasks(store) == []
    # a death is not undone at the window
    with pytest.raises(ValidationError):
        ev.preview(
            store,
            clerk,
            {"kind": "restore", "person_id": ids[HEAD], "date": "2025-01-01"},
            today=TODAY,
        )


def test_leave_and_return(store, clerk, household):
    ids = household["ids"]
    ev.apply(
        store,
        clerk,
        {
            "kind": "terminate",
            "person_id": ids[SON],
            "exit_reason": "employee",
            "exit_date": "2025-01-15",
        },
        today=TODAY,
    )
    ev.apply(
        store, clerk, {"kind": "restore", "person_id": ids[SON], "date": "2025-03-01"}, today=TODAY
    )
    p = person(store, ids[SON])
    assert p["status"] == 1 and p["exit_reason"] is None


def test_assign_an_id_number_to_a_newborn(store, clerk, household):
    hid = household["household_id"]
    baby = registration.add_person(
        store,
        clerk,
        hid,
        {
            "name": "张小宝",
            "relation": "grandchild",
            "cert_type": "birth_cert",
            "cert_no": "Q140121888",
            "sex": "male",
            "birth_date": "2025-02-01",
        },
        today=TODAY,
    )
    number = make_id("140121", "2025-02-01", 21, "male")
    ev.apply(store, clerk, {"kind": "assign_id", "person_id": baby, "cert_no": number}, today=TODAY)
    p = person(store, baby)
    assert p["cert_type"] == "resident_id" and p["cert_no"] == number
    old = store.query("SELECT cert_no FROM person_cert_history WHERE person_id = ?", (baby,))
    assert [r["cert_no"] for r in old] == ["Q140121888"]
    assert store.query_one("SELECT COUNT(*) AS n FROM person WHERE name = '张小宝'")["n"] == 1


def test_correcting_an_id_number_is_for_a_supervisor_with_a_reason(store, clerk, admin, household):
    ids = household["ids"]
    right = make_id("140121", "1970-01-01", 31, "male")
    event = {"kind": "correct_id", "person_id": ids[HEAD], "cert_no": right}
    with pytest.raises(PermissionDenied):
        ev.preview(store, clerk, event, today=TODAY)
    with pytest.raises(ValidationError) as e:
        ev.preview(store, admin, event, today=TODAY)
    assert "更正原因" in e.value.errors["reason"]
    ev.apply(store, admin, {**event, "reason": "登记时顺序码录错"}, today=TODAY)
    assert person(store, ids[HEAD])["cert_no"] == right
    # the old number is never given to someone else
    with pytest.raises(ValidationError) as e:
        ev.preview(
            store,
            admin,
            {
                "kind": "correct_id",
                "person_id": ids[SPOUSE],
                "reason": "核对户口簿",
                "cert_no": make_id("140121", "1970-01-01", 1, "male"),
            },
            today=TODAY,
        )
    assert "已由" in e.value.errors["cert_no"]


@pytest.mark.parametrize(
    "event, field, words",
    [
        (
            {"kind": "move", "to_household_id": "SELF", "relation": "son"},
            "to_household_id",
            "已经在这一户",
        ),
        (
            {"kind": "terminate", "exit_reason": "death", "exit_date": "1960-01-01"},
            "exit_date",
            "不能早于出生日期",
        ),
        ({"kind": "terminate", "exit_reason": "death", "exit_date": "2030-01-01"}, "exit_date", ""),
        (
            {
                "kind": "terminate",
                "exit_reason": "other",
                "exit_date": "2025-01-01",
                "note": "长" * 201,
            },
            "note",
            "过长",
        ),
        ({"kind": "change_head", "new_head_id": "OTHER"}, "new_head_id", "本户的成员"),
        (
            {"kind": "split", "person_ids": "ALL", "head_id": "X", "address": "x"},
            "person_ids",
            "全户成员",
        ),
        ({"kind": "nonsense"}, "kind", "请选择"),
    ],
)
def test_bad_input_writes_nothing(store, clerk, household, counts, event, field, words):
    ids, hid = household["ids"], household["household_id"]
    other, wang = second_household(store, clerk, household["village_id"])
    event = dict(event)
    event.setdefault("person_id", ids[SON])
    event.setdefault("household_id", hid)
    if event.get("to_household_id") == "SELF":
        event["to_household_id"] = hid
    if event.get("new_head_id") == "OTHER":
        event["new_head_id"] = wang
    if event.get("person_ids") == "ALL":
        event["person_ids"] = ids
    before = counts(store)
    with pytest.raises(ValidationError) as e:
        ev.apply(store, clerk, event, today=TODAY)
    assert field in e.value.errors and words in e.value.errors[field]
    assert counts(store) == before


def test_the_last_member_cannot_just_leave(store, clerk, household):
    other, wang = second_household(store, clerk, household["village_id"])
    with pytest.raises(ValidationError) as e:
        ev.preview(
            store,
            clerk,
            {
                "kind": "move",
                "person_id": wang,
                "to_household_id": household["household_id"],
                "relation": "sibling",
            },
            today=TODAY,
        )
    assert "合户" in e.value.errors["person_id"]


def _supervisor(store):
    from desktop.services import auth

    return auth.login(store, "admin", "admin123")


def test_the_command_line_previews_and_applies(
    store, clerk, household, data_dir, tmp_path, capsys, monkeypatch
):
    import io
    import json
    import sys

    from desktop.cli import main

    ids, hid = household["ids"], household["household_id"]
    store.close()
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "kind": "terminate",
                "person_id": ids[SON],
                "exit_reason": "military",
                "exit_date": "2025-03-01",
            }
        ),
        encoding="utf-8",
    )

    def run(*args):
        monkeypatch.setattr(sys, "stdin", io.StringIO("clerk123\n"))
        code = main(["--data-dir", str(data_dir), *args])
        return code, capsys.readouterr().out

    code, out = run("household", "preview", str(event), "--user", "clerk1", "--password-stdin")
    assert code == 0 and "预览（未保存）：终止参保" in out and "参军" in out
    code, out = run("household", "apply", str(event), "--user", "clerk1", "--password-stdin")
    assert code == 0 and "已办理：终止参保" in out
    code, out = run("household", "apply", str(event), "--user", "clerk1", "--password-stdin")
    assert code == 2 and "已终止参保" in out  # the same event twice is refused
    code, out = run("household", "history", hid)
    assert code == 0 and "终止参保" in out and "参军" in out


def test_the_estimate_warns_after_an_exit(store, clerk, household):
    from desktop.services import estimate

    ids = household["ids"]
    ev.apply(
        store,
        clerk,
        {
            "kind": "terminate",
            "person_id": ids[SPOUSE],
            "exit_reason": "moved_out",
            "exit_date": "2025-02-01",
        },
        today=TODAY,
    )
    notes = estimate.caveats(store, policy_id="national-2025", person_id=ids[SPOUSE], year=2025)
    assert any("2025-02-01终止参保（迁出本统筹区）" in n for n in notes)
    assert not any(
        "终止参保" in n
        for n in estimate.caveats(store, policy_id="national-2025", person_id=ids[HEAD], year=2025)
    )
