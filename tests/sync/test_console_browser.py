"""The county console in a real browser (Debian's Chromium driven by Playwright) against the
real county server (uvicorn, PostgreSQL) and real desks: log in, issue a registration code
and register a desk with it, resolve a double enrollment two desks made and see the
resolution reach both, open the reports with their charts, and be refused after logging
out. Screenshots of every page go to $TOWNSHIP_SCREENSHOTS when set (the README's pictures:
``TOWNSHIP_SCREENSHOTS=docs/img/console scripts/test tests/sync/test_console_browser.py``)."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest

from county import admin
from county.console.auth import create_staff
from desktop.services import contribution, registration
from desktop.services import sync as svc
from desktop.services.demo import make_id
from desktop.services.setup import ServicePointInput, run_setup
from desktop.store import open_store

pytestmark = [pytest.mark.postgres, pytest.mark.browser]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ZHANG = make_id("140121", "1970-01-01", 1, "male")
SHANXI = Path(__file__).resolve().parents[2] / "resources" / "policies" / "shanxi-2025.toml"


@pytest.fixture
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


# what a template shows when it reads the wrong thing: a Python object, a missing value, a
# script's failure (a dict row's key named like a dict method once printed
# "<built-in method update of dict object at 0x…>" under every desk's version)
LEAKS = re.compile(r"object at 0x|<built-in|<bound method|Traceback|\bNone\b|\bundefined\b|\bNaN\b")


def shot(page, tmp_path: Path, name: str) -> None:
    """Screenshot of the page (after checking that its text shows nothing of the code)."""
    leak = LEAKS.search(page.inner_text("body"))
    assert leak is None, f"{name}: {leak.group(0)!r} on the page"
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    out = os.environ.get("TOWNSHIP_SCREENSHOTS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(out) / path.name)


def new_desk(root: Path, url: str, sp_code: str, sp_name: str, code: str):
    d = root / sp_code
    store = open_store(d)
    actor = run_setup(
        store,
        ServicePointInput(name=sp_name, region_code="140121", code=sp_code, villages=["东村"]),
        admin_username="admin",
        admin_name="王主管",
        admin_password="admin123",
    )
    svc.register_device(store, d, url, code, actor=actor)
    return store, actor, d


def enroll_zhang(store, actor) -> None:
    village = store.query_one("SELECT id FROM village LIMIT 1")["id"]
    h = registration.create_household(
        store,
        actor,
        {"village_id": village, "address": "一组"},
        [{"name": "张三", "sex": "male", "birth_date": "1970-01-01", "cert_no": ZHANG}],
    )
    contribution.record_payment(
        store,
        actor,
        {
            "person_id": h.person_ids[0],
            "year": 2025,
            "amount": "400",
            "channel": "cash",
            "paid_on": "2024-10-10",
        },
        today=dt.date(2025, 3, 20),
    )


def test_a_case_worker_at_the_console(browser, county_server, fast_dir, mem_keyring, tmp_path):
    county_server.service_point("SP01", "东乡卫生院")
    county_server.service_point("SP02", "西乡卫生院")
    with county_server.conn() as c, c.transaction():
        create_staff(c, "boss", "李局长", "admin", "admin-pass-1")
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    base = county_server.url + "/console"

    page.goto(base + "/")
    assert page.url.endswith("/console/login")
    shot(page, tmp_path, "01-login")
    page.fill("#username", "boss")
    page.fill("#password", "wrong")
    page.click("#login")
    assert "不正确" in page.inner_text("#error")
    page.fill("#username", "boss")
    page.fill("#password", "admin-pass-1")
    page.click("#login")
    page.wait_for_url("**/console/devices")
    assert "东乡卫生院" in page.inner_text("#points")

    # a registration code, and a desk registered with it
    page.select_option("#code_point", "SP01")
    page.click("#issue_code")
    code = page.inner_text("#code").strip()
    shot(page, tmp_path, "02-code")
    a = new_desk(fast_dir, county_server.url, "SP01", "东乡卫生院", code)
    with county_server.conn() as c, c.transaction():
        b_code = admin.issue_device_code(c, "SP02", 72)["code"]
    b = new_desk(fast_dir, county_server.url, "SP02", "西乡卫生院", b_code)
    page.goto(base + "/devices")
    assert page.locator("#devices tbody tr").count() == 2
    shot(page, tmp_path, "03-devices")

    # two desks enroll the same resident for the same year: a conflict to resolve
    for store, actor, d in (a, b):
        enroll_zhang(store, actor)
        svc.run_sync(store, d, actor)
    svc.run_sync(a[0], a[2], a[1])
    page.goto(base + "/conflicts")
    rows = page.locator("#conflicts tbody tr")
    assert rows.count() >= 1 and "重复参保" in page.inner_text("#conflicts")
    # the points' names may go onto two lines, but between names (it broke 西乡卫/生院)
    names = page.locator("#conflicts td.points span").evaluate_all(
        "ss => ss.map(s => [s.innerText, new Set([...s.getClientRects()]"
        ".map(x => Math.round(x.top))).size])"
    )
    assert ["东乡卫生院", 1] in names and ["西乡卫生院", 1] in names, names
    assert all(n == 1 for _, n in names), names
    shot(page, tmp_path, "04-conflicts")
    page.locator("#conflicts tbody tr", has_text="重复参保").locator("a").click()
    assert "重复参保" in page.inner_text("h1")
    sides = page.inner_text("#sides")
    assert "东乡卫生院" in sides and "西乡卫生院" in sides and "✓ 保留" in sides
    assert "已缴费" in sides and "True" not in sides
    shot(page, tmp_path, "05-conflict")
    page.select_option("#decision", "keep")
    page.fill("#note", "东乡卫生院为户籍所在地，保留其参保登记；西乡请办理退费。")
    page.click("#resolve")
    page.wait_for_url("**/console/conflicts")
    assert "重复参保" not in page.inner_text("#conflicts")  # resolved: no longer open
    # the resolved conflict says who decided, by the account's name
    page.goto(base + "/conflicts?state=resolved")
    page.locator("#conflicts tbody tr", has_text="重复参保").locator("a").click()
    assert "由李局长处理：东乡卫生院为户籍所在地" in page.inner_text("#resolved")

    # the resolution reaches both desks at their next sync
    for store, actor, d in (a, b):
        svc.run_sync(store, d, actor)
        items = svc.inbox(store, include_resolved=True)
        texts = " ".join(i["action"] + i["title"] + (i.get("message") or "") for i in items)
        assert "已处理" in texts and "西乡请办理退费" in texts, texts
        # which registration stands, by its service point — never a registration's id
        assert "县医保部门已裁定保留东乡卫生院的2025年度参保登记" in texts, texts
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", texts), texts

    # each desk's last report: nothing waiting, last sync fine
    page.goto(base + "/devices")
    devices = page.inner_text("#devices")
    assert devices.count("正常") == 2, devices
    shot(page, tmp_path, "03-devices")
    page.click("#points >> text=东乡卫生院")  # one service point: villages, operators
    assert "东村" in page.inner_text("#villages")
    assert "王主管" in page.inner_text("#operators"), page.inner_text("#operators")
    shot(page, tmp_path, "09-point")

    # a broken policy file, then a correct one: checked, previewed, published, received
    page.on("dialog", lambda d: d.accept())  # "确定发布？"
    broken = tmp_path / "坏的政策.toml"
    broken.write_text(
        SHANXI.read_text(encoding="utf-8").replace('ratio = "0.85"', 'ratio = "1.85"', 1),
        encoding="utf-8",
    )
    page.goto(base + "/policies")
    page.set_input_files("#upload", str(broken))
    page.click("#check")
    assert "政策文件有误" in page.inner_text("#error")
    page.set_input_files("#upload", str(SHANXI))
    page.click("#check")
    assert "检查通过" in page.inner_text("#checked")
    assert page.locator("#preview tbody tr").count() > 10
    shot(page, tmp_path, "07-policy-preview")
    page.click("#publish")
    assert "已发布第1版" in page.inner_text("#done")
    svc.run_sync(a[0], a[2], a[1])
    assert list((a[2] / "policies").glob("*.toml")), "the desk did not receive the policy"

    # an import: dry run first (nothing written), then applied
    roster = tmp_path / "花名册.csv"
    new_ids = [make_id("140121", "1985-05-05", i, "female") for i in (3, 4)]
    roster.write_text(
        "身份证号,姓名,服务点编码,户号,村\n"
        f"{new_ids[0]},新居民,SP01,D07,东村\n"
        f"{new_ids[1]},新居民,SP01,,东村\n"  # no 户号: imported, its 村 said not recorded
        "不是号码,坏行,SP01,D07,东村\n",
        encoding="utf-8",
    )
    page.goto(base + "/imports")
    page.select_option("#kind", "roster")
    page.set_input_files("#upload", str(roster))
    page.click("#try")
    assert "新增 2" in page.inner_text("#summary") and "有问题 1" in page.inner_text("#summary")
    assert "没有户号，村“东村”未记入" in page.inner_text("#notes")
    shot(page, tmp_path, "08-import-dry-run")
    assert (
        county_server.sql("SELECT count(*) AS n FROM person WHERE cert_no = ANY(%s)", (new_ids,))[
            0
        ]["n"]
        == 0
    )
    page.click("#apply")
    assert "已导入" in page.inner_text("#result")
    assert (
        county_server.sql("SELECT count(*) AS n FROM person WHERE cert_no = ANY(%s)", (new_ids,))[
            0
        ]["n"]
        == 2
    )

    # reports with their charts
    page.goto(base + "/reports?year=2025")
    page.wait_for_selector("body[data-charts=ready]")
    assert page.locator("#rate_chart canvas").count() >= 1
    points = page.inner_text("#points")
    assert "东乡卫生院" in points and "东村" in page.inner_text("#villages")
    # a column of figures and its heading line up on the right (the headings sat left)
    for table in ("points", "villages"):
        heads = page.locator(f"#{table} th").evaluate_all(
            "hs => hs.map(h => [h.innerText, getComputedStyle(h).textAlign])"
        )
        aligned = dict(heads)
        assert aligned["服务点"] in ("left", "start") and aligned["登记人数"] == "right"
        assert aligned["参保率"] == "right"
    shot(page, tmp_path, "06-reports")
    # the payments chart counts 笔: its axis marks whole numbers (it once read 0.5, 1.5)
    ticks = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('pay_chart')).getModel()"
        ".getComponent('yAxis').axis.scale.getTicks().map(t => t.value)"
    )
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks
    assert not [e for e in errors if "Content Security Policy" in e], errors

    # the two pages left: each shows its words and nothing of the code
    with county_server.conn() as c, c.transaction():
        c.execute(
            "INSERT INTO poverty_alert(id, person_id, sp_id, device_id, year, category, burden,"
            " threshold, basis, raised_at) SELECT 'alert-1', p.id, p.home_sp_id, d.id, 2025,"
            " 'monitored', 6300, 5000, '本机已结算的测算', '2025-06-01T10:00:00+08:00'"
            " FROM person p JOIN device d ON d.service_point_id = p.home_sp_id LIMIT 1"
        )
    page.goto(base + "/alerts")
    assert "因病返贫" in page.inner_text("h1")
    # a resident's name, ID number, point, village and time each on one line at 1366 wide
    # (the name once broke as 乙居/民 beside the wide columns)
    lines = page.locator("#alerts tbody tr:first-child td").evaluate_all(
        "tds => [0, 1, 2, 3, 9].map(i => { const r = document.createRange();"
        " r.selectNodeContents(tds[i]); return [tds[i].innerText,"
        " new Set([...r.getClientRects()].map(x => Math.round(x.top))).size]; })"
    )
    assert [n for _, n in lines] == [1, 1, 1, 1, 1], lines
    shot(page, tmp_path, "10-alerts")
    page.goto(base + "/updates")
    assert "程序更新" in page.inner_text("h1")
    assert "0.1.0" in page.inner_text("body")
    # nothing imported yet: no empty list of versions to offer, 暂不升级 chosen
    assert page.locator("#offer select").count() == 0 and page.is_visible("#no_release")
    assert page.is_checked("#offer input[value=hold]")
    shot(page, tmp_path, "11-updates")

    # logging out ends it
    page.click("header .who button")
    page.wait_for_url("**/console/login")
    page.goto(base + "/reports")
    assert page.url.endswith("/console/login")
    for store, _actor, _d in (a, b):
        store.close()
