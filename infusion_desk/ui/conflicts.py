"""When a save is refused because someone else saved first: say who and when, and offer to reload.

    except ChangedElsewhere as exc:
        offer_reload(self, exc, self.reload)

**Reload** (the default) fetches the record as it is now and shows it, so the user redoes their
change on top of the other one; **Keep my edits on screen** closes the message and leaves what
they typed, to copy or compare; saving stays refused until they reload. Nothing is overwritten
without the user seeing the other change first.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from infusion_desk.services.concurrency import ChangedElsewhere


def offer_reload(parent: QWidget, exc: ChangedElsewhere, reload: Callable[[], None]) -> QMessageBox:
    """Open (without blocking) the message about ``exc``; **Reload** calls ``reload``."""
    box = QMessageBox(parent)
    box.setObjectName("changedElsewhere")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setIcon(QMessageBox.Icon.Information)
    box.setWindowTitle("Changed on another workstation")
    box.setText(str(exc))
    again = box.addButton("&Reload", QMessageBox.ButtonRole.AcceptRole)
    again.setObjectName("reloadButton")
    keep = box.addButton("&Keep my edits on screen", QMessageBox.ButtonRole.RejectRole)
    keep.setObjectName("keepEditsButton")
    box.setDefaultButton(again)
    again.clicked.connect(reload)
    box.open()
    return box
