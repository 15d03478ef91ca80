"""County year-to-date figures (本年累计) per person and year: the admin import
(``township-county import-ytd``) and the ``ytd`` rows sent on every service point's stream
that holds the person. The desktop hands them to its estimator with their as-of time."""

from __future__ import annotations

import datetime as dt

import psycopg

from core import syncproto as sp
from core.ids import check_id
from county.db import emit, jsonb, person_by_cert, sp_stream
from county.model import CHINA, OpRejected, mask, parse_money
from county.tables import AdminError, ImportReport, _pick, import_rows, outside


def parse_as_of(text: str, now: dt.datetime | None = None) -> str:
    """The time the county's figures were taken, as ISO 8601 with an offset. A date means
    the end of that day; a time without offset is China time; empty means now."""
    text = (text or "").strip()
    if not text:
        return (now or dt.datetime.now(CHINA)).isoformat(timespec="seconds")
    try:
        if len(text) == 10:
            d = dt.date.fromisoformat(text)
            t = dt.datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=CHINA)
        else:
            t = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
            if t.tzinfo is None:
                t = t.replace(tzinfo=CHINA)
    except ValueError:
        raise AdminError(
            f"截至时间“{text[:30]}”格式不对，应为 2025-06-30 或 2025-06-30T18:00:00+08:00"
        ) from None
    return t.isoformat(timespec="seconds")


def row_figures(row: dict) -> dict[str, str]:
    """The figures given in one import row (by field name or Chinese label); empty cells
    are not given."""
    out: dict[str, str] = {}
    for name, label in sp.YTD_FIELDS.items():
        value = _pick(row, name, label)
        if value:
            out[name] = f"{parse_money(value.replace(',', ''), name):.2f}"
    return out


def import_ytd(
    conn: psycopg.Connection, rows: list[dict], first_row: int = 2, region: str | None = None
) -> ImportReport:
    """Columns: 身份证号, 年度, 截至时间 (optional), and any of the year-to-date fields
    (``syncproto.YTD_FIELDS``, by name or Chinese label). Figures not in a row keep their
    previous county value; the as-of time is the row's. Each row in its own savepoint.
    ``region``: the one county the importing account works for (others' are refused)."""
    return import_rows(
        conn, rows, first_row, lambda c, row: _ytd_row(c, row, region), (OpRejected,)
    )


def _ytd_row(conn, row: dict, region: str | None = None) -> str:
    cert = _pick(row, "身份证号", "公民身份号码", "cert_no").upper()
    chk = check_id(cert)
    if not chk.valid:
        raise AdminError(f"身份证号 {cert[:20]}：{chk.message}")
    year_s = _pick(row, "年度", "参保年度", "year")
    if not (year_s.isdigit() and 2000 <= int(year_s) <= 2100):
        raise AdminError("年度应为4位年份")
    year = int(year_s)
    figures = row_figures(row)
    if not figures:
        names = "、".join(sp.YTD_FIELDS.values())
        raise AdminError(f"这一行没有任何累计数（列名应为：{names}）")
    as_of = parse_as_of(_pick(row, "截至时间", "截至日期", "as_of"))
    # read in the account's county first; else in one county by the number (0025)
    person = person_by_cert(conn, "resident_id", chk.normalized, "id, region", county=region)
    if person is None:
        raise AdminError(f"县里没有身份证号为 {mask(chk.normalized)} 的居民（先导入花名册）")
    if region and person["region"] != region:
        raise AdminError(outside(region, f"身份证号为 {mask(chk.normalized)} 的居民"))
    held = conn.execute(
        "SELECT version, as_of, figures FROM person_ytd WHERE person_id = %s AND year = %s"
        " FOR UPDATE",
        (person["id"], year),
    ).fetchone()
    if held is None:
        version, merged, outcome = 1, figures, "created"
        conn.execute(
            "INSERT INTO person_ytd(person_id, year, version, as_of, figures)"
            " VALUES (%s, %s, 1, %s, %s)",
            (person["id"], year, as_of, jsonb(merged)),
        )
    else:
        merged = {**held["figures"], **figures}
        if merged == held["figures"] and as_of == held["as_of"]:
            return "unchanged"
        version, outcome = held["version"] + 1, "updated"
        conn.execute(
            "UPDATE person_ytd SET version = %s, as_of = %s, figures = %s, updated_at = now()"
            " WHERE person_id = %s AND year = %s",
            (version, as_of, jsonb(merged), person["id"], year),
        )
    emit_ytd(conn, person["id"], year, version, as_of, merged)
    return outcome


def ytd_data(person_id: str, year: int, as_of: str, figures: dict) -> dict:
    return {"person_id": person_id, "year": int(year), "as_of": as_of, "figures": figures}


def emit_ytd_to(conn, person_id: str, sp_id: str) -> None:
    """A service point newly linked to a person (a merge, a roster row) gets the county's
    figures already held for that person."""
    for r in conn.execute(
        "SELECT year, version, as_of, figures FROM person_ytd WHERE person_id = %s ORDER BY year",
        (person_id,),
    ).fetchall():
        data = ytd_data(person_id, r["year"], r["as_of"], r["figures"])
        emit(conn, sp_stream(sp_id), sp.E_YTD, sp.ytd_id(person_id, r["year"]), r["version"], data)


def emit_ytd(conn, person_id: str, year: int, version: int, as_of: str, figures: dict) -> None:
    """To every service point that holds the person."""
    data = ytd_data(person_id, year, as_of, figures)
    for link in conn.execute(
        "SELECT sp_id FROM person_link WHERE person_id = %s AND sent IS NULL ORDER BY sp_id",
        (person_id,),
    ).fetchall():
        emit(conn, sp_stream(link["sp_id"]), sp.E_YTD, sp.ytd_id(person_id, year), version, data)
