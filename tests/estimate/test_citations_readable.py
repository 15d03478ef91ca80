"""Citations a resident can read (issue 13 item 8): every shipped policy cites documents by
title, number and article; no archive file name, internal note or English word reaches a
step, the 报销测算 page or a printed 报销测算单."""

from __future__ import annotations

import dataclasses
import io
import re

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt

from core.estimate import (
    AssistanceInput,
    DabingInput,
    EstimateInput,
    estimate,
    run_assistance,
    run_dabing,
)
from core.policy.benefits import SETTINGS, estimate_kind
from desktop.services import estimate as svc
from desktop.services import policies, receipts
from tests.estimate.test_estimate_page import choose, idle

INTERNAL = re.compile(
    r"\d{3}_[0-9a-f]{16}|\.(?:txt|toml|md|json)\b|reprint|SCHEMA|domain notes|acceptance|§"
)
SHIPPED = sorted(policies.load(None).policies.values(), key=lambda p: p.id)
BENEFITS = [p for p in SHIPPED if any(s in p.sections for s in (*SETTINGS, "dabing", "assistance"))]


def sources(obj):
    """Every ``source`` string in a parsed policy (sections, levels, bands, terms …)."""
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            v = getattr(obj, f.name)
            if f.name == "source" and isinstance(v, str):
                yield v
            else:
                yield from sources(v)
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from sources(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from sources(v)


def test_the_scan_catches_what_it_should():
    for bad in ("004_bd9869cec417d9dd.txt", "(reprint) 资阳", "见 SCHEMA.md", "domain notes §4"):
        assert INTERNAL.search(bad)
    assert not INTERNAL.search(
        "《山西省人民政府关于进一步完善城乡居民医疗保险政策的通知》晋政发〔2017〕36号"
    )


@pytest.mark.parametrize("pol", SHIPPED, ids=[p.id for p in SHIPPED])
def test_every_shipped_citation_is_readable(pol):
    assert pol.source and not INTERNAL.search(pol.source), pol.source
    cited = [s for s in sources(pol.sections) if s]
    assert cited
    for s in cited:
        assert not INTERNAL.search(s), (pol.id, s)
        assert not re.search(r"[A-Za-z]{3,}", s), (pol.id, s)


def bills(pol):
    """A large bill at every level of every setting, and each layer alone."""
    for s in SETTINGS:
        if pol.has(s):
            for code in pol.section(s).levels:
                yield estimate(
                    pol,
                    EstimateInput(
                        setting=s, level=code, total=500_000, category="dibao", days=30, age=8
                    ),
                )
    if pol.has("dabing"):
        yield run_dabing(pol, DabingInput(burden=300_000))
    if pol.has("assistance"):
        yield run_assistance(
            pol,
            AssistanceInput(in_policy_burden_after_basic=80_000, total=100_000, category="dibao"),
        )


@pytest.mark.parametrize("pol", BENEFITS, ids=[p.id for p in BENEFITS])
def test_every_step_cites_a_document(pol):
    for r in bills(pol):
        for step in r.steps:
            assert not INTERNAL.search(step.text + step.source), (pol.id, step)
            assert step.source, (pol.id, step.rule)


def flat(pdf: bytes) -> str:
    return "".join(
        "".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages
    )


@pytest.fixture
def clerk(store):
    from desktop.services.demo import seed_demo

    return seed_demo(store)


@pytest.mark.parametrize("pol", BENEFITS, ids=[p.id for p in BENEFITS])
def test_printed_sheets_cite_documents_not_files(store, clerk, data_dir, pol):
    given = {"total": "200000", "category": "dibao"}
    if any(pol.has(s) for s in SETTINGS):
        s = next(s for s in SETTINGS if pol.has(s))
        given.update(setting=s, level=next(iter(pol.section(s).levels)))
    elif pol.has("dabing"):
        given = {"layer": "dabing", "burden": "200000"}
    else:
        given = {
            "layer": "assistance",
            "in_policy_burden_after_basic": "50000",
            "category": "dibao",
        }
    saved = svc.save(
        store,
        clerk,
        policy_id=pol.id,
        given=given,
        anon_label="窗口咨询",
        year=pol.year,
        data_dir=data_dir,
    )
    sheet = flat(receipts.prepare(store, clerk, "estimate", saved["id"]).pdf)
    assert "依据" in sheet
    assert not INTERNAL.search(sheet), INTERNAL.search(sheet)
    assert pol.id not in sheet
    # what the estimate was of, in words (a layer alone printed its code: dabing)
    assert not re.search(r"inpatient|outpatient|pharmacy|chronic|dabing|assistance", sheet)
    assert estimate_kind(saved["setting"]) in sheet


def test_the_page_shows_documents_not_files(qtbot, store, clerk, data_dir):
    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.pages.estimate import Page

    create_qapplication()
    ctx = make_context(store, clerk, data_dir)
    try:
        page = Page(ctx)
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: page.policy.count() > 0, timeout=5000)
        seen = 0
        for pol in BENEFITS:
            choose(page.policy, pol.id)
            page.amounts["total"].setText("200000")
            page.amounts["burden"].setText("200000")
            page.amounts["in_policy_burden_after_basic"].setText("50000")
            qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
            idle(qtbot, ctx)
            s = page.steps_table
            texts = [s.item(r, c).text() for r in range(s.rowCount()) for c in range(4)]
            assert texts, pol.id
            assert not any(INTERNAL.search(t) for t in texts), (pol.id, texts)
            seen += 1
        assert seen == len(BENEFITS)
    finally:
        ctx.tasks.shutdown()
