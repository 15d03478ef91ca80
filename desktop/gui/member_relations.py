"""The members of a household, each with a tick (who goes) and their relation to the head
of the household they go to — 分户 and 合户 in the 家庭变更 dialog. A son who splits off
with his wife and child makes her 配偶 and the child 子 or 女 of the new household in one
step, where one relation for everyone made them all 其他."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from core.categories import RELATIONS

SHOWN_ROWS = 8  # rows in sight before the list scrolls
HEAD_TEXT = "新户主"


class MemberRelations(QWidget):
    """``set_mode("split")``: tick who goes (space), choose each one's relation; the one
    chosen as the new household's head (``set_head``) needs none. ``set_mode("merge")``:
    everyone goes, each with a relation to the other household's head.
    ``set_mode("change_head", old_head)``: everyone stays, each relation to the new head
    filled in as it was to the old one, to change where it changed (the old head has a
    row of the dialog's own)."""

    HINTS = {
        "split": "勾选（空格）分出的人，并选各人与新户主的关系",
        "merge": "全户并入，选各人与并入户户主的关系",
        "change_head": "各人与新户主的关系：已按原关系填好，有变化的请改",
    }

    changed = Signal()

    def __init__(self, members: list[dict], parent: QWidget | None = None):
        super().__init__(parent)
        self.members = members
        self._by_id = {m["id"]: m for m in members}
        self.boxes: dict[str, QCheckBox] = {}
        self.relations: dict[str, QComboBox] = {}
        self.names: dict[str, QLabel] = {}
        self._head, self._apart = "", ""
        inner = QWidget()
        self.grid = grid = QGridLayout(inner)
        grid.setContentsMargins(4, 2, 4, 2)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(0, 1)
        for i, m in enumerate(members):
            text = f"{m['name']}（原为{RELATIONS.get(m['relation'], m['relation'])}）"  # 原为子: 原子 reads "atom"
            box = QCheckBox(text)
            name = QLabel(text)  # where everyone goes or stays: the name, not a grey tick
            rel = QComboBox()
            rel.addItem("请选择", "")
            for code, label in RELATIONS.items():
                if code != "head":
                    rel.addItem(label, code)
            rel.setAccessibleName(f"{m['name']}与新户主的关系")
            box.toggled.connect(self._refresh)
            rel.currentIndexChanged.connect(lambda _i: self.changed.emit())
            grid.addWidget(box, i, 0)
            grid.addWidget(name, i, 0)
            self.names[m["id"]] = name
            grid.addWidget(rel, i, 1)
            self.boxes[m["id"]], self.relations[m["id"]] = box, rel
        self.scroll = QScrollArea()
        self.scroll.setWidget(inner)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.StyledPanel)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the rows, not the box
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.hint = QLabel()
        lay.addWidget(self.hint)
        lay.addWidget(self.scroll)
        self._row_height = max(box.sizeHint().height(), rel.sizeHint().height()) if members else 0
        # as tall as its rows: room the dialog has to spare goes below, not in between
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.set_mode("split")

    def set_mode(self, mode: str, old_head: str = "") -> None:
        self._mode, self._apart = mode, (old_head if mode == "change_head" else "")
        self.hint.setText(self.tr(self.HINTS[mode]))
        for m in self.members:
            pid, box, combo = m["id"], self.boxes[m["id"]], self.relations[m["id"]]
            box.setChecked(mode != "split")  # to split: no one ticked yet
            combo.setCurrentIndex(0)
            box.setVisible(mode == "split")
            self.names[pid].setVisible(mode != "split" and pid != self._apart)
            combo.setVisible(pid != self._apart)
            if mode == "change_head":  # as it was, to change where it changed
                combo.setCurrentIndex(max(combo.findData(m["relation"]), 0))
        self._fit()
        self._refresh()

    def _fit(self) -> None:
        """Every row in sight, up to eight; a larger household scrolls."""
        rows = min(sum(pid != self._apart for pid in self.boxes), SHOWN_ROWS)
        if rows:
            gap = self.grid.verticalSpacing()
            self.scroll.setFixedHeight(
                (self._row_height + gap) * rows - gap + 4 + 2 * self.scroll.frameWidth()
            )

    def set_head(self, person_id: str) -> None:
        self._head = person_id or ""
        self._refresh()

    def set_checked(self, person_id: str, on: bool = True) -> None:
        self.boxes[person_id].setChecked(on)

    def set_relation(self, person_id: str, code: str) -> None:
        combo = self.relations[person_id]
        combo.setCurrentIndex(combo.findData(code))

    def checked_ids(self) -> list[str]:
        return [pid for pid, box in self.boxes.items() if box.isChecked()]

    def chosen_relations(self) -> dict[str, str]:
        """Each one who goes (or stays, at a change of head), but the new head and the
        old one: their relation code ('' if not chosen)."""
        return {
            pid: self.relations[pid].currentData() or ""
            for pid in self.checked_ids()
            if pid != self._apart and not (self._mode != "merge" and pid == self._head)
        }

    def setFocus(self, *args) -> None:  # noqa: N802 (Qt's name)
        """The cursor goes to the first relation still to choose (a message beside the
        members puts it here), else to the first tick."""
        todo = [c for c in self.relations.values() if c.isEnabled() and not c.currentData()]
        ticks = [b for b in self.boxes.values() if not b.isHidden()]
        target = (todo or ticks or [None])[0]
        if target is not None:
            self.scroll.ensureWidgetVisible(target)
            target.setFocus()

    def name_of(self, person_id: str) -> str:
        return self._by_id.get(person_id, {}).get("name", "")

    def _refresh(self, *_a) -> None:
        for pid, combo in self.relations.items():
            is_head = self._mode != "merge" and pid == self._head
            combo.setEnabled(self.boxes[pid].isChecked() and not is_head)
            combo.setItemText(0, HEAD_TEXT if is_head else "请选择")
            if is_head:
                combo.setCurrentIndex(0)
            elif self._mode == "change_head" and combo.currentIndex() == 0:
                was = self._by_id[pid]["relation"]
                combo.setCurrentIndex(max(combo.findData(was), 0))  # no longer the new head
        self.changed.emit()
