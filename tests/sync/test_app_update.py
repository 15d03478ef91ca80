"""Signed application updates through the county (issue 17), against the real county server
on real PostgreSQL: the project's release repository (made here with keys this test makes)
is imported by the county, offered to one service point, found by its desk at sync,
downloaded through the fault proxy with cuts at random bytes, verified and staged, and the
desk's state reaches the county. Tampered files, tampered metadata, expired metadata, a
rollback of the metadata and a mix of two releases' metadata are each refused: nothing is
staged, the running version is untouched, and the county is told."""

from __future__ import annotations

import contextlib
import filecmp
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from tuf.api import exceptions as tuf_errors

from county import updates as county_updates
from county.places import list_devices
from desktop import __version__, starter
from desktop.services import updates
from desktop.sync.updatefetch import ResumingFetcher
from release import repo as release
from tests.sync.conftest import CountyServer, Desk
from tests.sync.sync_proxy import CutProxy

ROOT = Path(__file__).resolve().parents[2]

NEXT = "0.2.0"
assert __version__ == "0.1.0", "the test's versions follow the package's"


PROGRAM = """#!{python}
import os, pathlib, sys
here = pathlib.Path(__file__).resolve().parent
if "--self-test" in sys.argv:
    with open(here / "self-tests", "a") as f:
        f.write("x")
    sys.exit({self_test})
(here / "ran").write_text(" ".join(sys.argv[1:]))
(here / "env").write_text("TOWNSHIP_DESK_STARTED_BY=" + os.environ.get("TOWNSHIP_DESK_STARTED_BY", ""))
"""


def _bundle(folder: Path, version: str, seed: int, self_test: int = 0) -> Path:
    """A one-folder program of ``version``: 2 MB that stay between versions, a part that
    changes (so the release has a real patch), its version file, and the two executables
    (the window program and the console one the starter runs ``--self-test`` with; here
    small scripts that say whether they ran, and pass or fail the self-test as told)."""
    rnd = random.Random(seed)
    folder.mkdir(parents=True)
    (folder / "_internal").mkdir()
    (folder / "_internal" / "base.bin").write_bytes(random.Random(1).randbytes(2_000_000))
    (folder / "_internal" / "changes.bin").write_bytes(rnd.randbytes(300_000))
    (folder / "VERSION").write_text(version, encoding="ascii")
    for name in ("township-desk", "township-desk-console"):
        exe = folder / name
        exe.write_text(PROGRAM.format(python=sys.executable, self_test=self_test))
        exe.chmod(0o755)
    return folder


@pytest.fixture(scope="module")
def _made_releases(tmp_path_factory):
    """Release work folders made once per module (signing and the 2 MB patch took a second
    a test), by whether 0.2.0's self-test fails; each test gets its own copy."""
    made: dict[bool, Path] = {}

    def make(broken: bool) -> Path:
        if broken not in made:
            tmp = tmp_path_factory.mktemp("releases-broken" if broken else "releases")
            offline, online = tmp / "usb-keys", tmp / "online-keys"
            work = tmp / "release"
            release.init(work, offline, online)
            b1 = _bundle(tmp / "b1", "0.1.0", 1)
            release.add_bundle(work, b1, "0.1.0", offline, online)
            b2 = _bundle(tmp / "b2", NEXT, 2, self_test=1 if broken else 0)
            release.add_bundle(work, b2, NEXT, offline, online)
            made[broken] = tmp
        return made[broken]

    return make


@pytest.fixture
def releases(tmp_path, request, _made_releases):
    """A release work folder (0.1.0, then 0.2.0 — whose self-test fails when the test is
    marked ``broken_next``), and keys outside it; this test's own copy."""
    made = _made_releases(request.node.get_closest_marker("broken_next") is not None)
    for name in ("usb-keys", "online-keys", "release", "b1", "b2"):
        shutil.copytree(made / name, tmp_path / name, symlinks=True)
    offline, online, work = tmp_path / "usb-keys", tmp_path / "online-keys", tmp_path / "release"
    root = work / "repository" / "metadata" / "root.json"
    return {"work": work, "root": root, "offline": offline, "online": online, "tmp": tmp_path}


@pytest.fixture
def county(sync_pg, tmp_path):
    from county.testing import drop_database, fresh_database

    dsn = fresh_database(sync_pg)
    folder = tmp_path / "county-updates"
    server = CountyServer(dsn, env={"TOWNSHIP_COUNTY_UPDATES_DIR": str(folder)})
    server.updates_dir = folder
    server.service_point("SP01", "东乡卫生院")
    server.service_point("SP02", "西乡卫生院")
    yield server
    server.kill()
    drop_database(sync_pg, dsn)


@pytest.fixture
def desk(fast_dir, county, mem_keyring, releases):
    proxy = CutProxy(county.port)
    d = Desk(fast_dir, county, "SP01", "东乡卫生院", url=proxy.url)
    d.proxy = proxy
    meta = updates.folder(d.data_dir) / "metadata"
    meta.mkdir(parents=True)
    shutil.copyfile(releases["root"], meta / "root.json")  # what the build ships
    d.store.set_setting(updates.K_RATE, "8192")  # the cap in KB/s (default 256: a 3G line)
    yield d
    d.close()
    proxy.close()


@contextlib.contextmanager
def cutting(proxy: CutProxy, rnd: random.Random, low: int, high: int, *, times: int):
    """While the block runs, cut the line at a random byte in [low, high) of a response,
    again each time the cut has happened, ``times`` cuts at most; yields the bytes chosen."""
    cuts: list[int] = []
    done = threading.Event()

    def cutter() -> None:
        while not done.is_set() and len(cuts) < times:
            if not proxy.armed:
                cuts.append(rnd.randrange(low, high))
                proxy.arm("response", cuts[-1])
            done.wait(0.02)

    t = threading.Thread(target=cutter, daemon=True)
    t.start()
    try:
        yield cuts
    finally:
        done.set()
        t.join()


def _import(county, work: Path) -> list[str]:
    with county.conn() as c, c.transaction():
        return county_updates.import_repository(c, county.updates_dir, work / "repository")


def _offer(county, version: str | None, codes=None) -> None:
    with county.conn() as c, c.transaction():
        county_updates.set_offer(c, version, codes, "test")


def _reported(county, desk) -> dict:
    return county.sql(
        "SELECT app_version, reported_update FROM device WHERE id = %s", (desk.device_id,)
    )[0]


def test_the_offered_version_arrives_through_cuts_verified_and_staged(county, desk, releases):
    assert _import(county, releases["work"]) == ["0.1.0", NEXT]
    _offer(county, NEXT, ["SP01"])
    _offer(county, None)  # every other point held back
    with cutting(desk.proxy, random.Random(17), 1_000, 400_000, times=6) as cuts:
        desk.sync()
    assert updates.state(desk.store) == f"staged:{NEXT}"
    assert desk.proxy.cuts >= 3, cuts  # the download really was cut and went on
    staged = updates.staged_dir(desk.data_dir, NEXT)
    want = releases["tmp"] / "b2"
    assert (staged / "VERSION").read_text() == NEXT
    assert not filecmp.dircmp(staged, want).diff_files
    assert filecmp.cmp(staged / "_internal" / "changes.bin", want / "_internal" / "changes.bin")
    assert not list((updates.folder(desk.data_dir) / "partial").glob("*.part"))
    desk.sync()  # the next sync says so; nothing is downloaded again
    assert _reported(county, desk) == {"app_version": "0.1.0", "reported_update": f"staged:{NEXT}"}
    with county.conn() as c:
        o = county_updates.overview(c)
    assert [r["version"] for r in o["releases"]] == ["0.1.0", NEXT]
    assert county_updates.describe(o["desks"][0]["updates"][0]) == f"已下载，待重启安装 {NEXT}"
    with county.conn() as c:
        listed = {d["id"]: d for d in list_devices(c)}
    assert listed[desk.device_id]["app_version"] == "0.1.0"
    assert listed[desk.device_id]["update_state"] == f"已下载，待重启安装 {NEXT}"


def test_a_point_held_back_or_offered_an_older_version_stays(county, desk, releases):
    _import(county, releases["work"])
    _offer(county, NEXT, ["SP02"])  # the pilot is the other point
    desk.sync()
    assert (
        updates.state(desk.store) == ""
        and not updates.folder(desk.data_dir).joinpath("staged").exists()
    )
    _offer(county, "0.1.0", ["SP01"])  # not newer than what it runs
    desk.sync()
    assert updates.wanted(desk.store) is None and updates.state(desk.store) == ""
    with pytest.raises(county_updates.UpdateError, match="没有 0.9.0 版"):
        _offer(county, "0.9.0")


def _tamper_archive(county, releases) -> None:
    p = county.updates_dir / "targets" / f"township-desk-{NEXT}.tar.gz"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0xFF
    p.write_bytes(bytes(data))


def _tamper_metadata(county, releases) -> None:
    p = county.updates_dir / "metadata" / "targets.json"
    doc = json.loads(p.read_text())
    doc["signed"]["targets"][f"township-desk-{NEXT}.tar.gz"]["length"] += 1
    p.write_text(json.dumps(doc))


def _expired(county, releases) -> None:
    work = releases["tmp"] / "expired"
    shutil.copytree(releases["work"], work)
    with release._in(work):
        r = release.Repository.from_config()
        r.expiration_days["timestamp"] = -1  # signed properly, but out of date
        r.refresh_expiration_date("timestamp", days=-1)
        r.publish_changes(private_key_dirs=[releases["online"]])
    _import(county, work)


def _rolled_back(county, releases, desk=None) -> None:
    """The desk saw a newer timestamp before; the county now serves an older one."""
    newer = releases["tmp"] / "newer"
    shutil.copytree(releases["work"], newer)
    release.refresh(newer, releases["online"])
    shutil.copyfile(
        newer / "repository" / "metadata" / "timestamp.json",
        updates.folder(desk.data_dir) / "metadata" / "timestamp.json",
    )


def _mixed(county, releases) -> None:
    """Timestamp and snapshot of one release, targets of another (0.3.0 added)."""
    other = releases["tmp"] / "other"
    shutil.copytree(releases["work"], other)
    b3 = _bundle(releases["tmp"] / "b3", "0.3.0", 3)
    release.add_bundle(other, b3, "0.3.0", releases["offline"], releases["online"])
    for f in (other / "repository" / "targets").iterdir():
        shutil.copyfile(f, county.updates_dir / "targets" / f.name)
    shutil.copyfile(
        other / "repository" / "metadata" / "targets.json",
        county.updates_dir / "metadata" / "targets.json",
    )


@pytest.mark.parametrize(
    "attack",
    [_tamper_archive, _tamper_metadata, _expired, _rolled_back, _mixed],
    ids=["tampered-archive", "tampered-metadata", "expired", "rollback", "mix-and-match"],
)
def test_what_does_not_verify_is_refused_and_the_county_told(county, desk, releases, attack):
    _import(county, releases["work"])
    _offer(county, NEXT)
    if attack is _rolled_back:
        attack(county, releases, desk)
    else:
        attack(county, releases)
    desk.sync()
    assert updates.state(desk.store) == f"refused:{NEXT}"
    assert not updates.staged_dir(desk.data_dir, NEXT).exists()
    assert not list((updates.folder(desk.data_dir) / "partial").glob("*.part"))
    desk.proxy.disarm()
    with pytest.MonkeyPatch.context() as m:  # the next sync reports it (and tries again)
        m.setattr(updates, "fetch_offered", lambda *a, **k: "")
        desk.sync()
    assert _reported(county, desk)["reported_update"] == f"refused:{NEXT}"


def test_a_download_cut_and_given_up_goes_on_from_its_bytes_next_time(county, releases, tmp_path):
    """A PC switched off mid-download: the bytes kept are used, the rest asked for (Range)."""
    _import(county, releases["work"])
    name = f"township-desk-{NEXT}.tar.gz"
    whole = (county.updates_dir / "targets" / name).read_bytes()
    proxy = CutProxy(county.port)
    url = f"{proxy.url}/api/v1/updates/targets/{name}"
    try:
        proxy.arm("response", 1_200_000)
        first = ResumingFetcher(tmp_path / "partial", tries=1)
        got = bytearray()
        with pytest.raises(tuf_errors.DownloadError):
            for chunk in first.fetch(url):
                got += chunk
        first.close()
        kept = list((tmp_path / "partial").glob("*.part"))
        assert len(kept) == 1 and 0 < kept[0].stat().st_size < len(whole)
        second = ResumingFetcher(tmp_path / "partial")
        again = b"".join(second.fetch(url))
        second.close()
    finally:
        proxy.close()
    assert again == whole
    assert not list((tmp_path / "partial").glob("*.part"))


INSTALLED = Path("/opt/TownshipDesk/township-desk")  # version N, as the installer put it


def _start(desk, *args: str) -> int | None:
    with pytest.MonkeyPatch.context() as m:  # each start is a new process
        m.setenv(starter.STARTED_BY, "")  # restored after: the test process keeps none
        return starter.start_newest(
            ["township-desk", *args],
            own_version=__version__,
            exe=INSTALLED,
            data_dir=desk.data_dir,
        )


def test_the_staged_version_is_installed_at_the_next_start_and_the_county_sees_it(
    county, desk, releases
):
    _import(county, releases["work"])
    _offer(county, NEXT)
    desk.sync()
    staged = updates.staged_dir(desk.data_dir, NEXT)
    assert updates.state(desk.store) == f"staged:{NEXT}" and not (staged / "ran").exists()
    assert _start(desk, "--data-dir", "D:/data") == 0  # self-test passed: it runs instead
    assert (staged / "self-tests").read_text() == "x"
    assert (staged / "ran").read_text() == "--data-dir D:/data"
    assert "TOWNSHIP_DESK_STARTED_BY=0.1.0" in (staged / "env").read_text()  # never loops
    desk.sync()  # the running desk reports it (here the same store stands for it)
    assert _reported(county, desk)["reported_update"] == f"installed:{NEXT}"
    assert updates.wanted(desk.store) is None  # nothing to download again
    (staged / "ran").unlink()
    assert _start(desk) == 0 and (staged / "ran").exists()
    assert (staged / "self-tests").read_text() == "x"  # tested once, not at every start


@pytest.mark.broken_next
def test_a_release_that_fails_its_self_test_is_rolled_back_by_itself(county, desk, releases):
    _import(county, releases["work"])
    _offer(county, NEXT)
    desk.sync()
    staged = updates.staged_dir(desk.data_dir, NEXT)
    assert updates.state(desk.store) == f"staged:{NEXT}"
    assert _start(desk) is None  # this version goes on as if nothing happened
    assert not (staged / "ran").exists()
    desk.sync()
    assert _reported(county, desk)["reported_update"] == f"rolled_back:{NEXT}"
    assert updates.wanted(desk.store) is None  # not downloaded again
    assert _start(desk) is None and (staged / "self-tests").read_text() == "x"  # not retried
    with county.conn() as c:
        listed = {d["id"]: d for d in list_devices(c)}
    assert listed[desk.device_id]["update_state"] == f"自检失败，已退回原版本 {NEXT}"


def test_the_starter_runs_only_what_was_verified_and_newer(tmp_path):
    base = tmp_path / "updates" / "staged"
    for v, mark in (("0.3.0", None), ("0.2.0", "0.2.0"), ("0.0.9", "0.0.9"), ("0.4.0", "0.3.9")):
        (base / v).mkdir(parents=True)
        if mark:
            (base / v / starter.VERIFIED).write_text(mark)
    # 0.3.0 is not marked verified, 0.4.0's mark names another version, 0.0.9 is older
    assert starter.candidates(tmp_path, "0.1.0") == [("0.2.0", base / "0.2.0")]
    assert starter.candidates(tmp_path, "0.2.0") == []
    assert (
        starter.start_newest(["x"], own_version="0.1.0", exe=INSTALLED, data_dir=tmp_path / "none")
        is None
    )
    assert starter.data_dir_from(["a", "--data-dir", "X"], Path("d")) == Path("X")
    assert starter.data_dir_from(["a", "--data-dir=Y"], Path("d")) == Path("Y")
    assert starter.data_dir_from(["a"], Path("d")) == Path("d")


def test_started_by_the_console_program_the_desk_writes_utf8_a_line_at_a_time():
    """township-desk-console reads the desk's output through pipes as UTF-8: the desk
    switches its output to UTF-8 (whatever the system's encoding) and flushes each line."""
    code = (
        "import sys; from desktop.starter import console_output as c; "
        "print(c({}), c({'TOWNSHIP_DESK_CONSOLE': '1'}, 'linux')); "
        "print('参保登记', sys.stdout.line_buffering, sys.stderr.encoding)"
    )
    env = {**os.environ, "PYTHONIOENCODING": "latin-1", "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode("utf-8").split() == ["False", "True", "参保登记", "True", "utf-8"]


def test_on_windows_the_desk_attaches_to_the_console_programs_console():
    """Where getpass reads a typed password: the console of the program that started us,
    ATTACH_PARENT_PROCESS ((DWORD)-1), passed as a DWORD."""
    calls = []

    class Kernel32:
        def AttachConsole(self, pid):  # noqa: N802 (the Windows name)
            calls.append(pid.value)
            return 1

    out, err = sys.stdout, sys.stderr
    try:
        sys.stdout = sys.stderr = None  # a windowed program's: nothing to reconfigure
        assert starter.console_output({"TOWNSHIP_DESK_CONSOLE": "1"}, "win32", Kernel32())
        assert not starter.console_output({}, "win32", Kernel32())
    finally:
        sys.stdout, sys.stderr = out, err
    assert calls == [0xFFFFFFFF]


@pytest.mark.bundle
def test_the_whole_chain_with_the_real_frozen_bundle(county, desk, tmp_path):
    """Version N of the real bundle installed in a folder; N+1 (the same build, released as
    0.2.0 by the release process) signed, imported by the county and offered; the desk finds
    it at sync, downloads it through the fault proxy with cuts, verifies and stages it; the
    installed N, started on that data folder, self-tests N+1 and runs it; the next sync
    reports it to the county. (The syncing desk runs in this process: a frozen desk keeps its
    credentials in the OS keyring, which this headless machine does not have.)"""
    from tests.ops.test_ops_bundle import _copy_bundle, _run, bb

    built = bb.build_bundle(log=lambda m: None)
    installed = _copy_bundle(built.folder, tmp_path / "Program Files" / "TownshipDesk")
    offline, online, work = tmp_path / "usb", tmp_path / "online", tmp_path / "rel"
    root = release.init(work, offline, online)
    release.add_bundle(work, _copy_bundle(built.folder, tmp_path / "n1"), NEXT, offline, online)
    shutil.copyfile(root, updates.folder(desk.data_dir) / "metadata" / "root.json")
    _import(county, work)
    _offer(county, NEXT)
    desk.store.set_setting(updates.K_RATE, "262144")
    with cutting(desk.proxy, random.Random(5), 200_000, 20_000_000, times=3):
        desk.sync()
    assert updates.state(desk.store) == f"staged:{NEXT}" and desk.proxy.cuts >= 1
    home = tmp_path / "home"
    home.mkdir()
    console = installed / "township-desk-console"
    r = _run(console, home, "--data-dir", str(desk.data_dir), "--version")
    assert r.returncode == 0 and NEXT in r.stdout, r.stdout + r.stderr[-3000:]
    desk.sync()
    assert _reported(county, desk)["reported_update"] == f"installed:{NEXT}"
    assert _run(console, home, "--version").stdout.split()[-1] == __version__  # N untouched


@pytest.mark.browser
def test_the_county_admin_offers_a_pilot_in_the_console(county, desk, releases, tmp_path):
    """Debian's Chromium at 1366×768: the 程序更新 page lists the versions and the PCs by
    version; the administrator offers 0.2.0 to one service point; its desk stages it at the
    next sync and the page says so."""
    from county.console.auth import create_staff
    from tests.sync.test_console_browser import CHROMIUM, shot

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/test installs it)")
    from playwright.sync_api import sync_playwright

    _import(county, releases["work"])
    desk.sync()  # the PC has reported its version
    with county.conn() as c, c.transaction():
        create_staff(c, "boss", "李局长", "admin", "admin-pass-1")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = b.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page.goto(county.url + "/console/login")
        page.fill("#username", "boss")
        page.fill("#password", "admin-pass-1")
        page.click("#login")
        page.wait_for_url("**/console/devices")
        page.click("text=程序更新")
        page.wait_for_url("**/console/updates")
        assert "0.2.0" in page.inner_text("#releases") and "0.1.0" in page.inner_text("#versions")
        page.check("input[name=what][value=offer]")
        page.select_option("select[name=version]", NEXT)
        page.check("input[name=point][value=SP01]")
        page.click("#offer button[type=submit]")
        page.wait_for_url("**/console/updates?saved=1")
        assert "东乡卫生院（SP01）" in page.inner_text("#offers")
        desk.sync()  # stages 0.2.0
        desk.sync()  # and says so
        page.reload()
        assert f"已下载，待重启安装 {NEXT}" in page.inner_text("#versions")
        shot(page, tmp_path, "updates")
        b.close()
    assert updates.state(desk.store) == f"staged:{NEXT}"


def test_a_desk_holding_its_own_archive_takes_the_small_patch(county, desk, releases):
    """With the archive of the version it runs at hand (kept from its last update), the desk
    downloads the binary patch, not the whole release, and rebuilds the same archive."""
    _import(county, releases["work"])
    _offer(county, NEXT)
    served = releases["work"] / "repository" / "targets"
    held = updates.folder(desk.data_dir) / "targets"
    held.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(served / "township-desk-0.1.0.tar.gz", held / "township-desk-0.1.0.tar.gz")
    desk.sync()
    assert updates.state(desk.store) == f"staged:{NEXT}"
    patch = held / f"township-desk-{NEXT}.patch"
    assert (
        patch.exists()
        and patch.stat().st_size < 0.5 * (served / f"township-desk-{NEXT}.tar.gz").stat().st_size
    )
    rebuilt = held / f"township-desk-{NEXT}.tar.gz"  # the same tar (tufup checks its hash)
    original = served / f"township-desk-{NEXT}.tar.gz"
    assert gzip.decompress(rebuilt.read_bytes()) == gzip.decompress(original.read_bytes())
    staged = updates.staged_dir(desk.data_dir, NEXT)
    assert filecmp.cmp(
        staged / "_internal" / "changes.bin", releases["tmp"] / "b2" / "_internal" / "changes.bin"
    )
