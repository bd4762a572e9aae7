"""Small questions a page asks before an action: the reason typed for a hold, a transfer, a cancel.

Pages take the prompt as a parameter (``ask=...``) so tests answer it without a dialog.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QInputDialog, QWidget

AskReason = Callable[[QWidget, str, str], str | None]
"""(parent, title, question) -> the text typed, or None when cancelled."""


def ask_reason(parent: QWidget, title: str, question: str) -> str | None:
    text, ok = QInputDialog.getText(parent, title, question)
    return text if ok else None
