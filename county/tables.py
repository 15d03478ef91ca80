"""Tables the county imports (CSV or Excel rows as dicts), the error an administrative
command raises, and the report of a row import (new / changed / unchanged / refused with
the row number) — shared by the roster, payment and YTD imports."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg


class AdminError(ValueError):
    def __init__(self, message: str, status: int = 400, code: str = "invalid_request"):
        self.status, self.code = status, code
        super().__init__(message)


def read_table(path: str | Path) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8, with or without BOM; GBK accepted) or .xlsx (first sheet) as
    dicts keyed by the header row; cells as trimmed strings."""
    p = Path(path)
    if not p.exists():
        raise AdminError(f"找不到文件：{p}")
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl  # deferred: openpyxl loads slowly; only Excel files need it

        try:
            wb = openpyxl.load_workbook(p, read_only=True, data_only=True)
        except Exception as e:  # noqa: BLE001 — openpyxl raises many kinds
            raise AdminError(f"无法读取Excel文件：{p.name}（{type(e).__name__}）") from e
        ws = wb.worksheets[0]
        rows = [["" if c is None else _cell(c) for c in r] for r in ws.iter_rows(values_only=True)]
        wb.close()
    elif p.suffix.lower() in (".csv", ".txt"):
        raw = p.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise AdminError(f"无法识别文件编码：{p.name}（请存为UTF-8的CSV）")
        rows = list(csv.reader(io.StringIO(text)))
    else:
        raise AdminError(f"只支持 .csv 和 .xlsx 文件：{p.name}")
    rows = [r for r in rows if any(str(c).strip() for c in r)]
    if not rows:
        raise AdminError(f"文件是空的：{p.name}")
    header = [str(h).strip() for h in rows[0]]
    return [
        {header[i]: str(v).strip() for i, v in enumerate(r) if i < len(header) and header[i]}
        for r in rows[1:]
    ]


def _cell(v) -> str:
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _pick(row: dict, *names: str) -> str:
    for n in names:
        if row.get(n):
            return row[n]
    return ""


def _code(value: str, table: dict[str, str], what: str) -> str:
    if value in table:
        return value
    for k, v in table.items():
        if v == value:
            return k
    raise AdminError(f"{what}“{value}”不在代码表中")


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    # rows taken, with something left out that the file meant (a 村 with no 户号 to hang on)
    notes: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "errors": [{"row": r, "message": m} for r, m in self.errors],
            "notes": [{"row": r, "message": m} for r, m in self.notes],
        }

    def add(self, other: ImportReport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.errors += other.errors
        self.notes += other.notes

    def summary(self) -> str:
        return (
            f"新增 {self.created}，更新 {self.updated}，未变 {self.unchanged}，"
            f"错误 {len(self.errors)}" + (f"，提示 {len(self.notes)}" if self.notes else "")
        )


def import_rows(
    conn: psycopg.Connection,
    rows: list[dict],
    first_row: int,
    one_row: Callable[[psycopg.Connection, dict], str | tuple[str, str]],
    refusals: tuple[type[Exception], ...] = (),
) -> ImportReport:
    """The one row-import loop of the roster, payment and YTD imports: each row in its own
    savepoint, counted by what ``one_row`` returns (created / updated / unchanged, or that
    and a note for the row); a row it refuses (AdminError or one of ``refusals``) is
    reported with its number and the others go in."""
    rep = ImportReport()
    for i, row in enumerate(rows, start=first_row):
        try:
            with conn.transaction():
                outcome = one_row(conn, row)
            if isinstance(outcome, tuple):
                outcome, note = outcome
                rep.notes.append((i, note))
            setattr(rep, outcome, getattr(rep, outcome) + 1)
        except (AdminError, *refusals) as e:
            rep.errors.append((i, str(e)))
    return rep


IMPORT_CHUNK = 1000


def outside(region: str, what: str) -> str:
    """A row refused because it is another county's (the account works for ``region``)."""
    return f"{what}不属于本账号管的区划 {region}，未导入（请该县医保局导入）"


def run_import(conn, rows: list[dict], fn, *, dry_run: bool = False, progress=None) -> ImportReport:
    """Import ``rows`` with ``fn`` (roster, tax payments, YTD figures) in committed chunks of
    1,000 rows (a desk's push never waits long); ``dry_run``: the same work in one
    transaction that is rolled back, so the report says what would happen and nothing is
    written. The command line and the console both call this; ``progress(rows_done)`` is
    called after each chunk (the console's progress bar)."""
    rep = ImportReport()
    if dry_run:
        with conn.transaction(force_rollback=True):
            for start in range(0, len(rows), IMPORT_CHUNK):
                rep.add(fn(conn, rows[start : start + IMPORT_CHUNK], first_row=start + 2))
                if progress:
                    progress(min(start + IMPORT_CHUNK, len(rows)))
        return rep
    for start in range(0, len(rows), IMPORT_CHUNK):
        with conn.transaction():
            rep.add(fn(conn, rows[start : start + IMPORT_CHUNK], first_row=start + 2))
        if progress:
            progress(min(start + IMPORT_CHUNK, len(rows)))
    return rep
