"""The repository keeps a copy of the shared acceptance examples (tests/data/acceptance) so
that a bare clone runs its tests; where ../shared/acceptance sits beside the checkout, the
copy must equal it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COPY = ROOT / "tests" / "data" / "acceptance"
SHARED = ROOT.parent / "shared" / "acceptance"


def test_copy_is_there_and_readable():
    cases = json.loads((COPY / "cases.json").read_text(encoding="utf-8"))
    assert {"identity", "enrollment", "estimate"} <= set(cases)
    assert (COPY / "README.md").read_text(encoding="utf-8").strip()


@pytest.mark.parametrize("name", ["cases.json", "README.md"])
def test_copy_equals_shared(name):
    if not SHARED.is_dir():
        pytest.skip("../shared/acceptance is not beside this checkout")
    assert (COPY / name).read_bytes() == (SHARED / name).read_bytes(), (
        f"tests/data/acceptance/{name} differs from ../shared/acceptance/{name}: copy it again"
    )
