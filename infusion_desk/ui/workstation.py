"""What this workstation remembers for its user: window geometry, table columns, export folders.

    settings = workstation_settings()
    settings.setValue("batches/export_folder", "/srv/clearinghouse/out")

These are per user and per computer, never in the clinic database: a biller's column widths
follow her, not the clinic. The store is Qt's own (an ini file under ``~/.config`` on Linux,
the registry on Windows, a plist on macOS), in the default format, so tests can point it at a
temporary folder with ``QSettings.setDefaultFormat`` and ``QSettings.setPath``.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANIZATION = "InfusionDesk"
APPLICATION = "InfusionDesk"


def workstation_settings() -> QSettings:
    """The computer user's settings on this workstation (organisation and application "InfusionDesk")."""
    return QSettings(QSettings.defaultFormat(), QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)
