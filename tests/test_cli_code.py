"""``infusion-desk code``: the fixed JSON contract on the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

VISIT = {
    "payer": {"type": "medicare"},
    "date_of_service": "2026-03-02",
    "diagnoses": ["K50.90"],
    "primary_reason": "a1",
    "evaluation_and_management": {"code": "99214", "significant_separately_identifiable": True},
    "administrations": [
        {
            "id": "a1",
            "hcpcs": "J1745",
            "drug": "infliximab",
            "admin_class": "complex_biologic",
            "method": "infusion",
            "route": "IV",
            "site": "A",
            "encounter": "1",
            "bag": "b1",
            "start": "09:02",
            "stop": "11:10",
            "interruptions": [{"start": "09:40", "stop": "09:50"}],
            "dose": {"amount": 365, "unit": "mg"},
            "waste": {"amount": 35, "unit": "mg"},
            "billing_unit": {"amount": 10, "unit": "mg"},
            "single_dose_container": True,
            "flags": [],
        },
    ],
}


def run(
    args: list[str], stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infusion_desk", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_codes_the_issue_example_from_standard_input() -> None:
    result = run(["code", "-"], json.dumps(VISIT))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    lines = [(line["code"], line["units"], line["modifiers"]) for line in out["lines"]]
    # 128 min less a 10 min pause = 118 min: initial hour + one add-on hour (91-150 min).
    assert lines == [
        ("96413", 1, []),
        ("96415", 1, []),
        ("99214", 1, ["25"]),
        ("J1745", 37, []),
        ("J1745", 3, ["JW"]),
    ]
    assert "118 min" in out["lines"][1]["explanation"]
    assert out["lines"][1]["administrations"] == ["a1"]


def test_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(VISIT), encoding="utf-8")
    result = run(["code", str(path)])
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["lines"][0]["code"] == "96413"


def test_malformed_input_exits_2_naming_the_field() -> None:
    broken = json.loads(json.dumps(VISIT))
    broken["administrations"][0]["start"] = "nine o'clock"
    result = run(["code", "-"], json.dumps(broken))
    assert result.returncode == 2
    assert "administrations[0].start" in result.stderr
    assert result.stdout == ""

    result = run(["code", "-"], "{not json")
    assert result.returncode == 2 and "not JSON" in result.stderr

    missing = {k: v for k, v in VISIT.items() if k != "payer"}
    result = run(["code", "-"], json.dumps(missing))
    assert result.returncode == 2 and "payer" in result.stderr


def test_stop_before_start_is_reported_not_coded() -> None:
    visit = json.loads(json.dumps(VISIT))
    visit["administrations"][0]["stop"] = "08:00"
    visit["administrations"][0]["interruptions"] = []
    result = run(["code", "-"], json.dumps(visit))
    assert result.returncode == 0
    out = json.loads(result.stdout)
    assert not any(line["code"] in ("96413", "J1745") for line in out["lines"])
    assert any(w["code"] == "INVALID_TIMES" and "a1" in w["message"] for w in out["warnings"])


def test_uses_the_clinic_payer_settings_with_a_database(tmp_path: Path) -> None:
    import os

    from infusion_desk.models import Payer
    from infusion_desk.models.enums import PayerType
    from infusion_desk.services.app import Services

    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    services, _ = Services.open(url)  # encrypted; the child process opens it with the recovery code
    db = services.db
    assert db.key is not None
    env = {**os.environ, "INFUSION_DESK_RECOVERY_CODE": db.key.recovery_code()}
    with db.session() as session:
        session.add(
            Payer(
                name="Acme Health",
                payer_id="ACME1",
                payer_type=PayerType.COMMERCIAL,
                coding_settings={"complex_biologic_admin": "therapeutic"},
            )
        )
    db.dispose()
    visit = {**VISIT, "payer": {"type": "commercial", "name": "Acme Health"}}
    result = run(["--database-url", url, "code", "-"], json.dumps(visit), env)
    assert result.returncode == 0, result.stderr
    codes = [line["code"] for line in json.loads(result.stdout)["lines"]]
    assert codes[:2] == ["96365", "96366"]


def test_a_file_not_in_utf8_exits_2_saying_so(tmp_path: Path) -> None:
    path = tmp_path / "visit.json"
    raw = json.dumps({**VISIT, "note": "Zoë Testpatient"}, ensure_ascii=False).encode("latin-1")
    path.write_bytes(raw)
    where = raw.index("ë".encode("latin-1")) + 1
    result = run(["code", str(path)])
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"infusion-desk: {path} is not UTF-8 text (byte {where} is 0xeb): "
        "save the visit as UTF-8 JSON"
    )
    assert result.stdout == ""


def test_a_number_too_long_to_read_exits_2_saying_so() -> None:
    text = json.dumps(VISIT).replace('"amount": 365', '"amount": ' + "9" * 5000)
    result = run(["code", "-"], text)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "infusion-desk: standard input holds a number of more than 4,300 digits: no visit field takes one; "
        "check the file"
    )
    assert result.stdout == ""


def test_arrays_nested_past_reading_exit_2_saying_so() -> None:
    result = run(["code", "-"], "[" * 200_000)
    assert result.returncode == 2
    assert result.stderr.strip() == "infusion-desk: standard input nests arrays or objects too deeply to read"
