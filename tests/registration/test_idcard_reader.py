"""The 二代身份证 reader through the termb interface, against a fake vendor library with the
same C functions, built here with the system's C compiler (scripts/test installs gcc): a
card read, a reader unplugged, a card taken away mid-read, garbage bytes, an invalid number,
and the photo kept out unless the setting allows it."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from core.errors import ValidationError
from desktop.devices.idcard import (
    BAD_DATA,
    NO_CARD,
    NO_LIBRARY,
    NO_READER,
    READ_FAILED,
    CardError,
    TermbReader,
)
from desktop.services import idcard
from desktop.services import registration as reg
from desktop.services import settings as settings_service
from desktop.services.demo import make_id

NUMBER = make_id("140121", "1985-06-07", 17, "female")


def c_string(text: str | bytes) -> str:
    raw = text.encode("gbk") if isinstance(text, str) else text
    return '"' + "".join(f"\\x{b:02x}" for b in raw) + '"'


def fake_source() -> str:
    bad_number = NUMBER[:-1] + ("0" if NUMBER[-1] != "0" else "1")
    fields = {
        "GetPeopleName": "王小红",
        "GetPeopleSex": "女",
        "GetPeopleNation": "回",
        "GetPeopleBirthday": "19850607",
        "GetPeopleAddress": "山西省太原市东村一组8号",
        "GetDepartment": "太原市公安局",
        "GetStartDate": "20150101",
        "GetEndDate": "20350101",
    }
    getters = "\n".join(
        f'int {fn}(char *b, int *n) {{ if (is("garbage") && {int(fn == "GetPeopleName")})'
        f' return put(b, n, "\\xff\\xfe\\x80\\x81"); return put(b, n, {c_string(v)}); }}'
        for fn, v in fields.items()
    )
    return f"""
extern char *getenv(const char *);
extern int strcmp(const char *, const char *);
static int is(const char *m) {{ const char *v = getenv("FAKE_TERMB_MODE"); return v && !strcmp(v, m); }}
static int put(char *b, int *n, const char *s) {{
    int i = 0; while (s[i]) {{ b[i] = s[i]; i++; }} b[i] = 0; *n = i; return 1; }}
int CVR_InitComm(int port) {{
    if (is("noreader")) return 0;
    if (is("serial")) return port == 3;
    return port == 1001; }}
int CVR_Authenticate(void) {{ return !is("nocard"); }}
int CVR_Read_Content(int active) {{ return !is("removed"); }}
int CVR_CloseComm(void) {{ return 1; }}
int GetPeopleIDCode(char *b, int *n) {{
    return put(b, n, is("badid") ? "{bad_number}" : "{NUMBER}"); }}
int GetBMPData(unsigned char *b, int *n) {{
    const char *bmp = "BM-fake-photo"; int i = 0;
    while (bmp[i]) {{ b[i] = bmp[i]; i++; }} *n = i; return 1; }}
{getters}
"""


@pytest.fixture(scope="module")
def termb(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the fake reader library (scripts/test installs gcc)")
    d = tmp_path_factory.mktemp("termb")
    (d / "termb.c").write_text(fake_source(), encoding="utf-8")
    lib = d / "libtermb.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(d / "termb.c")], check=True)
    return lib


@pytest.fixture
def mode(monkeypatch):
    def set_mode(m: str) -> None:
        monkeypatch.setenv("FAKE_TERMB_MODE", m)

    set_mode("ok")
    return set_mode


def test_a_card_is_read(termb, mode):
    card = TermbReader(termb).read()
    assert (card.name, card.sex, card.birth_date, card.cert_no) == (
        "王小红",
        "female",
        "1985-06-07",
        NUMBER,
    )
    assert card.ethnicity == "03" and card.address == "山西省太原市东村一组8号"
    assert card.valid_to == "2035-01-01" and card.photo is None
    assert TermbReader(termb).read(photo=True).photo == b"BM-fake-photo"


def test_the_reader_is_found_on_a_serial_port(termb, mode):
    mode("serial")
    assert TermbReader(termb).read().name == "王小红"
    with pytest.raises(CardError) as e:
        TermbReader(termb, port=1001).read()  # the port given is tried alone
    assert e.value.code == NO_READER


@pytest.mark.parametrize(
    "m, code, words",
    [
        ("noreader", NO_READER, "USB线"),
        ("nocard", NO_CARD, "平放"),
        ("removed", READ_FAILED, "移开"),
        ("garbage", BAD_DATA, "无法识别"),
        ("badid", BAD_DATA, "号码无效"),
    ],
)
def test_what_goes_wrong_is_said_plainly(termb, mode, m, code, words):
    mode(m)
    with pytest.raises(CardError) as e:
        TermbReader(termb).read()
    assert e.value.code == code and words in str(e.value)


def test_no_library_or_not_a_library(tmp_path):
    with pytest.raises(CardError) as e:
        TermbReader(tmp_path / "missing.dll").read()
    assert e.value.code == NO_LIBRARY and "termb.dll" in str(e.value)
    junk = tmp_path / "termb.dll"
    junk.write_bytes(b"not a library")
    with pytest.raises(CardError) as e:
        TermbReader(junk).read()
    assert e.value.code == NO_LIBRARY


def configure(store, admin, termb, photo="0"):
    settings_service.update_settings(
        store,
        admin,
        {"card_reader": "termb", "card_library": str(termb), "card_port": "", "card_photo": photo},
    )


def test_the_service_finds_the_registered_person_and_keeps_no_photo(
    store, admin, clerk, village_id, termb, mode
):
    with pytest.raises(ValidationError) as e:  # a keyboard-wedge reader types into the box
        idcard.read_card(store)
    assert "查找框" in e.value.errors["card"]
    configure(store, admin, termb)
    out = idcard.read_card(store)
    assert out["person"] is None and out["card"]["has_photo"] is False
    made = reg.create_household(
        store,
        clerk,
        {"village_id": village_id},
        [{"name": "王小红", "cert_no": NUMBER, "sex": "female", "birth_date": "1985-06-07"}],
    )
    assert idcard.read_card(store)["person"]["id"] == made.person_ids[0]
    configure(store, admin, termb, photo="1")
    assert idcard.read_card(store)["card"]["has_photo"] is True
    # never stored: no table holds the photo bytes
    assert (
        store.query_one("SELECT COUNT(*) AS n FROM settings WHERE value LIKE '%fake-photo%'")["n"]
        == 0
    )


def test_settings_refuse_a_reader_without_its_library(store, admin):
    with pytest.raises(ValidationError) as e:
        settings_service.update_settings(store, admin, {"card_reader": "termb", "card_library": ""})
    assert "termb.dll" in e.value.errors["card_library"]
    with pytest.raises(ValidationError) as e:
        settings_service.update_settings(store, admin, {"card_port": "77"})
    assert "端口" in e.value.errors["card_port"]


def test_the_page_fills_the_form_from_the_card(qtbot, store, admin, clerk, data_dir, termb, mode):
    from PySide6.QtCore import Qt

    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.pages.registration import Page

    configure(store, admin, termb)
    create_qapplication()
    ctx = make_context(store, clerk, data_dir)
    try:
        page = Page(ctx)
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=5000)
        qtbot.keyClick(page, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: page.inputs["name"].text() == "王小红", timeout=5000)
        assert page.inputs["cert_no"].text() == NUMBER
        assert page.inputs["ethnicity"].currentData() == "03"
        assert page.hh_address.text() == "山西省太原市东村一组8号"
        assert "未登记" in page.message.text()
        mode("removed")
        qtbot.keyClick(page, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: "移开" in page.message.text(), timeout=5000)
    finally:
        ctx.tasks.shutdown()
    assert os.environ.get("FAKE_TERMB_MODE") == "removed"
