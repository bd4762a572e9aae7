"""Findings shown where they belong: each under its own field, the rest for the form's message line.

    keys, elsewhere = place_findings(findings, form.fields, form.errors)

Clinic settings and the first-run wizard show a service's findings the same way: under each
field a red line (an error) or an amber one (a warning, prefixed "Warning:"), read out by a
screen reader as the field's description; findings for no field on the form come back for the
caller's message line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from PySide6.QtWidgets import QLabel, QWidget

from infusion_desk.billing.findings import Finding
from infusion_desk.ui.theme import ERROR, WARNING, set_tone


def finding_text(finding: Finding) -> str:
    """A finding as the form says it: a warning says it is one."""
    return finding.message if finding.blocks else f"Warning: {finding.message}"


def place_findings(
    findings: Iterable[Finding], fields: Mapping[str, QWidget], errors: Mapping[str, QLabel]
) -> tuple[list[str], list[Finding]]:
    """Show each finding under its field.

    Returns the fields that got one (in the form's order) and the findings no field owns.
    """
    by_field: dict[str, list[Finding]] = {}
    elsewhere: list[Finding] = []
    for finding in findings:
        if finding.subject in fields:
            by_field.setdefault(finding.subject, []).append(finding)
        else:
            elsewhere.append(finding)
    for key, found in by_field.items():
        label = errors[key]
        label.setText("\n".join(finding_text(f) for f in found))
        set_tone(label, ERROR if any(f.blocks for f in found) else WARNING)
        label.show()
        fields[key].setAccessibleDescription(label.text())
    return [key for key in fields if key in by_field], elsewhere
