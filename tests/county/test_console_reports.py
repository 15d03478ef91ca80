"""The console's report figures equal the truth of a generated county (what the generator
wrote), and an independent SQL count; the Excel export carries the same figures."""

from __future__ import annotations

import io

import pytest

from county.console import reports
from county.console.auth import create_staff
from county.console.generate import generate

pytestmark = pytest.mark.postgres


def test_coverage_equals_the_generated_truth(county):
    with county.conn() as c, c.transaction():
        truth = generate(c, points=4, residents=2_000, year=2026)
    with county.conn() as c:
        cov = reports.coverage(c, 2026)
        independent = c.execute(
            "SELECT count(*) AS n FROM enrollment e WHERE e.year = 2026 AND EXISTS"
            " (SELECT 1 FROM payment p WHERE p.enrollment_id = e.id AND p.amount > 0)"
        ).fetchone()["n"]
    assert len(cov["villages"]) == len(truth["registered"]) == 20
    for v in cov["villages"]:
        key = (v["point"], v["village"])
        assert v["registered"] == truth["registered"][key], key
        assert v["paid"] == truth["paid"][key], key
        assert v["subsidized"] == truth["subsidized"][key], key
        covered = truth["paid"][key] + truth["subsidized"][key]
        assert v["rate"] == round(100 * covered / truth["registered"][key], 1)
        assert v["last_rate"] == round(
            100 * truth["last_covered"][key] / truth["registered"][key], 1
        )
    assert sum(p["paid"] for p in cov["points"]) == sum(truth["paid"].values()) == independent
    assert sum(p["registered"] for p in cov["points"]) == 2_000


def test_the_export_carries_the_same_figures(county):
    from openpyxl import load_workbook

    with county.conn() as c, c.transaction():
        generate(c, points=2, residents=300, year=2026)
        create_staff(c, "look", "赵科员", "viewer", "viewer-pass-1")
    import re

    page = county.client.get("/console/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)
    county.client.post(
        "/console/login",
        data={"username": "look", "password": "viewer-pass-1", "login_token": token},
    )
    x = county.client.get("/console/reports/export?table=points&year=2026")
    rows = list(load_workbook(io.BytesIO(x.content)).active.values)
    with county.conn() as c:
        cov = reports.coverage(c, 2026)
    assert rows[0][0] == "服务点" and len(rows) == 1 + len(cov["points"])
    for row, p in zip(rows[1:], cov["points"], strict=True):
        assert row[:6] == (
            p["point"],
            p["registered"],
            p["paid"],
            p["subsidized"],
            p["unpaid"],
            p["rate"],
        )
