"""Settings: supervisor-only, validated field by field, one audited transaction."""

from __future__ import annotations

import pytest

from core.errors import ValidationError
from desktop.services import settings
from desktop.services.context import PermissionDenied
from desktop.store.journal import verify_audit

GOOD = {
    "county_url": "https://ybj.example.gov.cn:8443/desk/",
    "printer": "HP LaserJet 1020 (窗口)",
    "paper": "a5",
    "sp_name": "示范乡卫生院医保窗口",
    "sp_phone": "0351-6123456",
    "sp_address": "示范乡政府街1号",
}


def test_defaults_come_from_the_service_point(store, admin):
    s = settings.get_settings(store)
    assert s.paper == "A4" and s.county_url == "" and s.printer == ""
    assert (s.sp_name, s.sp_code, s.sp_region_code, s.sp_device_no) == (
        "示范乡卫生院",
        "SP01",
        "140121",
        1,
    )


def test_supervisor_saves_settings_audited(store, admin):
    s = settings.update_settings(store, admin, GOOD)
    assert s.county_url == "https://ybj.example.gov.cn:8443/desk"
    assert s.paper == "A5" and s.sp_name == "示范乡卫生院医保窗口"
    again = settings.get_settings(store)
    assert again == s
    assert store.setting(settings.KEY_PAPER) == "A5"
    assert store.query_one("SELECT name FROM service_point")["name"] == "示范乡卫生院医保窗口"
    entry = store.query_one("SELECT * FROM audit_log WHERE action = 'settings.update'")
    assert entry["operator_id"] == admin.operator_id
    assert '"paper":"A5"' in entry["detail"] and '"paper":"A4"' in entry["detail"]
    assert verify_audit(store.db) == []
    # saving the same values again changes nothing and writes no audit entry
    settings.update_settings(store, admin, GOOD)
    assert len(store.query("SELECT 1 FROM audit_log WHERE action = 'settings.update'")) == 1


def test_clerk_cannot_change_settings(store, clerk):
    with pytest.raises(PermissionDenied):
        settings.update_settings(store, clerk, GOOD)
    assert store.setting(settings.KEY_COUNTY_URL) is None


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("county_url", "ftp://ybj.example.gov.cn", "https"),
        ("county_url", "https://", "https"),
        ("county_url", "https://县医保.cn", "中文"),
        ("county_url", "https://ybj.example.gov.cn:99999", "端口"),
        ("county_url", "https://u:p@ybj.example.gov.cn", "密码"),
        ("paper", "B5", "A4"),
        ("sp_name", "   ", "服务点名称"),
        ("sp_phone", "电话123", "数字"),
        ("sp_address", "街\x07道", "控制字符"),
        ("printer", "x" * 201, "过长"),
    ],
)
def test_bad_input_is_refused_at_the_field_and_writes_nothing(store, admin, field, value, words):
    seq = store.query_one("SELECT MAX(seq) AS s FROM audit_log")["s"]
    with pytest.raises(ValidationError) as e:
        settings.update_settings(store, admin, {**GOOD, field: value})
    assert list(e.value.errors) == [field]
    assert words in e.value.errors[field]
    assert store.query_one("SELECT MAX(seq) AS s FROM audit_log")["s"] == seq
    assert (
        store.query("SELECT * FROM settings WHERE key LIKE 'print.%' OR key LIKE 'county.%'") == []
    )


def test_an_empty_url_is_allowed_offline(store, admin):
    s = settings.update_settings(store, admin, {**GOOD, "county_url": ""})
    assert s.county_url == ""


def test_changing_the_url_moves_a_registered_device_too(store, admin):
    has_sync = store.query_one(
        "SELECT 1 AS x FROM sqlite_master WHERE type='table' AND name='sync_device'"
    )
    if not has_sync:
        pytest.skip("sync tables (issue 6) are not in this build")
    store.conn.execute(
        "INSERT INTO sync_device(id, server_url, device_id, registered_at) VALUES (1, ?, 'dev-1', '2026-01-01')",
        ("https://old.example.gov.cn",),
    )
    settings.update_settings(store, admin, GOOD)
    assert store.query_one("SELECT server_url FROM sync_device")["server_url"] == (
        "https://ybj.example.gov.cn:8443/desk"
    )


def test_an_address_without_its_scheme_means_https(store, admin):
    """What the county's notice says (ybj.example.gov.cn) is taken as its https address."""
    settings.update_settings(store, admin, {**GOOD, "county_url": " ybj.example.gov.cn:8443/ "})
    assert settings.get_settings(store).county_url == "https://ybj.example.gov.cn:8443"
