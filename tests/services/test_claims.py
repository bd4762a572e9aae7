"""Claims from a demo clinic's signed visits: built, scrubbed, exported, acknowledged."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.models import (
    Claim,
    ClaimBatch,
    ClaimLine,
    ClearinghouseProfile,
    Drug,
    DrugNdc,
    InboundFile,
    Patient,
    Visit,
)
from infusion_desk.models.enums import BatchStatus, ClaimStatus, VisitStatus
from infusion_desk.services.acknowledgements import AcknowledgementService
from infusion_desk.services.app import Services
from infusion_desk.services.batches import BatchService
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.demo import generate_demo
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from tests.billing.x12.pyx12_check import pyx12_errors

TODAY = date(2026, 11, 20)


@pytest.fixture
def clinic(services: Services) -> Services:
    generate_demo(services.db, patients=12, months=2, seed=3, today=TODAY)
    return services


def _biller(services: Services):  # type: ignore[no-untyped-def]
    return services.auth.sign_in("biller", "demo")


def _built(services: Services) -> list[int]:
    summary = ClaimService(services.db).build(_biller(services), today=TODAY)
    return list(summary.claim_ids)


def test_every_signed_visit_becomes_one_claim_with_numbered_priced_lines(clinic: Services) -> None:
    summary = ClaimService(clinic.db).build(_biller(clinic), today=TODAY)
    with clinic.db.session() as session:
        signed = session.scalar(
            sa.select(sa.func.count(Visit.id)).where(
                Visit.signed_at.is_not(None), Visit.status == VisitStatus.COMPLETED
            )
        )
        assert len(summary.claim_ids) + len(summary.skipped) == signed
        claims = session.scalars(sa.select(Claim)).all()
        assert claims and all(c.visit_id is not None for c in claims)
        assert len({c.visit_id for c in claims}) == len(claims)
        lines = session.scalars(sa.select(ClaimLine)).all()
        assert len({line.line_control_number for line in lines}) == len(lines)
        prices = dict(session.execute(sa.select(Drug.hcpcs, Drug.unit_price)).all())
        stocked = set(session.scalars(sa.select(Drug.hcpcs).join(DrugNdc, DrugNdc.drug_id == Drug.id)))
        for claim in claims:
            assert claim.total_charge == sum(line.charge for line in claim.lines)
            assert 1 <= len(claim.diagnoses) <= 12
            assert claim.history[0].to_status is ClaimStatus.DRAFT
            for line in claim.lines:
                assert line.line_control_number.startswith(claim.claim_number)
                if line.code in prices:
                    assert line.charge == (line.units * prices[line.code]).quantize(Decimal("0.01"))
                    if line.code in stocked:  # the chair's NDC, or the catalog's only one
                        assert line.ndc and line.ndc_quantity and line.ndc_quantity > 0
                    else:  # no package on file: the scrubber asks for one
                        assert line.ndc is None
                        assert any(f["code"] == "NDC_MISSING" for f in claim.findings)
                else:
                    assert line.ndc is None
    assert summary.ready > 0
    # building again finds nothing new
    again = ClaimService(clinic.db).build(_biller(clinic), today=TODAY)
    assert again.claim_ids == ()


def test_front_desk_cannot_build_claims(clinic: Services) -> None:
    with pytest.raises(PermissionDenied):
        ClaimService(clinic.db).build(clinic.auth.sign_in("frontdesk", "demo"), today=TODAY)


def test_a_fixed_record_fixes_the_claim_on_the_next_scrub(clinic: Services) -> None:
    service = ClaimService(clinic.db)
    actor = _biller(clinic)
    ids = _built(clinic)
    with clinic.db.session() as session:
        claim = session.scalars(
            sa.select(Claim).where(Claim.id.in_(ids), Claim.status == ClaimStatus.READY).limit(1)
        ).one()
        claim_id, patient_id = claim.id, claim.patient_id
        patient = session.get(Patient, patient_id)
        assert patient is not None
        address = patient.address1
        patient.address1 = ""
    service.scrub(actor, [claim_id], today=TODAY)
    detail = service.detail(actor, claim_id, today=TODAY)
    assert detail.row.status is ClaimStatus.DRAFT
    assert any(f.blocks and f.subject.startswith("patient") for f in detail.findings)
    assert detail.history[-1].to_status is ClaimStatus.DRAFT and detail.history[-1].reason.startswith("Scrub")
    with clinic.db.session() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        patient.address1 = address
    service.scrub(actor, [claim_id], today=TODAY)
    assert service.detail(actor, claim_id, today=TODAY).row.status is ClaimStatus.READY


def test_detail_carries_the_rule_trace_of_each_line(clinic: Services) -> None:
    ids = _built(clinic)
    detail = ClaimService(clinic.db).detail(_biller(clinic), ids[0], today=TODAY)
    assert detail.lines and all(line.explanation for line in detail.lines)
    assert any(line.code.startswith("9") and "minute" in line.explanation.lower() or line.code.startswith("J")
               for line in detail.lines)


def _export(services: Services, out: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    return BatchService(services.db).export(_biller(services), out_dir=out, today=TODAY, **kwargs)  # type: ignore[arg-type]


def test_ready_claims_export_to_837p_files_that_validate_and_read_back(clinic: Services, tmp_path: Path) -> None:
    _built(clinic)
    actor = _biller(clinic)
    with clinic.db.session() as session:
        ready = list(session.scalars(sa.select(Claim.id).where(Claim.status == ClaimStatus.READY)))
    expected = {c.claim_number: c for c in ClaimService(clinic.db).claim_data(actor, ready)}
    summary = _export(clinic, tmp_path)
    assert summary.files and sum(f.claims for f in summary.files) == len(ready)
    seen: dict[str, object] = {}
    for exported in summary.files:
        text = exported.path.read_text(encoding="ascii")
        assert pyx12_errors(text) == []
        for claim in read_837p(text):
            seen[claim.claim_number] = claim
            assert claim.lines == expected[claim.claim_number].lines
            assert claim.diagnoses == expected[claim.claim_number].diagnoses
            assert claim.total_charge == expected[claim.claim_number].total_charge
    assert set(seen) == set(expected)
    assert not list(tmp_path.glob(".*.part"))
    with clinic.db.session() as session:
        statuses = set(session.scalars(sa.select(Claim.status).where(Claim.id.in_(ready))))
        assert statuses == {ClaimStatus.BATCHED}
        batch = session.get(ClaimBatch, summary.files[0].batch_id)
        assert batch is not None and batch.status is BatchStatus.EXPORTED
    # nothing left to export
    assert _export(clinic, tmp_path).files == ()


def test_claims_per_file_splits_batches_with_their_own_control_numbers_and_cancel_stops(
    clinic: Services, tmp_path: Path
) -> None:
    _built(clinic)
    with clinic.db.session() as session:
        session.execute(sa.update(ClearinghouseProfile).values(claims_per_file=2))
        ready = session.scalar(sa.select(sa.func.count(Claim.id)).where(Claim.status == ClaimStatus.READY))
    assert ready and ready > 4
    calls: list[tuple[int, int]] = []
    summary = _export(clinic, tmp_path, progress=lambda done, total: calls.append((done, total)),
                      cancelled=lambda: len(calls) >= 2)
    assert summary.cancelled and len(summary.files) == 2
    assert calls == [(2, ready), (4, ready)]
    numbers = [f.interchange_control_number for f in summary.files]
    assert len(set(numbers)) == 2
    with clinic.db.session() as session:
        left = session.scalar(sa.select(sa.func.count(Claim.id)).where(Claim.status == ClaimStatus.READY))
    assert left == ready - 4


def test_reexport_is_byte_for_byte_and_confirming_the_upload_submits(clinic: Services, tmp_path: Path) -> None:
    _built(clinic)
    first = _export(clinic, tmp_path / "a").files[0]
    service = BatchService(clinic.db)
    actor = _biller(clinic)
    again = service.reexport(actor, first.batch_id, tmp_path / "b")
    assert again.read_bytes() == first.path.read_bytes()
    assert service.confirm_upload(actor, first.batch_id) == first.claims
    with clinic.db.session() as session:
        statuses = set(session.scalars(sa.select(Claim.status).where(Claim.batch_id == first.batch_id)))
    assert statuses == {ClaimStatus.SUBMITTED}
    with pytest.raises(ValidationFailed):
        service.confirm_upload(actor, first.batch_id)


def test_a_failed_export_loses_nothing_and_never_reuses_a_control_number(
    clinic: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _built(clinic)
    from infusion_desk.services import batches

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("disk unplugged")

    out = tmp_path / "out"
    monkeypatch.setattr(batches, "render_batch", broken)
    with pytest.raises(RuntimeError):
        _export(clinic, out)
    monkeypatch.undo()
    with clinic.db.session() as session:
        assert session.scalar(sa.select(sa.func.count(ClaimBatch.id))) == 0
        assert not session.scalar(sa.select(sa.func.count(Claim.id)).where(Claim.status == ClaimStatus.BATCHED))
    assert list(out.iterdir()) == []
    summary = _export(clinic, out)
    assert summary.files[0].interchange_control_number > 1  # the failed attempt's number is never reused


def test_a_file_that_cannot_be_renamed_is_recorded_and_can_be_written_again(
    clinic: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _built(clinic)
    from infusion_desk.services import batches

    def refuse(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    out = tmp_path / "out"
    monkeypatch.setattr(batches.os, "replace", refuse)
    with pytest.raises(ValidationFailed) as failure:
        _export(clinic, out)
    monkeypatch.undo()
    assert "Re-export" in str(failure.value)
    assert list(out.iterdir()) == []  # neither the final file nor its temporary one
    with clinic.db.session() as session:
        batch_id = session.scalar(sa.select(ClaimBatch.id))
        assert set(session.scalars(sa.select(Claim.status).where(Claim.batch_id == batch_id))) == {
            ClaimStatus.BATCHED
        }
    assert batch_id is not None
    path = BatchService(clinic.db).reexport(_biller(clinic), batch_id, out)
    assert path.exists()


def _999(batch: ClaimBatch, accepted: bool) -> str:
    code = "A" if accepted else "R"
    body = [
        "ST*999*0001*005010X231A1",
        f"AK1*HC*{batch.group_control_number}*005010X222A1",
        f"AK2*837*{batch.transaction_control_number:04d}*005010X222A1",
    ]
    if not accepted:
        body += ["IK3*NM1*8*2010BA*8", "IK4*9*67*7*BAD"]
    body += [f"IK5*{code}", f"AK9*{code}*1*1*{1 if accepted else 0}"]
    body.append(f"SE*{len(body) + 1}*0001")
    return (
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*DEMOCLINIC     *261121*1200*^*00501*000000901*0*T*:~"
        "GS*FA*CLEARINGHOUSE*DEMOCLINIC*20261121*1200*901*X*005010X231A1~"
        + "~".join(body)
        + "~GE*1*901~IEA*1*000000901~"
    )


def _277(claim_numbers: list[str], rejected: str | None) -> str:
    segments = [
        "ST*277*0001*005010X214",
        "BHT*0085*08*BATCH1*20261121*1200*TH",
        "HL*1**20*1",
        "NM1*PR*2*FICTIONAL PAYER*****PI*DEMO1",
        "TRN*1*T1",
        "DTP*050*D8*20261121",
        "DTP*009*D8*20261121",
        "HL*2*1*21*1",
        "NM1*41*2*DEMO CLINIC*****46*DEMOCLINIC",
        "TRN*2*B1",
        "STC*A1:19*20261121*WQ*100",
        "QTY*90*1",
        "AMT*YU*100",
        "HL*3*2*19*1",
        "NM1*85*2*DEMO CLINIC*****XX*1234567893",
    ]
    number = 4
    for claim_number in claim_numbers:
        bad = claim_number == rejected
        segments += [
            f"HL*{number}*3*PT",
            "NM1*QC*1*TESTPATIENT*ZED",
            f"TRN*2*{claim_number}",
            "STC*A7:562:85*20261121*U*100" if bad else "STC*A2:20*20261121*WQ*100",
            f"REF*1K*ICN{claim_number}",
            "DTP*472*D8*20261101",
        ]
        number += 1
    segments.append(f"SE*{len(segments) + 1}*0001")
    return (
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*DEMOCLINIC     *261121*1200*^*00501*000000902*0*T*:~"
        "GS*HN*CLEARINGHOUSE*DEMOCLINIC*20261121*1200*902*X*005010X214~"
        + "~".join(segments)
        + "~GE*1*902~IEA*1*000000902~"
    )


def test_acknowledgements_move_batches_and_claims_and_are_applied_once(clinic: Services, tmp_path: Path) -> None:
    _built(clinic)
    exported = _export(clinic, tmp_path).files[0]
    actor = _biller(clinic)
    service = AcknowledgementService(clinic.db)
    with clinic.db.session() as session:
        batch = session.get(ClaimBatch, exported.batch_id)
        assert batch is not None
        ack = _999(batch, accepted=True)
        numbers = sorted(c.claim_number for c in batch.claims)
    result = service.import_text(actor, ack, "answer.999")
    assert result.batches_accepted == [exported.batch_id]
    with clinic.db.session() as session:
        batch = session.get(ClaimBatch, exported.batch_id)
        assert batch is not None and batch.status is BatchStatus.ACKNOWLEDGED
        assert {c.status for c in batch.claims} == {ClaimStatus.SUBMITTED}
    assert service.import_text(actor, ack, "answer.999").already_imported

    rejected = numbers[0]
    result = service.import_text(actor, _277([*numbers, "C9999999"], rejected), "answer.277")
    assert sorted(result.claims_accepted) == numbers[1:]
    assert [n for n, _ in result.claims_rejected] == [rejected]
    assert result.unknown == ["claim C9999999 (277CA)"]
    rows = ClaimService(clinic.db).claims(actor, statuses=[ClaimStatus.REJECTED], today=TODAY)
    assert [r.claim_number for r in rows] == [rejected]
    assert "562" in rows[0].first_problem or "NPI" in rows[0].first_problem
    with clinic.db.session() as session:
        accepted = session.scalars(sa.select(Claim).where(Claim.claim_number == numbers[-1])).one()
        assert accepted.status is ClaimStatus.ACCEPTED
        assert accepted.payer_claim_control_number == f"ICN{numbers[-1]}"
    batches = BatchService(clinic.db).batches(actor)
    assert "999 accepted" in batches[0].acknowledgements and "277CA" in batches[0].acknowledgements


def test_a_rejecting_999_sends_the_claims_back_to_the_queue(clinic: Services, tmp_path: Path) -> None:
    _built(clinic)
    exported = _export(clinic, tmp_path).files[0]
    with clinic.db.session() as session:
        batch = session.get(ClaimBatch, exported.batch_id)
        assert batch is not None
        ack = _999(batch, accepted=False)
    result = AcknowledgementService(clinic.db).import_text(_biller(clinic), ack, "answer.999")
    assert result.batches_rejected == [exported.batch_id]
    assert len(result.claims_rejected) == exported.claims
    with clinic.db.session() as session:
        batch = session.get(ClaimBatch, exported.batch_id)
        assert batch is not None and batch.status is BatchStatus.REJECTED
        assert {c.status for c in batch.claims} == {ClaimStatus.REJECTED}
    # a scrub of every open claim leaves them rejected, the reason in view, until someone looks
    service = ClaimService(clinic.db)
    service.scrub(_biller(clinic), today=TODAY)
    rows = service.claims(_biller(clinic), statuses=[ClaimStatus.REJECTED], today=TODAY)
    assert len(rows) == exported.claims and all("999" in r.first_problem for r in rows)
    # once fixed, scrubbing those claims makes them ready to go out in a new batch
    service.scrub(_biller(clinic), [r.id for r in rows], today=TODAY)
    second = _export(clinic, tmp_path / "again")
    assert sum(f.claims for f in second.files) >= exported.claims


def test_a_malformed_acknowledgement_changes_nothing(clinic: Services) -> None:
    with pytest.raises(ValidationFailed) as failure:
        AcknowledgementService(clinic.db).import_text(_biller(clinic), "ISA*00*garbage", "bad.999")
    assert "Nothing was changed" in str(failure.value)
    with clinic.db.session() as session:
        assert session.scalar(sa.select(sa.func.count(InboundFile.id))) == 0


def test_old_claims_are_filtered_by_age_and_status(clinic: Services) -> None:
    _built(clinic)
    service = ClaimService(clinic.db)
    actor = _biller(clinic)
    everything = service.claims(actor, today=TODAY)
    old = service.claims(actor, min_age_days=30, today=TODAY)
    assert old and len(old) < len(everything)
    assert all(r.service_date <= TODAY - timedelta(days=30) for r in old)
    ready = service.claims(actor, statuses=[ClaimStatus.READY], today=TODAY)
    assert ready and all(r.status is ClaimStatus.READY for r in ready)


def test_exported_batches_upload_by_sftp_and_become_submitted(clinic: Services, tmp_path: Path) -> None:
    import paramiko

    from tests.services.sftp_server import PASSWORD, USERNAME, SftpTestServer

    _built(clinic)
    with clinic.db.session() as session:
        session.execute(sa.update(ClearinghouseProfile).values(claims_per_file=3))
    files = _export(clinic, tmp_path / "out").files[:2]
    root = tmp_path / "server"
    (root / "inbound").mkdir(parents=True)
    service = BatchService(clinic.db)
    actor = _biller(clinic)
    known_hosts = tmp_path / "known_hosts"
    with SftpTestServer(root, paramiko.ECDSAKey.generate()) as server:
        with clinic.db.session() as session:
            session.execute(
                sa.update(ClearinghouseProfile).values(
                    sftp_host="127.0.0.1", sftp_port=server.port, sftp_username=USERNAME, sftp_remote_dir="/inbound"
                )
            )
        result = service.upload(
            actor, [f.batch_id for f in files], secret=PASSWORD, known_hosts=known_hosts, trust_new_host=True
        )
    assert len(result.remote_paths) == 2
    for exported in files:
        assert (root / "inbound" / exported.path.name).read_bytes() == exported.path.read_bytes()
    with clinic.db.session() as session:
        for exported in files:
            batch = session.get(ClaimBatch, exported.batch_id)
            assert batch is not None and batch.status is BatchStatus.SUBMITTED
            assert {c.status for c in batch.claims} == {ClaimStatus.SUBMITTED}
    with pytest.raises(ValidationFailed, match="Only exported batches"):
        service.upload(actor, [files[0].batch_id], secret=PASSWORD, known_hosts=known_hosts)


def test_what_the_837p_writer_would_refuse_blocks_the_claim_at_the_scrub(clinic: Services, tmp_path: Path) -> None:
    ids = _built(clinic)
    with clinic.db.session() as session:
        claim = session.scalars(sa.select(Claim).where(Claim.id.in_(ids), Claim.status == ClaimStatus.READY)).first()
        assert claim is not None
        claim_id = claim.id
        claim.lines[0].modifiers = ["JW", "XU", "59", "25", "GA"]  # five modifiers: SV101 holds four
    ClaimService(clinic.db).scrub(_biller(clinic), [claim_id], today=TODAY)
    detail = ClaimService(clinic.db).detail(_biller(clinic), claim_id, today=TODAY)
    assert detail.row.status is ClaimStatus.DRAFT
    assert any(f.blocks and "modifier" in f.message.lower() for f in detail.findings)
    summary = _export(clinic, tmp_path)  # the export goes on without it
    assert summary.files


def test_a_rejecting_ta1_sends_the_whole_file_back(clinic: Services, tmp_path: Path) -> None:
    _built(clinic)
    exported = _export(clinic, tmp_path).files[0]
    ta1 = (
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*DEMOCLINIC     *261121*1200*^*00501*000000903*0*T*:~"
        f"TA1*{exported.interchange_control_number:09d}*261120*1200*R*006~"
        "IEA*0*000000903~"
    )
    result = AcknowledgementService(clinic.db).import_text(_biller(clinic), ta1, "answer.ta1")
    assert result.batches_rejected == [exported.batch_id]
    assert len(result.claims_rejected) == exported.claims
    assert all(reason.startswith("The clearinghouse rejected the whole file") for _, reason in result.claims_rejected)
    with clinic.db.session() as session:
        batch = session.get(ClaimBatch, exported.batch_id)
        assert batch is not None and batch.status is BatchStatus.REJECTED
