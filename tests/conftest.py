"""Shared fixtures. Area fixtures live in tests/<area>/conftest.py."""

from __future__ import annotations

import gc
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
# Store keys and device credentials go to a keyring file of this test session (the
# developer backend in scripts/devkeyring), so that child processes find the same keys.
_DEVKEYRING = ROOT / "scripts" / "devkeyring"
sys.path.insert(0, str(_DEVKEYRING))
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(_DEVKEYRING), os.environ.get("PYTHONPATH", "")) if p
)
os.environ["PYTHON_KEYRING_BACKEND"] = "township_devkeyring.FileKeyring"
os.environ["TOWNSHIP_DEV_KEYRING"] = os.path.join(
    tempfile.mkdtemp(prefix="township-keyring-"), "keyring.json"
)
# the repository keeps its own copy of ../shared/acceptance (a bare clone must pass);
# tests/test_acceptance_copy.py checks that the copy equals ../shared where it exists
ACCEPTANCE = ROOT / "tests" / "data" / "acceptance" / "cases.json"


@pytest.fixture(autouse=True)
def _collect_widget_cycles(request):
    """After a test with widgets (and after its store and context are closed), collect the
    reference cycles it left (a dialog and the callbacks that name it). Left to chance, the
    collection ran inside the next test's first QWidget and crashed the process about one
    run in four (tests/receipts, at the 打印 page). The app has one store and one context
    for its whole life, so it does not meet this."""
    yield
    if "qtbot" in request.fixturenames:
        gc.collect()


@pytest.fixture(scope="session")
def acceptance_cases() -> dict:
    return json.loads(ACCEPTANCE.read_text(encoding="utf-8"))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


class SetUpStores:
    """A set-up store (service point 示范乡卫生院, region 140121, two villages, supervisor
    ``admin`` / ``admin123``; with ``clerk``, also ``clerk1`` / ``clerk123``), built once per
    test process and copied into each test's data folder that asks for ``admin`` or
    ``clerk``: argon2 hashing (the library's recommended cost, ~0.13 s a password) and the
    migrations per test were a large part of the suite's time. The copy is the same file a
    fresh set-up writes; its key goes with it (``desk.id`` names it in the keyring)."""

    def __init__(self, root: Path):
        self.root = root
        self.built: dict[bool, tuple[Path, bytes]] = {}  # with clerk → (file, its key)

    def copy_into(self, data_dir: Path, *, clerk: bool) -> None:
        """The set-up file under a folder identity of its own, its key saved for that
        identity as a set-up saves it (a test that drops its key drops only its own)."""
        from desktop.store import cipher

        if clerk not in self.built:
            self.built[clerk] = self._build(clerk)
        db_file, key = self.built[clerk]
        shutil.copyfile(db_file, data_dir / db_file.name)
        cipher.save_key(cipher.folder_id(data_dir, create=True), key)

    def _build(self, clerk: bool) -> tuple[Path, bytes]:
        from desktop.store import cipher, open_store
        from desktop.store.db import DB_FILENAME

        folder = self.root / ("with-clerk" if clerk else "admin-only")
        s = open_store(folder)
        admin = set_up(s)
        if clerk:
            make_clerk(s, admin)
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        s.close()
        assert {p.name for p in folder.iterdir()} == {DB_FILENAME, cipher.ID_FILENAME}
        return folder / DB_FILENAME, cipher.folder_key(folder, create=False)


def set_up(store):
    from desktop.services.setup import ServicePointInput, run_setup

    return run_setup(
        store,
        ServicePointInput(
            name="示范乡卫生院", region_code="140121", code="SP01", villages=["东村", "西村"]
        ),
        admin_username="admin",
        admin_name="王主管",
        admin_password="admin123",
    )


def make_clerk(store, admin):
    from desktop.services.auth import create_operator

    return create_operator(
        store, username="clerk1", display_name="李经办", password="clerk123", role="clerk", by=admin
    )


@pytest.fixture(scope="session")
def set_up_stores(tmp_path_factory) -> SetUpStores:
    return SetUpStores(tmp_path_factory.mktemp("set-up-stores"))


@pytest.fixture
def store(request, data_dir: Path, set_up_stores: SetUpStores):
    """The desk's store in ``data_dir``: empty, or already set up (copied) when the test
    uses ``admin`` or ``clerk``."""
    from desktop.store import open_store

    names = set(request.fixturenames)
    if "clerk" in names or "admin" in names:
        set_up_stores.copy_into(data_dir, clerk="clerk" in names)
    s = open_store(data_dir)
    yield s
    s.close()


@pytest.fixture
def admin(store):
    """The supervisor of a set-up store (see SetUpStores); set up here when the store was
    not copied (a fixture that asked for ``admin`` only after the store was open)."""
    from desktop.services.demo import _actor

    return _actor(store, "admin") or set_up(store)


@pytest.fixture
def clerk(store, admin):
    from desktop.services.demo import _actor

    return _actor(store, "clerk1") or make_clerk(store, admin)


# PySide6 objects left to the collector at interpreter shutdown can crash CPython's final
# garbage collection (seen as "bool_dealloc … refcount error in a C extension" after every test
# had passed), which would replace pytest's exit code with SIGABRT. Once pytest has reported,
# leave without that final collection, keeping pytest's own exit status.
_exit_status: list[int] = []


def pytest_sessionfinish(session, exitstatus):
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    if _exit_status and os.environ.get("TOWNSHIP_TEST_HARD_EXIT", "1") == "1":
        # the hard exit skips atexit: stop this process's PostgreSQL first (a cluster was
        # left running per test worker after every run)
        testing = sys.modules.get("county.testing")
        if testing is not None:
            testing.stop_shared_cluster()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])
