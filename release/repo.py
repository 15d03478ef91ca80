"""A release repository: ``<work>/repository/{metadata,targets}`` (what the county imports),
``<work>/public-keys`` (the public halves, safe to keep), the private keys in the folders
the caller names (offline: root and targets; online: snapshot and timestamp)."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

from tufup.repo import Repository

APP = "township-desk"
OFFLINE, ONLINE = ("root", "targets"), ("snapshot", "timestamp")
# Days each role's signature holds. The timestamp is re-signed (online key) at least this
# often: a desk refuses a repository whose timestamp has expired (no freeze attack).
EXPIRY = {"root": 365, "targets": 90, "snapshot": 30, "timestamp": 14}


class ReleaseError(RuntimeError):
    pass


def _repo(work: Path, expiry: dict | None = None) -> Repository:
    return Repository(
        app_name=APP,
        repo_dir=work / "repository",
        keys_dir=work / "public-keys",
        expiration_days={**EXPIRY, **(expiry or {})},
    )


@contextlib.contextmanager
def _in(work: Path):
    """tufup keeps its configuration file in the working directory: the work folder's."""
    work.mkdir(parents=True, exist_ok=True)
    with contextlib.chdir(work):
        yield


def init(work: Path, offline_keys: Path, online_keys: Path, expiry: dict | None = None) -> Path:
    """Make the keys (private halves moved to ``offline_keys`` / ``online_keys``) and the
    first signed root. Returns the root metadata the desk build ships (its trust anchor)."""
    if (work / "repository" / "metadata" / "root.json").exists():
        raise ReleaseError(f"{work} already holds a release repository")
    with _in(work):
        repo = _repo(work, expiry)
        repo.initialize()
        repo.save_config()
    for folder, roles in ((offline_keys, OFFLINE), (online_keys, ONLINE)):
        folder.mkdir(parents=True, exist_ok=True)
        for role in roles:
            shutil.move(work / "public-keys" / role, folder / role)
    return work / "repository" / "metadata" / "root.json"


def add_bundle(
    work: Path, bundle: Path, version: str, offline_keys: Path, online_keys: Path
) -> list[str]:
    """Archive ``bundle`` (a built one-folder desk) as ``version``, with a patch from the
    version before, and sign. Returns the files the repository's targets list."""
    with _in(work):
        repo = Repository.from_config()
        latest = repo.roles.get_latest_archive()
        if latest is not None and str(latest.version) == version:
            raise ReleaseError(f"version {version} is already released")
        stamp(bundle, version)
        repo.add_bundle(new_bundle_dir=bundle, new_version=version)
        repo.publish_changes(private_key_dirs=[offline_keys, online_keys])
        return sorted(repo.roles.targets.signed.targets)


def stamp(bundle: Path, version: str) -> None:
    """Write the version into a PyInstaller one-folder bundle (``_internal/VERSION``, read
    by the frozen desk), so the archive's contents say the version its name says."""
    internal = bundle / "_internal"
    if internal.is_dir():
        target = internal / "VERSION"
        target.unlink(missing_ok=True)  # a hard-linked copy: never write through the link
        target.write_text(version, encoding="ascii")


def refresh(work: Path, online_keys: Path) -> None:
    """Re-sign snapshot and timestamp with fresh expiry (the online keys; run on a schedule
    so the desks never meet an expired timestamp)."""
    with _in(work):
        repo = Repository.from_config()
        for role in ONLINE:
            repo.refresh_expiration_date(role)
            getattr(repo.roles, role).signed.version += 1  # a new version even within a second
        repo.publish_changes(private_key_dirs=[online_keys])
