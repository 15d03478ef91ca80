"""Downloading and verifying one offered version (``updates.fetch_offered`` calls it): tufup
over python-tuf with our fetcher (``desktop/sync/updatefetch.py``), the unpacked release
staged whole and marked verified. Its own module so tufup loads only when there is a version
to fetch, not with every sync or status."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from packaging.version import Version
from tuf.api import exceptions as tuf_errors
from tufup.client import Client

from desktop import __version__, starter
from desktop.sync.updatefetch import ResumingFetcher, forget_partials

log = logging.getLogger(__name__)

APP = "township-desk"


class _Client(Client):
    """tufup's client, up to the version the county allows, keeping the metadata error it
    would otherwise only log (a refusal must be told apart from a dropped line)."""

    ceiling: Version
    refused: Exception | None = None

    def refresh(self) -> None:
        try:
            super().refresh()
        except tuf_errors.RepositoryError as e:
            self.refused = e
            raise

    @property
    def trusted_target_metas(self) -> list:
        return [m for m in super().trusted_target_metas if m.version <= self.ceiling]


class Refused(Exception):
    """The county's copy of a release (or its signed metadata) did not verify."""


def download(
    base: Path,
    url: str,
    version: str,
    *,
    ca_pem: str | None,
    max_rate: int,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Fetch, verify and stage ``version`` from the repository at ``url`` into ``base``
    (the data folder's updates/); returns "staged", "refused", or "" (the line dropped: the
    next sync goes on from the bytes kept)."""
    partial = base / "partial"
    for d in (base / "targets", partial):
        d.mkdir(parents=True, exist_ok=True)
    fetcher = ResumingFetcher(partial, ca_pem=ca_pem, max_rate=max_rate, cancel=cancel)
    try:
        _download(base, url, version, fetcher, progress)
    except Refused as e:
        log.warning("update %s refused: %s", version, e)
        forget_partials(partial)
        return "refused"
    except tuf_errors.DownloadError as e:
        log.info("update %s: download not finished (%s); next sync goes on", version, e)
        return ""
    finally:
        fetcher.close()
    return "staged"


def _download(base: Path, url: str, version: str, fetcher, progress) -> None:
    staged = base / "staged" / version
    extract = base / "extracting"
    shutil.rmtree(extract, ignore_errors=True)
    extract.mkdir(parents=True)
    client = _Client(
        app_name=APP,
        app_install_dir=staged,
        current_version=__version__,
        metadata_dir=base / "metadata",
        metadata_base_url=url + "/metadata/",
        target_dir=base / "targets",
        target_base_url=url + "/targets/",
        extract_dir=extract,
    )
    client.ceiling = Version(version)
    client._fetcher = fetcher  # our HTTP stack: the county's CA, resume, byte rate
    try:
        found = client.check_for_updates()
    except tuf_errors.RepositoryError as e:  # expired, rolled back, mixed, badly signed …
        raise Refused(e) from e
    if client.refused is not None:
        raise Refused(client.refused)
    if found is None or str(found.version) != version:
        raise tuf_errors.DownloadError(f"{version} not in the county's signed releases")
    hook = None
    if progress is not None:

        def hook(bytes_downloaded: int, bytes_expected: int) -> None:
            progress(bytes_downloaded, bytes_expected)

    try:
        client.download_and_apply_update(skip_confirmation=True, install=_stage, progress_hook=hook)
    except tuf_errors.RepositoryError as e:  # a file's length or hashes did not match
        raise Refused(e) from e
    if not staged.is_dir():
        raise Refused(f"{version}: the archive did not unpack")  # a patch that failed


def _stage(src_dir: Path, dst_dir: Path, **_kw) -> None:
    """tufup's install step: the unpacked release becomes the staged version, whole, and is
    marked verified last (the starter runs only a marked one: ``desktop/starter.py``)."""
    dst_dir = Path(dst_dir)
    shutil.rmtree(dst_dir, ignore_errors=True)
    dst_dir.parent.mkdir(parents=True, exist_ok=True)
    Path(src_dir).rename(dst_dir)
    (dst_dir / starter.VERIFIED).write_text(dst_dir.name, encoding="ascii")
