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
    everyone goes, each with a relation to the other household's head."""

    changed = Signal()

    def __init__(self, members: list[dict], parent: QWidget | None = None):
        super().__init__(parent)
        self.members = members
        self.boxes: dict[str, QCheckBox] = {}
        self.relations: dict[str, QComboBox] = {}
        self._head = ""
        inner = QWidget()
        grid = QGridLayout(inner)
        grid.setContentsMargins(4, 2, 4, 2)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(0, 1)
        for i, m in enumerate(members):
            box = QCheckBox(f"{m['name']}（原{RELATIONS.get(m['relation'], m['relation'])}）")
            rel = QComboBox()
            rel.addItem("请选择", "")
            for code, label in RELATIONS.items():
                if code != "head":
                    rel.addItem(label, code)
            rel.setAccessibleName(f"{m['name']}与新户主的关系")
            box.toggled.connect(self._refresh)
            rel.currentIndexChanged.connect(lambda _i: self.changed.emit())
            grid.addWidget(box, i, 0)
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
        if members:  # every member in sight, up to eight; a larger household scrolls
            row = max(box.sizeHint().height(), rel.sizeHint().height()) + grid.verticalSpacing()
            rows = min(len(members), SHOWN_ROWS)
            self.scroll.setFixedHeight(
                row * rows - grid.verticalSpacing() + 4 + 2 * self.scroll.frameWidth()
            )
        # as tall as its rows: room the dialog has to spare goes below, not in between
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.set_mode("split")

    def set_mode(self, mode: str) -> None:
        self._mode = mode
        self.hint.setText(
            self.tr("全户并入，选各人与并入户户主的关系")
            if mode == "merge"
            else self.tr("勾选（空格）分出的人，并选各人与新户主的关系")
        )
        for box in self.boxes.values():
            if mode == "merge":
                box.setChecked(True)
            box.setEnabled(mode != "merge")
        self._refresh()

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
        """Each one who goes, but the new head: their relation code ('' if not chosen)."""
        return {
            pid: self.relations[pid].currentData() or ""
            for pid in self.checked_ids()
            if not (self._mode == "split" and pid == self._head)
        }

    def setFocus(self, *args) -> None:  # noqa: N802 (Qt's name)
        """The cursor goes to the first relation still to choose (a message beside the
        members puts it here), else to the first tick."""
        todo = [c for c in self.relations.values() if c.isEnabled() and not c.currentData()]
        target = (todo or list(self.boxes.values()) or [None])[0]
        if target is not None:
            self.scroll.ensureWidgetVisible(target)
            target.setFocus()

    def name_of(self, person_id: str) -> str:
        return next((m["name"] for m in self.members if m["id"] == person_id), "")

    def _refresh(self, *_a) -> None:
        for pid, combo in self.relations.items():
            is_head = self._mode == "split" and pid == self._head
            combo.setEnabled(self.boxes[pid].isChecked() and not is_head)
            combo.setItemText(0, HEAD_TEXT if is_head else "请选择")
            if is_head:
                combo.setCurrentIndex(0)
        self.changed.emit()
