"""``township-desk --self-test``: prove an installed copy (or a frozen bundle) works.

In a throw-away folder it opens a new store (all migrations), seeds the demo service point,
makes and checks a backup with the online backup API, imports the keyring backend of this
platform, starts Qt offscreen in Chinese with the bundled font, renders every page of the
main window and the settings dialog to PNG, and writes a receipt PDF with the embedded font.
Prints one line per check; exit code 0 only when every check passed.

Run it on a county technician's PC after installing, and in CI against the PyInstaller
bundle (tests/ops/test_ops_bundle.py).
"""

from __future__ import annotations

# The project's imports sit inside the checks on purpose: a module that fails to import in
# a frozen bundle (a missing DLL, a hidden import PyInstaller did not see) must show up as
# one failed check with its message, not stop the self-test before it reports anything.
import logging
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)


class SelfTest:
    def __init__(self, work: Path, out=None):
        self.work = work
        self.out = out
        self.failures: list[str] = []
        self.results: list[tuple[str, bool, str]] = []

    def say(self, line: str) -> None:
        log.info("self-test: %s", line)
        stream = self.out if self.out is not None else sys.stdout
        if stream is not None:  # a windowed .exe on Windows has no stdout
            try:
                print(line, file=stream, flush=True)
            except (OSError, UnicodeEncodeError):
                print(line.encode("ascii", "replace").decode(), file=stream, flush=True)

    def check(self, name: str, fn: Callable[[], str | None]) -> object:
        t0 = time.perf_counter()
        try:
            detail = fn()
        except Exception as exc:  # every failure is reported, then the next check runs
            self.failures.append(name)
            self.results.append((name, False, repr(exc)))
            self.say(f"FAIL {name}: {type(exc).__name__}: {exc}")
            log.error("self-test %s failed\n%s", name, traceback.format_exc())
            return None
        ms = (time.perf_counter() - t0) * 1000
        self.results.append((name, True, detail or ""))
        self.say(f"ok   {name} ({ms:.0f} ms){': ' + detail if detail else ''}")
        return detail


def _private_keyring():
    """The self-test's keys (store, receipts) live in memory only: it leaves nothing in
    the PC's credential store. Returns the keyring to put back."""
    import keyring  # deferred: each check loads only its own area
    import keyring.backend  # deferred: each check loads only its own area

    class SelfTestKeyring(keyring.backend.KeyringBackend):
        priority = 1

        def __init__(self):
            super().__init__()
            self.items: dict = {}

        def get_password(self, service, username):
            return self.items.get((service, username))

        def set_password(self, service, username, password):
            self.items[(service, username)] = password

        def delete_password(self, service, username):
            self.items.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(SelfTestKeyring())
    return previous


def run_self_test(out=None, keep: Path | None = None) -> int:
    """Run every check; returns the exit code (0 = all passed)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="township-selftest-"))
    work.mkdir(parents=True, exist_ok=True)
    t = SelfTest(work, out)
    state: dict = {}
    previous = _private_keyring()
    try:
        _run(t, state)
    finally:
        store = state.get("store")
        if store is not None:
            ctx = state.get("ctx")
            if ctx is not None:
                ctx.tasks.shutdown()
            store.close()
        import keyring  # deferred: each check loads only its own area

        keyring.set_keyring(previous)
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
    if t.failures:
        t.say(f"SELF-TEST FAILED: {', '.join(t.failures)}")
        return 1
    t.say(f"SELF-TEST PASSED ({len(t.results)} checks)")
    return 0


def _run(t: SelfTest, state: dict) -> None:
    from desktop import __version__, paths  # deferred: each check loads only its own area

    frozen = bool(getattr(sys, "frozen", False))
    t.say(
        f"township-desk {__version__} self-test; frozen={frozen}; python {sys.version.split()[0]}"
    )

    def shipped() -> str:
        font = paths.font_path()
        migrations = sorted(p.name for p in paths.migrations_dir("desktop").glob("*.sql"))
        if not font.is_file() or font.stat().st_size < 1_000_000:
            raise FileNotFoundError(f"bundled font missing: {font}")
        if not migrations or not migrations[0].startswith("0001"):
            raise FileNotFoundError(f"migrations missing in {paths.migrations_dir('desktop')}")
        return f"{paths.resources_dir()}; {len(migrations)} migrations"

    t.check("shipped files (font, migrations)", shipped)

    def store() -> str:
        from desktop.services import registration  # deferred: each check loads only its own area
        from desktop.services.demo import seed_demo  # deferred: each check loads only its own area
        from desktop.store import open_store  # deferred: each check loads only its own area

        s = open_store(t.work / "data")  # its key goes to the self-test's own keyring
        state["store"] = s
        state["actor"] = seed_demo(s)
        if not s.integrity_ok():
            raise RuntimeError("integrity_check failed on a new store")
        n = registration.count_persons(s)
        return f"{s.path}; {n} demo persons"

    t.check("store: migrations, demo data", store)

    def backups() -> str:
        from desktop.services import backup  # deferred: each check loads only its own area

        info = backup.create_backup(state["store"], t.work / "data", kind="manual")
        problems = backup.check_database(info.path)
        if problems:
            raise RuntimeError(problems)
        if not backup.startup_check(t.work / "data").ok:
            raise RuntimeError("start-up check failed on a sound store")
        return f"{info.path.name} {info.size} bytes"

    t.check("backup (online backup API) and integrity check", backups)

    def keyring_backend() -> str:
        import importlib  # deferred: each check loads only its own area

        name = {"win32": "keyring.backends.Windows", "darwin": "keyring.backends.macOS"}.get(
            sys.platform, "keyring.backends.SecretService"
        )
        importlib.import_module(name)
        import keyring.backends.fail  # noqa: F401 (keyring's fallback when none is usable)

        return name

    t.check("keyring backend bundled", keyring_backend)

    if "store" in state:
        t.check("GUI: every page renders offscreen", lambda: _pages(t, state))
    t.check("receipt PDF with the embedded font", lambda: _receipt(t, state))


def _settle(app, ctx, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        app.processEvents()
        if ctx.tasks.idle:
            break
        time.sleep(0.01)
    for _ in range(5):
        app.processEvents()


def _pages(t: SelfTest, state: dict) -> str:
    from PySide6.QtWidgets import QApplication  # deferred: each check loads only its own area

    from desktop.gui.app import (
        create_qapplication,
        make_context,
    )  # deferred: each check loads only its own area
    from desktop.gui.main_window import MainWindow  # deferred: each check loads only its own area
    from desktop.gui.pages import PAGES  # deferred: each check loads only its own area
    from desktop.gui.settings_dialog import (
        SettingsDialog,
    )  # deferred: each check loads only its own area

    app = create_qapplication()
    if QApplication.translate("QPlatformTheme", "Cancel") != "取消":
        raise RuntimeError("Qt's zh_CN translation (qtbase_zh_CN.qm) is not loaded")
    ctx = make_context(state["store"], state["actor"], t.work / "data")
    state["ctx"] = ctx
    window = MainWindow(ctx)
    window.resize(1366, 768)
    window.show()
    shots = t.work / "screens"
    shots.mkdir(exist_ok=True)
    done = []
    for spec in PAGES:
        window.show_page(spec.key)
        _settle(app, ctx)
        image = window.grab().toImage()
        if image.isNull() or image.width() < 800:
            raise RuntimeError(f"page {spec.key} did not render")
        image.save(str(shots / f"{spec.key}.png"))
        done.append(spec.key)
    if window.page("home").charts is None:
        raise RuntimeError("the home page's charts did not draw")
    dialog = SettingsDialog(ctx, window)
    dialog.show()
    _settle(app, ctx)
    if dialog.grab().toImage().isNull():
        raise RuntimeError("settings dialog did not render")
    dialog.close()
    window.close()
    _settle(app, ctx)
    return f"{', '.join(done)} + settings"


def _receipt(t: SelfTest, state: dict) -> str:
    """The receipt PDF through the receipts service when it is in this build, else straight
    through the documents module (issue 5) with the demo service point."""
    out = t.work / "documents"
    out.mkdir(exist_ok=True)
    pdfs: list[Path] = []
    try:
        from desktop.services.receipts import (
            write_demo_documents,
        )  # deferred: each check loads only its own area
    except ImportError:
        write_demo_documents = None
    if write_demo_documents is not None and "store" in state:
        pdfs = [Path(p) for p in write_demo_documents(state["store"], state["actor"], out)]
    else:
        import datetime as dt  # deferred: each check loads only its own area
        import secrets  # deferred: each check loads only its own area

        from core.receipt import (
            ReceiptFacts,
            receipt_document,
        )  # deferred: each check loads only its own area
        from desktop.documents.render import (
            render_document,
        )  # deferred: each check loads only its own area
        from desktop.services import setup  # deferred: each check loads only its own area

        sp = (setup.service_point(state["store"]) or {}) if "store" in state else {}
        facts = ReceiptFacts(
            service_point=sp.get("name", "自检服务点"),
            receipt_no="SELFTEST-01-00000001",
            name="自检",
            cert_type="居民身份证",
            cert_no="140121200001010013",
            region="140121",
            insured_category="普通居民",
            subsidy_category="无",
            year=dt.date.today().year,
            amount_due="400.00",
            personal_amount="400.00",
            subsidy_amount="0.00",
            subsidy_payer="",
            paid_at=dt.datetime.now().isoformat(timespec="seconds"),
            channel="现金",
            benefit_start=f"{dt.date.today().year}-01-01",
            benefit_end=f"{dt.date.today().year}-12-31",
            waiting_months=0,
            continuous_years=1,
            operator="自检",
        )
        doc = receipt_document(
            facts,
            printed_at=dt.datetime.now().isoformat(timespec="seconds"),
            mac_key=secrets.token_bytes(32),
            key_id="selftest",
        )
        path = out / "receipt.pdf"
        path.write_bytes(render_document(doc, page="A5"))
        pdfs = [path]
    if not pdfs:
        raise RuntimeError("no PDF written")
    for p in pdfs:
        data = p.read_bytes()
        if not data.startswith(b"%PDF") or b"/FontFile2" not in data:
            raise RuntimeError(f"{p.name}: not a PDF with an embedded TrueType font")
    detail = ", ".join(f"{p.name} {p.stat().st_size} bytes" for p in pdfs)
    try:  # the print preview's rasteriser (pdfium), when this build has it
        from desktop.gui import print_support  # deferred: each check loads only its own area
    except ImportError:
        return detail
    from desktop.gui.app import create_qapplication  # deferred: each check loads only its own area

    create_qapplication()
    (image,) = print_support.page_images(pdfs[0].read_bytes(), 72.0, first=0, last=0)
    if image.isNull() or image.width() < 100:
        raise RuntimeError("pdfium could not render the receipt for the print preview")
    return f"{detail}; preview page {image.width()}x{image.height()} px"
