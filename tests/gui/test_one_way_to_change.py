"""Widgets run store work one way (desktop/gui/pages/base.py: ``Page.query``/``change``,
the ``StoreWork`` mix-in for dialogs, ``run_query``/``run_change`` for module code), so a
page cannot forget to announce a change to the others."""

from __future__ import annotations

import ast
from pathlib import Path

GUI = Path(__file__).resolve().parents[2] / "desktop" / "gui"
BASE = GUI / "pages" / "base.py"
# a long job with progress and cancel (the 同步 page's sync run) announces itself when done
LONG_JOBS = {GUI / "pages" / "sync.py"}


def calls(path: Path, name: str) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == name
        and ast.unparse(n.func.value).endswith(("tasks", "data_changed"))
    ]


def test_only_the_base_hands_work_to_the_task_runner():
    bad = {str(p.relative_to(GUI)): calls(p, "run") for p in GUI.rglob("*.py") if p != BASE}
    assert not {k: v for k, v in bad.items() if v}, bad


def test_only_the_base_announces_changes():
    bad = {
        str(p.relative_to(GUI)): calls(p, "emit")
        for p in GUI.rglob("*.py")
        if p != BASE and p not in LONG_JOBS
    }
    assert not {k: v for k, v in bad.items() if v}, bad


def test_the_check_sees_a_direct_call(tmp_path):
    bad = tmp_path / "page.py"
    bad.write_text(
        "def f(self):\n    self.ctx.tasks.run(lambda: 1)\n"
        "    self.ctx.events.data_changed.emit('person')\n",
        encoding="utf-8",
    )
    assert calls(bad, "run") == [2] and calls(bad, "emit") == [3]
