"""``infusion-desk --self-test``: every step passes on a working install; a broken step fails the run."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from infusion_desk import selftest
from infusion_desk.selftest import STEPS, StepFailed, pdf_pages, run_self_test

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^(PASS|FAIL|SKIP)  (.+?)(?: \((\d+\.\d) s\))?(?:: (.*))?$")


def _run() -> tuple[int, list[str]]:
    lines: list[str] = []
    code = run_self_test(lines.append)
    return code, lines


def _steps(lines: list[str]) -> dict[str, tuple[str, str]]:
    """Step name -> (PASS/FAIL/SKIP, note), from the lines between the header and the summary."""
    found = {}
    for line in lines[1:-1]:
        match = LINE.match(line)
        assert match, f"not a step line: {line!r}"
        found[match.group(2)] = (match.group(1), match.group(4) or "")
    return found


def test_every_step_passes_and_says_what_it_did() -> None:
    before = set(Path(tempfile.gettempdir()).glob("infusion-desk-self-test-*"))
    code, lines = _run()
    assert code == 0, "\n".join(lines)
    assert lines[0].startswith("Infusion Desk ") and "self-test" in lines[0] and "from source" in lines[0]
    steps = _steps(lines)
    assert list(steps) == [name for name, _needs, _step in STEPS]
    assert all(status == "PASS" for status, _note in steps.values())
    assert re.fullmatch(r"SQLCipher \S+.*, schema \d{4}", steps["open encrypted database"][1])
    assert re.search(r"\bJ\d{4}\b", steps["code a visit"][1])  # the drug was coded
    assert "read back" in steps["write 837P and read it back"][1]
    assert "a wrong passphrase refused" in steps["reopen with the passphrase"][1]
    assert re.fullmatch(rf"Self-test passed: {len(STEPS)} of {len(STEPS)} steps in \d+\.\d s\.", lines[-1])
    # the temporary clinic is gone
    assert set(Path(tempfile.gettempdir()).glob("infusion-desk-self-test-*")) == before


def test_a_failing_step_fails_the_run_and_the_steps_after_it_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from infusion_desk.services import statements

    def out_of_paper(*_args: object, **_kwargs: object) -> bytes:
        raise OSError("No space left on device")

    monkeypatch.setattr(statements, "render_statement", out_of_paper)
    code, lines = _run()
    assert code == 1
    steps = _steps(lines)
    status, note = steps["patient statement PDF"]
    assert status == "FAIL"
    assert "No space left on device" in note
    # the appeal needs the posted payment, not the statement: it still runs and passes
    assert steps["appeal letter PDF"][0] == "PASS"
    assert steps["reopen with the passphrase"][0] == "PASS"
    assert lines[-1].startswith(f"Self-test FAILED: {len(STEPS) - 1} of {len(STEPS)} steps passed, 1 failed, 0 skipped")


def test_steps_that_need_a_failed_one_are_skipped_and_the_others_run(monkeypatch: pytest.MonkeyPatch) -> None:
    from infusion_desk.services import demo

    def broken(*_args: object, **_kwargs: object) -> None:
        raise StepFailed("the demo clinic could not be written")

    monkeypatch.setattr(demo, "generate_demo", broken)
    code, lines = _run()
    assert code == 1
    steps = _steps(lines)
    assert steps["open encrypted database"][0] == "PASS"
    assert steps["build demo clinic"] == ("FAIL", "the demo clinic could not be written")
    assert steps["sign in"] == ("SKIP", "needs 'build demo clinic'")
    assert steps["appeal letter PDF"] == ("SKIP", "needs 'post a payer's payment'")
    assert steps["reopen with the passphrase"][0] == "PASS"  # needs only the database
    skipped = sum(status == "SKIP" for status, _note in steps.values())
    assert lines[-1].startswith(f"Self-test FAILED: 2 of {len(STEPS)} steps passed, 1 failed, {skipped} skipped")


def test_pdf_check_refuses_what_is_not_a_whole_pdf() -> None:
    with pytest.raises(StepFailed, match="is empty"):
        pdf_pages(b"", "the statement")
    with pytest.raises(StepFailed, match="cut short"):
        pdf_pages(b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj\n", "the statement")
    with pytest.raises(StepFailed, match="has no page"):
        pdf_pages(b"%PDF-1.4\n1 0 obj << /Type /Pages /Count 0 >> endobj\n%%EOF\n", "the statement")
    two = b"%PDF-1.4\n<< /Type /Page >>\n<< /Type/Page >>\n<< /Type /Pages /Count 2 >>\n%%EOF\n"
    assert pdf_pages(two, "the statement") == 2


def test_what_the_self_test_imports_needs_no_qt() -> None:
    """It runs on a server without a display: none of the modules its steps use may pull in PySide6."""
    tree = ast.parse(Path(selftest.__file__).read_text(encoding="utf-8"))
    modules = sorted(
        {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    )
    assert "infusion_desk.services.statements" in modules
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
