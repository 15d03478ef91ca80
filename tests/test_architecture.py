"""The layer table of ARCHITECTURE.md is enforced by import-linter (contracts in
pyproject.toml, run by scripts/test). These tests show the contracts hold today and that a
wrong import makes them fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter not installed")


def lint(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=folder, capture_output=True, text=True, timeout=300
    )


def copy_of_repo(tmp_path: Path) -> Path:
    dst = tmp_path / "repo"
    dst.mkdir()
    for name in ("core", "desktop", "county"):
        shutil.copytree(ROOT / name, dst / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", dst / "pyproject.toml")
    return dst


def test_the_layers_hold():
    out = lint(ROOT)
    assert out.returncode == 0, out.stdout[-3000:]
    assert "0 broken" in out.stdout


@pytest.mark.parametrize(
    "path, line, broken",
    [
        ("desktop/gui/widgets.py", "from desktop.store import journal", "never the store"),
        ("core/money.py", "import desktop.paths", "core is shared"),
        ("county/errors.py", "import desktop.paths", "nothing of the desk"),
        ("desktop/store/journal.py", "from desktop.services import context", "knows nothing above"),
    ],
)
def test_a_wrong_import_fails_the_check(tmp_path, path, line, broken):
    repo = copy_of_repo(tmp_path)
    target = repo / path
    text = target.read_text(encoding="utf-8")
    head, sep, rest = text.partition("from __future__ import annotations\n")
    target.write_text(head + sep + line + "  # a deliberate mistake\n" + rest, encoding="utf-8")
    out = lint(repo)
    assert out.returncode != 0
    assert "BROKEN" in out.stdout and broken in out.stdout, out.stdout[-2000:]
