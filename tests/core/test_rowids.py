"""core.rowids: a row's id carries the county that made it (a hint the county server reads
first), and is otherwise as random as a version-4 UUID."""

from __future__ import annotations

import uuid

import pytest

from core.rowids import new_row_id, region_in


def test_a_new_id_is_a_version_8_uuid_beginning_with_its_county():
    ids = {new_row_id("141081") for _ in range(2000)}
    assert len(ids) == 2000
    for i in ids:
        u = uuid.UUID(i)
        assert (u.version, u.variant) == (8, uuid.RFC_4122)
        assert str(u) == i and i.startswith("141081")
        assert region_in(i) == "141081"
    # the other 98 bits are random: every hex digit after the county takes many values
    for pos in (6, 7, 9, 10, 15, 20, 35):
        assert len({i[pos] for i in ids}) > 8, pos


@pytest.mark.parametrize("region", ["", "14108", "1410810", "14108x", "１４１０８１", None])
def test_without_a_six_digit_county_a_version_4_uuid(region):
    i = new_row_id(region or "") if region is not None else new_row_id()
    assert uuid.UUID(i).version == 4 and region_in(i) is None


def test_ids_that_carry_no_county_are_told_apart():
    # a version-4 UUID that happens to begin with six digits carries none
    v4 = str(uuid.UUID("14108164-58c4-4579-99bb-b9bfc5d7719a"))
    assert region_in(v4) is None
    for other in (
        "",
        "p1",
        "141081-0000001",
        "14108164-58c4-8579-c9bb-b9bfc5d7719a",  # not RFC 9562's variant
        "1410a164-58c4-8579-99bb-b9bfc5d7719a",  # not six digits
        "14108164-58c4-8579-99bb-b9bfc5d7719a-",
        str(uuid.uuid5(uuid.NAMESPACE_DNS, "141081")),
    ):
        assert region_in(other) is None, other
    assert region_in("14108164-58c4-8579-99bb-b9bfc5d7719a") == "141081"
