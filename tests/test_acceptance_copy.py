"""The repository's copy of the acceptance examples equals ../shared/acceptance where that
folder is beside the clone (CI); a bare clone runs on the copy alone."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COPY = ROOT / "tests" / "data" / "acceptance"
SHARED = ROOT.parent / "shared" / "acceptance"


def test_the_copy_is_complete():
    assert (COPY / "cases.json").stat().st_size > 1000
    assert (COPY / "README.md").exists()


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared beside this clone")
@pytest.mark.parametrize("name", ["cases.json", "README.md"])
def test_the_copy_equals_shared(name):
    assert (COPY / name).read_bytes() == (SHARED / name).read_bytes(), (
        f"tests/data/acceptance/{name} differs from ../shared/acceptance/{name}: copy it again"
    )
