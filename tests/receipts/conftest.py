"""Receipt fixtures: a household in 东村 (region 140121, national-2025 applies to 参保年度
2025) with payments recorded through the contribution service, a fully subsidized member,
a saved estimate, and PDF helpers (text with pypdf, embedded-font check)."""

from __future__ import annotations

import copy
import datetime as dt
import io
import shutil

import pytest
from pypdf import PdfReader

from desktop.services import contribution, registration
from desktop.services.demo import make_id

PAID_ON = "2024-11-15"
YEAR = 2025


def _make_family(store, clerk) -> dict:
    village = store.query_one("SELECT id FROM village WHERE name = '东村'")["id"]
    members = [
        ("张三", "head", "male", "1970-01-01", {}),
        ("李四", "spouse", "female", "1972-02-02", {}),
        (
            "孙五",
            "parent",
            "female",
            "1945-03-03",
            {"insured_category": "tekun", "subsidy_category": "full"},
        ),
        (
            "张小低",
            "son",
            "male",
            "2000-04-04",
            {"insured_category": "dibao", "subsidy_category": "fixed"},
        ),
    ]
    made = registration.create_household(
        store,
        clerk,
        {"village_id": village, "address": "东村一组1号"},
        [
            {
                "name": n,
                "relation": r,
                "sex": s,
                "birth_date": b,
                "cert_no": make_id("140121", b, i + 1, s),
                **extra,
            }
            for i, (n, r, s, b, extra) in enumerate(members)
        ],
    )
    ids = dict(zip([m[0] for m in members], made.person_ids, strict=True))
    certs = {m[0]: make_id("140121", m[3], i + 1, m[2]) for i, m in enumerate(members)}
    return {"ids": ids, "certs": certs, "village_id": village}


def pay(store, actor, person_id, channel="cash", paid_on=PAID_ON, year=YEAR) -> dict:
    q = contribution.quote(store, person_id, year, paid_on)
    return contribution.record_payment(
        store,
        actor,
        {
            "person_id": person_id,
            "year": year,
            "amount": q["amount_due"],
            "channel": channel,
            "paid_on": paid_on,
        },
        today=dt.date.fromisoformat(paid_on),  # recorded at the window on the day it was paid
    )


@pytest.fixture(scope="session")
def _template(tmp_path_factory):
    """Built once: service point, supervisor admin, clerk 李经办, a family in 东村 and the
    payments of 张三 (cash), 李四 (扫码) and 张小低 (低保, part subsidized). Each test gets
    its own copy of the files (password hashing and registration are slow)."""
    from desktop.services.auth import create_operator
    from desktop.services.setup import ServicePointInput, run_setup
    from desktop.store import open_store

    folder = tmp_path_factory.mktemp("receipts-template")
    s = open_store(folder)
    admin = run_setup(
        s,
        ServicePointInput(
            name="示范乡卫生院", region_code="140121", code="SP01", villages=["东村", "西村"]
        ),
        admin_username="admin",
        admin_name="王主管",
        admin_password="admin123",
    )
    clerk = create_operator(
        s, username="clerk1", display_name="李经办", password="clerk123", role="clerk", by=admin
    )
    family = _make_family(s, clerk)
    payments = {
        "张三": pay(s, clerk, family["ids"]["张三"], "cash"),
        "李四": pay(s, clerk, family["ids"]["李四"], "qr"),
        "张小低": pay(s, clerk, family["ids"]["张小低"], "bank"),
    }
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    return {
        "dir": folder,
        "admin": admin,
        "clerk": clerk,
        "family": family,
        "payments": payments,
    }


@pytest.fixture
def store(data_dir, _template):
    from desktop.store import open_store
    from desktop.store.numbering import HWM_FILENAME

    for name in ("desk.sqlite3", "desk.id", HWM_FILENAME):
        src = _template["dir"] / name
        if src.exists():
            shutil.copy2(src, data_dir / name)
    s = open_store(data_dir)
    yield s
    s.close()


@pytest.fixture
def admin(store, _template):
    return _template["admin"]


@pytest.fixture
def clerk(store, _template):
    return _template["clerk"]


@pytest.fixture
def family(store, _template):
    return copy.deepcopy(_template["family"])


@pytest.fixture
def paid(family, _template):
    """The family with the payments of 张三 (cash), 李四 (扫码), 张小低 (bank)."""
    return {**family, "payments": copy.deepcopy(_template["payments"])}


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def pdf_fonts(pdf: bytes) -> list[tuple[str, bool]]:
    """(font name, embedded?) of every font used on every page, descendants included."""
    reader = PdfReader(io.BytesIO(pdf))
    found: dict[str, bool] = {}

    def embedded(font) -> bool:
        font = font.get_object()
        if font.get("/Subtype") == "/Type0":
            return all(embedded(d) for d in font["/DescendantFonts"])
        desc = font.get("/FontDescriptor")
        if desc is None:
            return False
        desc = desc.get_object()
        return any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))

    for page in reader.pages:
        res = page.get("/Resources")
        if res is None:
            continue
        fonts = res.get_object().get("/Font")
        if fonts is None:
            continue
        for _name, ref in fonts.get_object().items():
            f = ref.get_object()
            found[str(f.get("/BaseFont"))] = embedded(f)
    return sorted(found.items())


def flat(text: str) -> str:
    """Text without whitespace (pypdf breaks lines inside table cells)."""
    return "".join(text.split())
