"""Only ``desktop/store`` talks SQL on the desk: services, pages, the sync client, the CLI
and the document renderer call store functions (ARCHITECTURE.md, "store owns SQL"). A row
change goes through the store's journal (row + audit + outbox together), never a
hand-written ``record_change`` outside it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ABOVE_THE_STORE = ("services", "gui", "sync", "cli", "documents")
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|WITH|CREATE|ALTER|DROP|PRAGMA)\s")
STORE_CALLS = {"execute", "executemany", "executescript", "query", "query_one", "record_change"}


def findings(source: str) -> list[str]:
    """What in ``source`` bypasses the store: SQL text, or a call that runs SQL."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if SQL.match(node.value):
                out.append(f"line {node.lineno}: SQL text {node.value[:40]!r}")
        elif isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            on_self = isinstance(f, ast.Attribute) and getattr(f.value, "id", "") == "self"
            if name in STORE_CALLS and not on_self:  # Page.query() runs a page's read
                out.append(f"line {node.lineno}: calls {name}()")
    return out


def desk_modules_above_the_store() -> list[Path]:
    return sorted(p for part in ABOVE_THE_STORE for p in (ROOT / "desktop" / part).rglob("*.py"))


def test_nothing_above_the_store_runs_sql():
    bad = {}
    for path in desk_modules_above_the_store():
        found = findings(path.read_text(encoding="utf-8"))
        if found:
            bad[str(path.relative_to(ROOT))] = found
    assert not bad, bad


@pytest.mark.parametrize(
    "source",
    [
        'rows = store.query("SELECT * FROM payment")',
        'db.conn.execute("UPDATE person SET name = ? WHERE id = ?", ("x", "y"))',
        "record_change(db, operator_id=None, action='a', entity='e', entity_id='1',"
        " before=None, after=None)",
        'sql = "  DELETE FROM outbox"',
    ],
)
def test_the_check_catches_a_bypass(source):
    assert findings(source)


def test_the_check_passes_store_calls():
    assert not findings("from desktop.store import payments\nrow = payments.by_id(store, 'x')")
    assert not findings("self.query(lambda: 1, self.show)")  # a page's read on the worker
